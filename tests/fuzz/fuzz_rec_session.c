/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorder's side of the evidence (recorder/record.c, record-session.c)
 * against the player's (replay-records.c): whatever bytes an operator's
 * session produces, the lines the recorder writes verify and replay to the
 * same bytes. Input: byte 0 and 1 steer record kinds and chunk sizes, the
 * rest is terminal data; the same bytes also go to the pure parsers the
 * recorder runs on outside text (the session record file, SSH_ORIGINAL_COMMAND).
 * Checks:
 *  - the chain of start, out/in (masked or not), cmd and end records
 *    verifies OK with no problem, every record found by seq;
 *  - lb_rec_data of each out/in record gives back exactly the chunk written;
 *    a masked record carries no data;
 *  - the cmd record's argv decodes to what was given and its text for
 *    people (lb_rec_argv_text) holds no terminal control. */
#include "config.h"

#include "fuzz.h"
#include "record-session.h"
#include "record.h"
#include "replay-records.h"
#include "util.h"

struct chunk {
        const uint8_t *p;
        size_t n;
        const char *kind;
        bool masked;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct lb_rec_chain c;
        struct lb_buf out = {};
        struct lb_recording r = {};
        struct lb_verify v = {};
        struct lb_rec_session rs = {};
        struct chunk ch[64];
        size_t nch = 0;
        uint8_t steer;
        json_t *o;

        if (size < 2)
                return 0;
        /* the pure parsers on the raw bytes */
        {
                _cleanup_free_ char *s = fuzz_strndup(data, size);
                (void) lb_rec_is_sftp(s);
                if (lb_rec_session_parse((const char *) data, size, &rs) >= 0) {
                        FUZZ_CHECK(lb_name_valid(rs.session, 64) && lb_name_valid(rs.request, 64) &&
                                           lb_name_valid(rs.user, 253) && lb_name_valid(rs.host, 253),
                                   "session record with names that are not names");
                        lb_rec_session_done(&rs);
                }
        }
        steer = data[0];
        size_t step = (size_t) data[1] % 64 + 1;
        data += 2;
        size -= 2;

        lb_rec_chain_init(&c);
        o = json_pack("{s:I, s:s, s:s, s:s}", "t", (json_int_t) 0, "kind", "start", "session", "s-1",
                      "request", "r-1");
        FUZZ_CHECK(o && lb_rec_finish(&c, o, &out) >= 0, "start record failed");
        json_decref(o);
        for (size_t pos = 0; pos < size && nch < ELEMENTSOF(ch); pos += step) {
                struct chunk *k = &ch[nch];
                k->p = data + pos;
                k->n = MIN(step, size - pos);
                k->kind = (steer >> (nch % 8)) & 1 ? "in" : "out";
                k->masked = streq(k->kind, "in") && (k->p[0] & 0x80);
                FUZZ_CHECK(lb_rec_io(&c, k->kind, "tty", 10 * (nch + 1), k->p, k->n, k->masked, &out) >= 0,
                           "lb_rec_io failed");
                nch++;
        }
        /* a cmd record whose argv are the first chunks */
        {
                char *argv[4] = {};
                size_t lens[4] = {}, n = MIN(nch, (size_t) 4);
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++) {
                        argv[i] = fuzz_strndup(ch[i].p, ch[i].n);
                        lens[i] = ch[i].n;
                        _cleanup_free_ char *b64 = lb_base64_encode(ch[i].p, ch[i].n, true);
                        json_array_append_new(a, json_string(b64));
                }
                _cleanup_free_ char *text = lb_rec_argv_text(argv, lens, n);
                FUZZ_CHECK(text, "no argv text");
                long bad = fuzz_term_unsafe(text, strlen(text), NULL);
                FUZZ_CHECK(bad < 0, "argv text holds control byte 0x%02x: %s", (unsigned char) text[bad], text);
                o = json_pack("{s:I, s:s, s:o, s:s, s:s}", "t", (json_int_t) 10 * (nch + 1), "kind", "cmd",
                              "argv", a, "text", text, "source", "audit");
                FUZZ_CHECK(o && lb_rec_finish(&c, o, &out) >= 0, "cmd record failed");
                json_decref(o);
                for (size_t i = 0; i < n; i++)
                        free(argv[i]);
        }
        o = json_pack("{s:I, s:s, s:s}", "t", (json_int_t) 10 * (nch + 2), "kind", "end", "reason", "exit");
        FUZZ_CHECK(o && lb_rec_finish(&c, o, &out) >= 0, "end record failed");
        json_decref(o);

        /* the player's view */
        int added = lb_recording_add_lines(&r, out.p, out.len);
        FUZZ_CHECK(added == (int) nch + 3, "replay took %d of %zu records", added, nch + 3);
        FUZZ_CHECK(lb_recording_verify(&r, &v) >= 0 && v.ok && v.n_problems == 0,
                   "the recorder's own records do not verify (%zu problems, first kind %d)",
                   v.n_problems, v.n_problems ? (int) v.problems[0].kind : -1);
        for (size_t i = 0; i < nch; i++) {
                const struct lb_rec *rec = lb_recording_find(&r, i + 2);
                _cleanup_free_ unsigned char *d = NULL;
                size_t dl = 0;
                FUZZ_CHECK(rec && streq(rec->kind, ch[i].kind), "record %zu missing or of another kind", i + 2);
                if (ch[i].masked) {
                        FUZZ_CHECK(lb_rec_data(rec, &d, &dl) < 0, "masked input has data");
                        continue;
                }
                FUZZ_CHECK(lb_rec_data(rec, &d, &dl) >= 0 && dl == ch[i].n && memcmp(d, ch[i].p, dl) == 0,
                           "record %zu replays other bytes than were written", i + 2);
        }
        {
                const struct lb_rec *cmd = lb_recording_find(&r, nch + 2);
                char **argv = NULL;
                size_t *lens = NULL, n = 0;
                FUZZ_CHECK(cmd && lb_rec_argv(cmd, &argv, &lens, &n) >= 0 && n == MIN(nch, (size_t) 4),
                           "cmd record argv does not decode");
                for (size_t i = 0; i < n; i++)
                        FUZZ_CHECK(lens[i] == ch[i].n && memcmp(argv[i], ch[i].p, lens[i]) == 0,
                                   "argv[%zu] differs", i);
                lb_strv_free(argv);
                free(lens);
        }
        lb_verify_done(&v);
        lb_recording_done(&r);
        lb_buf_done(&out);
        return 0;
}
