/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Session records as lockbox-replay reads them (recorder/replay-records.c):
 * the text of a journal LOCKBOX_RECORDS field or a spool chunk, '\n'-separated
 * JSON lines, from a host under investigation. Everything replay does with
 * them runs: dedupe, sort, verify (and the words for each problem), the
 * `list` summary, payload and argv decoding, the argv rendering for people,
 * and the asciicast export. Checks:
 *  - verify counts every record it kept and an OK chain has no problem;
 *  - the argv rendering and the problem words hold no terminal control;
 *  - the export is one JSON header line and one event line per chunk, with
 *    no raw C0 control byte, and decodes back to exactly the sanitized output
 *    and the typed input (lossless), whatever the records hold. */
#include "config.h"

#include <jansson.h>

#include "fuzz.h"
#include "replay-asciicast.h"
#include "replay-records.h"
#include "replay-sanitize.h"
#include "util.h"

static void check_export(struct lb_recording *r) {
        _cleanup_free_ char *text = NULL;
        struct lb_buf want_o = {}, want_i = {}, got_o = {}, got_i = {};
        struct lb_sanitizer san;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        int k;

        if (!f)
                abort();
        k = lb_asciicast_export(r, true, false, f);
        fclose(f);
        if (k < 0)
                return;

        /* what the export must hold: the same walk as replay's player */
        lb_sanitize_init(&san);
        for (size_t i = 0; i < r->n; i++) {
                const struct lb_rec *rec = &r->recs[i];
                _cleanup_free_ unsigned char *d = NULL;
                size_t dl = 0;
                const char *stream = lb_json_str(rec->obj, "stream");
                if (lb_rec_data(rec, &d, &dl) < 0)
                        continue;
                if (streq(rec->kind, "out")) {
                        unsigned char *c = malloc(dl + LB_SANITIZE_SLACK);
                        if (!c)
                                abort();
                        lb_buf_put(&want_o, c, lb_sanitize(&san, d, dl, c));
                        free(c);
                } else if (streq(rec->kind, "in") && !lb_rec_hidden_input(rec) &&
                           (!stream || streq(stream, "tty") || streq(stream, "stdin")))
                        lb_buf_put(&want_i, d, dl);
        }
        {
                unsigned char tail[LB_SANITIZE_SLACK];
                lb_buf_put(&want_o, tail, lb_sanitize_finish(&san, tail));
        }

        /* what it holds */
        char *nl = memchr(text, '\n', len);
        FUZZ_CHECK(nl, "export without a header line");
        {
                json_auto_t *h = json_loadb(text, (size_t) (nl - text), 0, NULL);
                FUZZ_CHECK(json_is_object(h), "export header is not a JSON object: %.*s",
                           (int) (nl - text), text);
        }
        for (char *p = nl + 1; p < text + len;) {
                char *e = memchr(p, '\n', (size_t) (text + len - p));
                FUZZ_CHECK(e, "event line without a newline");
                size_t l = (size_t) (e - p);
                long bad = fuzz_unsafe(p, l, NULL, true);
                FUZZ_CHECK(bad < 0, "raw C0 or C1 control byte 0x%02x in an event line",
                           (unsigned char) p[bad]);
                FUZZ_CHECK(l > 4 && p[0] == '[' && p[l - 1] == ']' && p[l - 2] == '"',
                           "event line is not [t, \"x\", \"...\"]: %.*s", (int) l, p);
                /* [T, "o", "body"] */
                char *q = memchr(p, '"', l);
                FUZZ_CHECK(q && q + 6 < e && q[2] == '"' && q[3] == ',' && q[4] == ' ' && q[5] == '"',
                           "event line is not [t, \"x\", \"...\"]: %.*s", (int) l, p);
                char type = q[1];
                const char *body = q + 6;
                size_t bl = (size_t) (e - 2 - body);
                if (type == 'o' || type == 'i') {
                        struct lb_buf *got = type == 'o' ? &got_o : &got_i;
                        FUZZ_CHECK(lb_asciicast_unescape(body, bl, got) >= 0,
                                   "event string does not decode: %.*s", (int) bl, body);
                } else
                        FUZZ_CHECK(type == 'r', "unknown event type %c", type);
                p = e + 1;
        }
        FUZZ_CHECK(got_o.n == want_o.n && (want_o.n == 0 || memcmp(got_o.p, want_o.p, want_o.n) == 0),
                   "exported output differs from the sanitized output (%zu vs %zu bytes)", got_o.n,
                   want_o.n);
        FUZZ_CHECK(got_i.n == want_i.n && (want_i.n == 0 || memcmp(got_i.p, want_i.p, want_i.n) == 0),
                   "exported input differs from the recorded input (%zu vs %zu bytes)", got_i.n,
                   want_i.n);
        lb_buf_done(&want_o);
        lb_buf_done(&want_i);
        lb_buf_done(&got_o);
        lb_buf_done(&got_i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct lb_recording r = {};
        struct lb_verify v = {};
        struct lb_session_info info = { .start_s = -1 };
        int k;

        k = lb_recording_add_lines(&r, (const char *) data, size);
        if (k < 0)
                goto out;
        FUZZ_CHECK((size_t) k == r.n, "added %d but holds %zu", k, r.n);

        if (lb_recording_verify(&r, &v) >= 0) {
                FUZZ_CHECK(v.count <= r.n, "verified %zu of %zu records", v.count, r.n);
                FUZZ_CHECK(!v.ok || v.n_problems == 0, "OK with %zu problems", v.n_problems);
                FUZZ_CHECK(!v.ok || r.n > 0, "an empty recording verified OK");
                for (size_t i = 0; i < v.n_problems; i++) {
                        _cleanup_free_ char *s = lb_problem_format(&v.problems[i]);
                        FUZZ_CHECK(s, "no words for problem kind %d", v.problems[i].kind);
                        FUZZ_CHECK(fuzz_term_unsafe(s, strlen(s), NULL) < 0, "problem words unsafe: %s", s);
                }
                json_auto_t *j = lb_verify_to_json(&v);
                FUZZ_CHECK(j, "verify result has no JSON");
                /* a line whose hash is not a chain hash is not a record */
                const char *head = json_string_value(json_object_get(j, "head"));
                FUZZ_CHECK(!v.count || (head && lb_chain_hex_valid(head)),
                           "verify head is not a chain hash");
        }

        for (size_t i = 0; i < r.n; i++) {
                const struct lb_rec *rec = &r.recs[i];
                _cleanup_free_ unsigned char *d = NULL;
                size_t dl = 0;
                char **argv = NULL;
                size_t *lens = NULL, argc = 0;

                FUZZ_CHECK(lb_recording_find(&r, rec->seq) == rec, "find(%llu) misses",
                           (unsigned long long) rec->seq);
                FUZZ_CHECK(i == 0 || r.recs[i - 1].seq < rec->seq, "not sorted or not deduplicated");
                lb_session_info_add(&info, rec->obj);
                (void) lb_rec_data(rec, &d, &dl);
                if (lb_rec_argv(rec, &argv, &lens, &argc) >= 0) {
                        _cleanup_free_ char *s = lb_argv_render(argv, lens, argc);
                        FUZZ_CHECK(s, "argv not rendered");
                        long bad = fuzz_term_unsafe(s, strlen(s), NULL);
                        FUZZ_CHECK(bad < 0, "argv rendering holds control byte 0x%02x: %s",
                                   (unsigned char) s[bad], s);
                        FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *) s, strlen(s)),
                                   "argv rendering is not UTF-8");
                        lb_strv_free(argv);
                        free(lens);
                }
        }
        {
                json_auto_t *j = lb_session_info_to_json(&info);
                FUZZ_CHECK(j, "session summary has no JSON");
        }
        check_export(&r);
out:
        lb_session_info_done(&info);
        lb_verify_done(&v);
        lb_recording_done(&r);
        return 0;
}
