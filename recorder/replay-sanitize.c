/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "replay-sanitize.h"

#define ESC 0x1b
#define CAN 0x18
#define SUB 0x1a
#define BEL 0x07
#define ENQ 0x05

void lb_sanitize_init(struct lb_sanitizer *s) {
        *s = (struct lb_sanitizer) { .state = LB_SAN_GROUND };
}

/* Private modes that make the terminal send bytes on its own: mouse
 * reporting, focus events, bracketed paste. */
static bool mode_sends_input(unsigned long m) {
        return m == 9 || (m >= 1000 && m <= 1006) || m == 1015 || m == 1016 || m == 2004;
}

/* Decides on a complete CSI: seq holds ESC [ params intermediates final. */
static bool csi_allowed(const uint8_t *seq, size_t len) {
        uint8_t final = seq[len - 1], priv = 0;
        bool dollar = false;
        size_t i = 2;

        if (len > 2 && seq[2] >= 0x3c && seq[2] <= 0x3f)
                priv = seq[2];
        for (size_t k = 2; k + 1 < len; k++)
                if (seq[k] == '$')
                        dollar = true;

        switch (final) {
        case 'n': /* DSR: status and cursor position reports */
        case 'c': /* DA1, DA2 (>), DA3 (=) */
        case 't': /* window operations: move, resize, iconify, report title/size */
        case 'i': /* media copy: printer controller mode */
        case 'x': /* DECREQTPARM */
                return false;
        case 'p':
                return !dollar; /* DECRQM asks for a report; DECSTR (!p) is fine */
        case 'q':
                return priv != '>'; /* XTVERSION; DECSCUSR (SP q) is fine */
        case 'u':
                return priv == 0; /* kitty keyboard protocol queries and pushes */
        case 'h':
        case 'l':
                if (priv != '?')
                        return true;
                /* each ; separated mode */
                for (i = 3; i < len - 1;) {
                        unsigned long m = 0;
                        bool digits = false;
                        while (i < len - 1 && seq[i] >= '0' && seq[i] <= '9') {
                                if (m < 100000)
                                        m = m * 10 + (seq[i] - '0');
                                digits = true;
                                i++;
                        }
                        if (digits && mode_sends_input(m))
                                return false;
                        if (i < len - 1 && seq[i] != ';')
                                return false; /* not a plain mode list */
                        i++;
                }
                return true;
        default:
                return true;
        }
}

/* A C0 control (other than ESC, CAN, SUB, which each state handles) met
 * inside an escape or control sequence: a terminal executes it there as in
 * ground and goes on with the sequence, so it gets ground's rule in every
 * state: ENQ (answerback) is dropped, the others are kept. */
static size_t c0_in_sequence(struct lb_sanitizer *s, uint8_t *o, size_t k, uint8_t c) {
        if (c == ENQ) {
                s->dropped++;
                return k;
        }
        o[k] = c;
        return k + 1;
}

static size_t emit(uint8_t *o, size_t k, const uint8_t *p, size_t n) {
        memcpy(o + k, p, n);
        return k + n;
}

size_t lb_sanitize(struct lb_sanitizer *s, const void *in, size_t n, void *out) {
        const uint8_t *p = in;
        uint8_t *o = out;
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                uint8_t c = p[i];

                switch (s->state) {
                case LB_SAN_GROUND:
                        if (c == ESC) {
                                s->cont = 0;
                                s->state = LB_SAN_ESC;
                        } else if (c == 0xc2) {
                                s->cont = 0;
                                s->state = LB_SAN_UTF8_C2;
                        } else if (c == ENQ)
                                s->dropped++; /* answerback */
                        else if (c >= 0x80 && c <= 0x9f && s->cont == 0)
                                s->dropped++; /* a stray 8-bit C1 control */
                        else {
                                if (c >= 0x80 && c <= 0xbf)
                                        s->cont = s->cont > 0 ? s->cont - 1 : 0;
                                else if (c >= 0xc3 && c <= 0xf4)
                                        s->cont = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
                                else
                                        s->cont = 0;
                                o[k++] = c;
                        }
                        break;

                case LB_SAN_UTF8_C2:
                        s->state = LB_SAN_GROUND;
                        if (c < 0x80 || c > 0x9f) {
                                o[k++] = 0xc2;
                                s->cont = c >= 0xa0 && c <= 0xbf ? 1 : 0;
                                i--; /* reprocess c in ground */
                                break;
                        }
                        if (c == 0x9b) { /* CSI */
                                s->seq[0] = ESC;
                                s->seq[1] = '[';
                                s->len = 2;
                                s->overflow = 0;
                                s->state = LB_SAN_CSI;
                        } else if (c == 0x90 || c == 0x9d || c == 0x98 || c == 0x9e ||
                                   c == 0x9f) { /* DCS OSC SOS PM APC */
                                s->dropped++;
                                s->state = LB_SAN_STRING;
                        } else
                                s->dropped++; /* other C1, ST, DECID (0x9a) */
                        break;

                case LB_SAN_ESC:
                        if (c == '[') {
                                s->seq[0] = ESC;
                                s->seq[1] = '[';
                                s->len = 2;
                                s->overflow = 0;
                                s->state = LB_SAN_CSI;
                        } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
                                s->dropped++;
                                s->state = LB_SAN_STRING;
                        } else if (c == ESC) {
                                /* ESC ESC: the first is lost, as on a terminal */
                        } else if (c == CAN || c == SUB) {
                                s->state = LB_SAN_GROUND;
                        } else if (c < 0x20) {
                                k = c0_in_sequence(s, o, k, c); /* C0 executes inside an escape */
                        } else if (c >= 0x20 && c <= 0x2f) {
                                s->seq[0] = ESC;
                                s->seq[1] = c;
                                s->len = 2;
                                s->overflow = 0;
                                s->state = LB_SAN_ESC_INTER;
                        } else if (c == 'Z' || c == '\\') {
                                /* DECID asks for a report; a stray ST does nothing */
                                s->dropped++;
                                s->state = LB_SAN_GROUND;
                        } else if (c == 0x7f) {
                                /* ignored by terminals */
                        } else if (c >= 0x80) {
                                s->dropped++; /* not an escape: drop ESC, see c in ground */
                                s->state = LB_SAN_GROUND;
                                i--;
                        } else {
                                uint8_t e[2] = { ESC, c };
                                k = emit(o, k, e, 2);
                                s->state = LB_SAN_GROUND;
                        }
                        break;

                case LB_SAN_ESC_INTER:
                        if (c == CAN || c == SUB) {
                                s->state = LB_SAN_GROUND;
                        } else if (c == ESC) {
                                s->state = LB_SAN_ESC;
                        } else if (c < 0x20) {
                                k = c0_in_sequence(s, o, k, c);
                        } else if (c >= 0x7f) {
                                s->dropped++;
                                s->state = LB_SAN_GROUND;
                                if (c >= 0x80)
                                        i--;
                        } else if (c <= 0x2f) {
                                if (s->len < LB_SANITIZE_CSI_MAX)
                                        s->seq[s->len++] = c;
                                else
                                        s->overflow = 1;
                        } else {
                                if (!s->overflow && s->len < LB_SANITIZE_CSI_MAX) {
                                        s->seq[s->len++] = c;
                                        k = emit(o, k, s->seq, s->len);
                                } else
                                        s->dropped++;
                                s->state = LB_SAN_GROUND;
                        }
                        break;

                case LB_SAN_CSI:
                        if (c == CAN || c == SUB) {
                                s->dropped++;
                                s->state = LB_SAN_GROUND;
                        } else if (c == ESC) {
                                s->dropped++;
                                s->state = LB_SAN_ESC;
                        } else if (c < 0x20) {
                                k = c0_in_sequence(s, o, k, c);
                        } else if (c >= 0x20 && c <= 0x3f) {
                                if (s->len < LB_SANITIZE_CSI_MAX - 1)
                                        s->seq[s->len++] = c;
                                else
                                        s->overflow = 1;
                        } else if (c >= 0x40 && c <= 0x7e) {
                                s->seq[s->len++] = c;
                                if (!s->overflow && csi_allowed(s->seq, s->len))
                                        k = emit(o, k, s->seq, s->len);
                                else
                                        s->dropped++;
                                s->state = LB_SAN_GROUND;
                        } else {
                                /* DEL is ignored; bytes >= 0x80 break the sequence */
                                if (c != 0x7f) {
                                        s->dropped++;
                                        s->state = LB_SAN_GROUND;
                                        i--;
                                }
                        }
                        break;

                case LB_SAN_STRING:
                        if (c == BEL || c == CAN || c == SUB)
                                s->state = LB_SAN_GROUND;
                        else if (c == ESC)
                                s->state = LB_SAN_ESC; /* ESC \ ends it; any ESC aborts it */
                        else if (c == 0xc2)
                                s->state = LB_SAN_STRING_C2;
                        break;

                case LB_SAN_STRING_C2:
                        if (c == 0x9c)
                                s->state = LB_SAN_GROUND; /* ST as UTF-8 */
                        else if (c == ESC)
                                s->state = LB_SAN_ESC;
                        else if (c != 0xc2)
                                s->state = LB_SAN_STRING;
                        break;
                }
        }
        return k;
}

size_t lb_sanitize_finish(struct lb_sanitizer *s, void *out) {
        uint8_t *o = out;
        size_t k = 0;

        if (s->state == LB_SAN_UTF8_C2)
                o[k++] = 0xc2;
        s->state = LB_SAN_GROUND;
        s->len = 0;
        s->overflow = 0;
        return k;
}
