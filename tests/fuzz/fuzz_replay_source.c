/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an auditor is handed (recorder/replay-source.c): journal export files
 * (journalctl -o export, text and binary fields) and spool files, read
 * through the public reader exactly as lockbox-replay does (a memfd stands
 * for the file). Byte 0 picks the format. Checks:
 *  - export: every record the reader takes comes from an entry whose
 *    journald-verified _UID is a trusted writer (DESIGN: only credentials
 *    an operator or local user cannot have count; an _EXE field is not such
 *    a credential). A small reference parser of the export format here says
 *    which entries those are;
 *  - export and spool: `list` works on the same bytes;
 *  - spool: reading the file gives the same records as adding its complete
 *    lines directly, and a file that holds another session is refused. */
#include "config.h"

#include "fuzz.h"
#include "replay-records.h"
#include "replay-source.h"
#include "util.h"

#define SESSION "s-1"

struct ref_field {
        const uint8_t *p;
        size_t n;
        bool set;
};

/* The records of every entry written by a trusted _UID, in order, as one
 * '\n'-separated text. Stops at the first malformed entry, like the reader. */
static void reference(const struct lb_source *s, const uint8_t *d, size_t n, char **ret, size_t *ret_n) {
        size_t i = 0, outn = 0;
        char *out = malloc(n + 2);
        struct ref_field uid = {}, rec = {};
        bool any = false;

        if (!out)
                abort();
        for (;;) {
                bool end = i >= n;
                const uint8_t *nl = end ? NULL : memchr(d + i, '\n', n - i);
                size_t l = end ? 0 : nl ? (size_t) (nl - (d + i)) : n - i;
                if (!end && nl && l == 0) { /* empty line */
                        i++;
                        if (!any)
                                continue;
                } else if (!end) {
                        const uint8_t *line = d + i, *eq = memchr(line, '=', l);
                        any = true;
                        i += l + (nl ? 1 : 0);
                        if (eq) {
                                size_t kl = (size_t) (eq - line);
                                struct ref_field f = { eq + 1, l - kl - 1, true };
                                if (kl == 4 && memcmp(line, "_UID", 4) == 0)
                                        uid = f;
                                else if (kl == 15 && memcmp(line, "LOCKBOX_RECORDS", 15) == 0)
                                        rec = f;
                                continue;
                        }
                        if (!nl || n - i < 8)
                                break; /* malformed: stop */
                        uint64_t size = 0;
                        for (int b = 7; b >= 0; b--)
                                size = (size << 8) | d[i + b];
                        i += 8;
                        if (size > n - i || n - i - size < 1 || d[i + size] != '\n')
                                break;
                        struct ref_field f = { d + i, (size_t) size, true };
                        if (l == 4 && memcmp(line, "_UID", 4) == 0)
                                uid = f;
                        else if (l == 15 && memcmp(line, "LOCKBOX_RECORDS", 15) == 0)
                                rec = f;
                        i += size + 1;
                        continue;
                }
                /* end of an entry */
                if (any && rec.set && uid.set && uid.n > 0 && uid.n < 32) {
                        char buf[32];
                        uint64_t u;
                        memcpy(buf, uid.p, uid.n);
                        buf[uid.n] = '\0';
                        bool trusted = false;
                        if (lb_parse_u64(buf, UINT32_MAX, &u) >= 0)
                                for (size_t w = 0; w < s->n_writers; w++)
                                        trusted |= s->writers[w] == (uid_t) u;
                        if (trusted) {
                                memcpy(out + outn, rec.p, rec.n);
                                outn += rec.n;
                                out[outn++] = '\n';
                        }
                }
                uid = rec = (struct ref_field) {};
                any = false;
                if (end)
                        break;
        }
        *ret = out;
        *ret_n = outn;
}

static bool line_in(const char *text, size_t n, const char *line, size_t l) {
        for (const char *p = text; p + l <= text + n;) {
                const char *e = memchr(p, '\n', (size_t) (text + n - p));
                size_t k = e ? (size_t) (e - p) : (size_t) (text + n - p);
                if (k == l && memcmp(p, line, l) == 0)
                        return true;
                if (!e)
                        break;
                p = e + 1;
        }
        return false;
}

static void list(struct lb_source *s) {
        struct lb_session_info *infos = NULL;
        size_t n = 0;
        struct lb_claims untrusted = {};

        if (lb_source_list(s, &infos, &n, &untrusted) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                json_t *j = lb_session_info_to_json(&infos[i]);
                /* every listed session has a JSON summary (list --json drops none) */
                FUZZ_CHECK(j, "no JSON for a listed session");
                /* and only session ids are listed (the rest counts as malformed) */
                FUZZ_CHECK(infos[i].session &&
                                   lb_session_id_valid(infos[i].session, strlen(infos[i].session)),
                           "listed a session whose name is not an id");
                json_decref(j);
                lb_session_info_done(&infos[i]);
        }
        free(infos);
        lb_claims_done(&untrusted);
}

static void export(const uint8_t *data, size_t size) {
        char path[32];
        int fd = fuzz_memfile(data, size, path);
        char *paths[] = { path, NULL };
        struct lb_source s = { .type = LB_SOURCE_EXPORT, .paths = paths };
        struct lb_reader *rd = NULL;
        struct lb_recording r = {};
        _cleanup_free_ char *ref = NULL;
        size_t refn = 0;

        lb_source_trust_default(&s, NULL);
        if (lb_reader_open(&s, SESSION, false, &rd) >= 0) {
                (void) lb_reader_read(rd, &r);
                reference(&s, data, size, &ref, &refn);
                for (size_t i = 0; i < r.n && !fuzz_ignore_known("exe-trust"); i++)
                        FUZZ_CHECK(line_in(ref, refn, r.recs[i].line, r.recs[i].line_len),
                                   "record seq %llu taken from an entry whose _UID is not a "
                                   "trusted writer: %.*s",
                                   (unsigned long long) r.recs[i].seq, (int) MIN(r.recs[i].line_len, 200),
                                   r.recs[i].line);
                lb_reader_free(rd);
        }
        lb_recording_done(&r);
        list(&s);
        close(fd);
}

static void spool(const uint8_t *data, size_t size) {
        char path[32];
        int fd = fuzz_memfile(data, size, path);
        char *paths[] = { path, NULL };
        struct lb_source s = { .type = LB_SOURCE_SPOOL, .paths = paths };
        struct lb_reader *rd = NULL;
        struct lb_recording r = {}, want = {};
        const uint8_t *last = size ? memrchr(data, '\n', size) : NULL;
        int k;

        if (lb_reader_open(&s, SESSION, false, &rd) < 0)
                goto out;
        k = lb_reader_read(rd, &r);
        if (last)
                (void) lb_recording_add_lines(&want, (const char *) data, (size_t) (last - data) + 1);
        {
                const struct lb_rec *start = lb_recording_find(&want, 1);
                const char *ses = start ? lb_json_str(start->obj, "session") : NULL;
                if (ses && !streq(ses, SESSION)) {
                        FUZZ_CHECK(k == -ENOENT, "a spool file of session %s read as %s (%d)", ses,
                                   SESSION, k);
                        goto out;
                }
        }
        if (k >= 0) {
                FUZZ_CHECK(r.n == want.n, "reader took %zu records, the lines hold %zu", r.n, want.n);
                for (size_t i = 0; i < r.n; i++)
                        FUZZ_CHECK(r.recs[i].seq == want.recs[i].seq &&
                                           r.recs[i].line_len == want.recs[i].line_len &&
                                           memcmp(r.recs[i].line, want.recs[i].line, r.recs[i].line_len) == 0,
                                   "reader and lines differ at %zu", i);
        }
out:
        lb_reader_free(rd);
        lb_recording_done(&r);
        lb_recording_done(&want);
        list(&s);
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        if (data[0] % 2 == 0)
                export(data + 1, size - 1);
        else
                spool(data + 1, size - 1);
        return 0;
}
