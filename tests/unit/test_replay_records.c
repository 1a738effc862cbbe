/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockbox-replay's records model: parsing, dedupe, verification (gaps and
 * breaks named correctly), argv rendering, asciicast encoding. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay-asciicast.h"
#include "replay-records.h"
#include "replay-source.h"
#include "util.h"

#define N 8

/* A session of N records per docs/EVIDENCE.md §2: start, out..., cmd, end. */
static char *lines[N + 1];

static void build(void) {
        char prev[LB_CHAIN_HEX_LEN + 1] = LB_CHAIN_ZERO;

        for (int i = 0; i < N; i++) {
                json_t *o;
                char h[LB_CHAIN_HEX_LEN + 1];
                if (i == 0)
                        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "start",
                                      "session", "s-1", "request", "r-1", "operator", "alice",
                                      "user", "vendor", "host", "web1", "time",
                                      "2026-11-22T10:00:00.250Z");
                else if (i == N - 1)
                        o = json_pack("{s:s, s:s, s:i}", "kind", "end", "reason", "exit", "status", 0);
                else if (i == 3)
                        o = json_pack("{s:s, s:[s,s], s:s}", "kind", "cmd", "argv", "L2Jpbi9scw==",
                                      "LWw=", "source", "audit");
                else {
                        char d[16];
                        _cleanup_free_ char *b = NULL;
                        snprintf(d, sizeof(d), "out %d\n", i);
                        b = lb_base64_encode(d, strlen(d), true);
                        o = json_pack("{s:s, s:s, s:s}", "kind", "out", "data", b, "stream", "tty");
                }
                json_object_set_new(o, "seq", json_integer(i + 1));
                json_object_set_new(o, "t", json_integer(i * 100));
                ck_assert_int_eq(lb_chain_hash(prev, o, (const char *const[]) { "hash", NULL }, h), 0);
                json_object_set_new(o, "hash", json_string(h));
                strcpy(prev, h);
                free(lines[i]);
                lines[i] = json_dumps(o, LB_CANON_FLAGS);
                json_decref(o);
        }
}

static void load(struct lb_recording *r, char **v, int n) {
        *r = (struct lb_recording) {};
        for (int i = 0; i < n; i++)
                if (v[i])
                        lb_recording_add_line(r, v[i], strlen(v[i]));
}

static void verify(char **v, int n, struct lb_verify *ret) {
        struct lb_recording r;
        load(&r, v, n);
        ck_assert_int_eq(lb_recording_verify(&r, ret), 0);
        lb_recording_done(&r);
}

static bool has_problem(struct lb_verify *v, enum lb_problem_kind k, uint64_t first,
                        uint64_t other) {
        for (size_t i = 0; i < v->n_problems; i++)
                if (v->problems[i].kind == k && v->problems[i].first == first &&
                    (other == 0 || v->problems[i].other == other))
                        return true;
        return false;
}

START_TEST(test_intact) {
        struct lb_verify v;
        build();
        verify(lines, N, &v);
        ck_assert(v.ok);
        ck_assert_uint_eq(v.count, N);
        ck_assert_uint_eq(v.n_problems, 0);
        ck_assert_uint_eq(v.last_seq, N);
        lb_verify_done(&v);
}
END_TEST

START_TEST(test_out_of_order_source_is_fine) {
        /* the same records in another order (as a journal merge may give):
         * ordered by seq, the chain holds */
        char *v[N];
        struct lb_verify r;
        build();
        for (int i = 0; i < N; i++)
                v[i] = lines[N - 1 - i];
        verify(v, N, &r);
        ck_assert(r.ok);
        lb_verify_done(&r);
}
END_TEST

START_TEST(test_removed) {
        char *v[N];
        struct lb_verify r;
        build();
        memcpy(v, lines, sizeof(v));
        v[4] = NULL; /* seq 5 */
        v[5] = NULL; /* seq 6 */
        verify(v, N, &r);
        ck_assert(!r.ok);
        ck_assert(has_problem(&r, LB_PROBLEM_GAP, 5, 0));
        ck_assert_uint_eq(r.problems[0].last, 6);
        ck_assert_uint_eq(r.n_problems, 1);
        {
                _cleanup_free_ char *t = lb_problem_format(&r.problems[0]);
                ck_assert_str_eq(t, "gap: seq 5-6 missing (2 records)");
        }
        lb_verify_done(&r);

        /* the end record missing */
        memcpy(v, lines, sizeof(v));
        verify(v, N - 1, &r);
        ck_assert(!r.ok);
        ck_assert(has_problem(&r, LB_PROBLEM_NO_END, N - 1, 0));
        lb_verify_done(&r);

        /* the start record missing */
        verify(lines + 1, N - 1, &r);
        ck_assert(!r.ok);
        ck_assert(has_problem(&r, LB_PROBLEM_NO_START, 0, 0));
        ck_assert(has_problem(&r, LB_PROBLEM_GAP, 1, 0));
        lb_verify_done(&r);
}
END_TEST

static char *replace(const char *s, const char *from, const char *to) {
        const char *p = strstr(s, from);
        ck_assert_ptr_nonnull(p);
        return lb_asprintf("%.*s%s%s", (int) (p - s), s, to, p + strlen(from));
}

START_TEST(test_changed) {
        char *v[N];
        struct lb_verify r;
        _cleanup_free_ char *changed = NULL;
        build();
        memcpy(v, lines, sizeof(v));
        /* "out 2\n" -> "out 9\n" in base64 */
        changed = replace(lines[2], "b3V0IDIK", "b3V0IDkK");
        v[2] = changed;
        verify(v, N, &r);
        ck_assert(!r.ok);
        ck_assert_uint_eq(r.n_problems, 1);
        ck_assert(has_problem(&r, LB_PROBLEM_CHANGED, 3, 0));
        {
                _cleanup_free_ char *t = lb_problem_format(&r.problems[0]);
                ck_assert_ptr_nonnull(strstr(t, "seq 3"));
                ck_assert_ptr_nonnull(strstr(t, "changed payload"));
        }
        lb_verify_done(&r);
}
END_TEST

START_TEST(test_reordered) {
        char *v[N];
        struct lb_verify r;
        _cleanup_free_ char *a = NULL, *b = NULL;
        build();
        memcpy(v, lines, sizeof(v));
        /* records 5 and 6 swapped, renumbered so the seqs look continuous */
        a = replace(lines[4], "\"seq\":5", "\"seq\":6");
        b = replace(lines[5], "\"seq\":6", "\"seq\":5");
        v[4] = b;
        v[5] = a;
        verify(v, N, &r);
        ck_assert(!r.ok);
        ck_assert(has_problem(&r, LB_PROBLEM_REORDERED, 5, 6));
        ck_assert(has_problem(&r, LB_PROBLEM_REORDERED, 6, 5));
        ck_assert(has_problem(&r, LB_PROBLEM_RELINKED, 7, 5));
        ck_assert(!has_problem(&r, LB_PROBLEM_GAP, 5, 0));
        lb_verify_done(&r);
}
END_TEST

START_TEST(test_parse_and_dedupe) {
        struct lb_recording rec = {};
        struct lb_verify v;
        _cleanup_free_ char *field = NULL, *other = NULL;
        build();
        /* a LOCKBOX_RECORDS field: lines each ending in \n; re-sent twice */
        field = lb_asprintf("%s\n%s\n%s\n", lines[0], lines[1], lines[2]);
        ck_assert_int_eq(lb_recording_add_lines(&rec, field, strlen(field)), 3);
        ck_assert_int_eq(lb_recording_add_lines(&rec, field, strlen(field)), 0);
        ck_assert_uint_eq(rec.duplicates, 3);
        for (int i = 3; i < N; i++)
                ck_assert_int_eq(lb_recording_add_line(&rec, lines[i], strlen(lines[i])), 1);
        ck_assert_int_eq(lb_recording_add_line(&rec, "not json", 8), -EBADMSG);
        ck_assert_int_eq(lb_recording_add_line(&rec, "{\"seq\":0}", 9), -EBADMSG);
        ck_assert_int_eq(lb_recording_add_line(&rec, "{\"seq\":1,\"t\":0,\"kind\":\"x\"}", 26),
                         -EBADMSG);
        ck_assert_uint_eq(rec.malformed, 3);
        ck_assert_uint_eq(rec.n, N);
        ck_assert_uint_eq(lb_recording_find(&rec, 4)->seq, 4);
        ck_assert_str_eq(lb_recording_find(&rec, 4)->kind, "cmd");
        ck_assert_uint_eq(lb_recording_find(&rec, 2)->t, 100);
        /* a different record under a seq already seen: a conflict */
        other = replace(lines[1], "b3V0IDEK", "b3V0IDkK");
        ck_assert_int_eq(lb_recording_add_line(&rec, other, strlen(other)), 0);
        ck_assert_int_eq(lb_recording_verify(&rec, &v), 0);
        ck_assert(!v.ok);
        ck_assert(has_problem(&v, LB_PROBLEM_CONFLICT, 2, 0));
        ck_assert(has_problem(&v, LB_PROBLEM_MALFORMED, 3, 0));
        lb_verify_done(&v);

        /* summary */
        {
                struct lb_session_info i = { .start_s = -1 };
                for (size_t k = 0; k < rec.n; k++)
                        lb_session_info_add(&i, rec.recs[k].obj);
                ck_assert_str_eq(i.session, "s-1");
                ck_assert_str_eq(i.operator_, "alice");
                ck_assert_str_eq(i.reason, "exit");
                ck_assert_uint_eq(i.commands, 1);
                ck_assert(i.ended);
                ck_assert_int_eq(i.start_s, 1795341600);
                lb_session_info_done(&i);
        }
        lb_recording_done(&rec);
}
END_TEST

/* A line whose "hash" is not 64 hex digits is not a record: verify counts
 * it as malformed, and the head it reports is a real chain hash. The last
 * record's hash here is 63 hex digits and "é": its 64-byte copy used to end
 * inside the character and lb_verify_to_json returned NULL (verify --json
 * printed nothing, export --format bundle failed). */
START_TEST(test_bad_hash_is_malformed) {
        struct lb_recording rec = {};
        struct lb_verify v;
        json_auto_t *o = NULL, *j = NULL;
        _cleanup_free_ char *bad = NULL, *h = NULL, *prev_hash = NULL;
        const char *bad_hashes[] = { NULL, "", "0123", "g", NULL };
        build();

        o = json_loads(lines[N - 1], 0, NULL);
        ck_assert_ptr_nonnull(o);
        h = lb_asprintf("%.63s\xc3\xa9", lb_json_str(o, "hash"));
        json_object_set_new(o, "hash", json_string(h));
        bad = json_dumps(o, LB_CANON_FLAGS);
        {
                json_auto_t *p = json_loads(lines[N - 2], 0, NULL);
                prev_hash = strdup(lb_json_str(p, "hash"));
        }
        for (int i = 0; i < N - 1; i++)
                ck_assert_int_eq(lb_recording_add_line(&rec, lines[i], strlen(lines[i])), 1);
        ck_assert_int_eq(lb_recording_add_line(&rec, bad, strlen(bad)), -EBADMSG);
        ck_assert_uint_eq(rec.malformed, 1);
        ck_assert_uint_eq(rec.n, N - 1);
        ck_assert_int_eq(lb_recording_verify(&rec, &v), 0);
        ck_assert(!v.ok);
        ck_assert(has_problem(&v, LB_PROBLEM_MALFORMED, 1, 0));
        ck_assert(has_problem(&v, LB_PROBLEM_NO_END, N - 1, 0));
        ck_assert_str_eq(v.head, prev_hash);
        j = lb_verify_to_json(&v);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(lb_json_str(j, "head"), prev_hash);
        ck_assert_uint_eq(json_array_size(json_object_get(j, "problems")), v.n_problems);
        lb_verify_done(&v);
        lb_recording_done(&rec);

        /* other hashes that are not chain hashes: malformed too */
        bad_hashes[0] = h;
        for (size_t i = 1; bad_hashes[i]; i++) {
                struct lb_recording r2 = {};
                _cleanup_free_ char *l = NULL;
                json_object_set_new(o, "hash", json_string(bad_hashes[i]));
                l = json_dumps(o, LB_CANON_FLAGS);
                ck_assert_int_eq(lb_recording_add_line(&r2, l, strlen(l)), -EBADMSG);
                ck_assert_uint_eq(r2.malformed, 1);
                lb_recording_done(&r2);
        }
}
END_TEST

/* Text that is not UTF-8 never turns a JSON answer into NULL: it is escaped
 * (lb_json_text), in the verify report and in a session summary. */
START_TEST(test_json_text_not_utf8) {
        struct lb_verify v = { .count = 1, .last_seq = 1 };
        struct lb_session_info i = { .start_s = -1 };
        json_auto_t *j = NULL, *k = NULL, *t = NULL;

        snprintf(v.head, sizeof(v.head), "%s", "abc\xc3");
        j = lb_verify_to_json(&v);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(lb_json_str(j, "head"), "abc\\xc3");

        i.session = strdup("s-\xf3");
        i.host = strdup("web\xff");
        i.user = strdup("v\xc3\xa9ndor");
        k = lb_session_info_to_json(&i);
        ck_assert_ptr_nonnull(k);
        ck_assert_str_eq(lb_json_str(k, "session"), "s-\\xf3");
        ck_assert_str_eq(lb_json_str(k, "host"), "web\\xff");
        ck_assert_str_eq(lb_json_str(k, "user"), "v\xc3\xa9ndor"); /* UTF-8 stays as it is */
        ck_assert(json_is_integer(json_object_get(k, "commands")));
        ck_assert_ptr_null(json_object_get(k, "end"));
        lb_session_info_done(&i);

        t = lb_json_text(NULL);
        ck_assert(json_is_null(t));
}
END_TEST

START_TEST(test_session_id_valid) {
        ck_assert(lb_session_id_valid("s-0123456789abcdef", 18));
        ck_assert(lb_session_id_valid("s-1", 3));
        ck_assert(lb_session_id_valid("s-rt-real-12-34", 15));
        ck_assert(!lb_session_id_valid("s-", 2));
        ck_assert(!lb_session_id_valid("x-1", 3));
        ck_assert(!lb_session_id_valid("s-\xf3", 3));
        ck_assert(!lb_session_id_valid("\xf3-", 2));
        ck_assert(!lb_session_id_valid("s-1\0", 4));
        ck_assert(!lb_session_id_valid("s-a/b", 5));
        ck_assert(!lb_session_id_valid("s-a b", 5));
        ck_assert(!lb_session_id_valid(NULL, 0));
        {
                char big[LB_SESSION_ID_MAX + 2];
                memset(big, 'a', sizeof(big));
                big[0] = 's';
                big[1] = '-';
                ck_assert(lb_session_id_valid(big, LB_SESSION_ID_MAX));
                ck_assert(!lb_session_id_valid(big, LB_SESSION_ID_MAX + 1));
        }
}
END_TEST

/* list over a journal export file: an entry whose LOCKBOX_SESSION is not a
 * session id (here not even UTF-8) is not listed and is counted as
 * malformed; it used to be listed, and list --json dropped it silently
 * (lb_session_info_to_json gave NULL). */
START_TEST(test_list_session_not_an_id) {
        char path[] = "/tmp/test-replay-list-XXXXXX";
        char *paths[] = { path, NULL };
        struct lb_source src = { .type = LB_SOURCE_EXPORT, .paths = paths };
        struct lb_session_info *infos = NULL;
        struct lb_claims claims = {};
        size_t n = 0;
        _cleanup_free_ char *text = NULL;
        int fd;
        build();

        text = lb_asprintf("_UID=0\nMESSAGE_ID=2fb1b94404e04226bd17aa5adfaa9a65\n"
                           "LOCKBOX_SESSION=\xf3-\nLOCKBOX_RECORDS=\n\n"
                           "_UID=0\nMESSAGE_ID=2fb1b94404e04226bd17aa5adfaa9a65\n"
                           "LOCKBOX_SESSION=s-1\nLOCKBOX_RECORDS=%s\n\n",
                           lines[0]);
        fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        ck_assert_int_eq(lb_source_trust_uid(&src, 0), 0);
        ck_assert_int_eq(lb_source_list(&src, &infos, &n, &claims), 0);
        unlink(path);
        for (size_t i = 0; i < n; i++) {
                json_auto_t *j = lb_session_info_to_json(&infos[i]);
                ck_assert_ptr_nonnull(j);
        }
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(infos[0].session, "s-1");
        ck_assert_str_eq(infos[0].operator_, "alice");
        ck_assert_uint_eq(claims.malformed, 1);
        for (size_t i = 0; i < n; i++)
                lb_session_info_done(&infos[i]);
        free(infos);
        lb_claims_done(&claims);
}
END_TEST

START_TEST(test_find_in_empty_recording) {
        struct lb_recording r = {};
        ck_assert_ptr_null(lb_recording_find(&r, 1));
        lb_recording_sort(&r);
        ck_assert_ptr_null(lb_recording_find(&r, 0));
        lb_recording_done(&r);
}
END_TEST

START_TEST(test_argv) {
        struct lb_recording rec = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ size_t *lens = NULL;
        _cleanup_free_ char *text = NULL;
        size_t n;
        build();
        load(&rec, lines, N);
        ck_assert_int_eq(lb_rec_argv(lb_recording_find(&rec, 4), &argv, &lens, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(argv[0], "/bin/ls");
        ck_assert_str_eq(argv[1], "-l");
        text = lb_argv_render(argv, lens, n);
        ck_assert_str_eq(text, "/bin/ls -l");
        lb_recording_done(&rec);

        {
                char *v[] = { "echo", "it's", "a\033]52;c;eA==\007b", "\xff\xfe", "", "caf\xc3\xa9 x" };
                size_t l[] = { 4, 4, 14, 2, 0, 7 };
                _cleanup_free_ char *t = lb_argv_render(v, l, 6);
                ck_assert_str_eq(t, "echo 'it'\\''s' $'a\\x1b]52;c;eA==\\x07b' $'\\xff\\xfe' '' 'caf\xc3\xa9 x'");
        }
        {
                char nul[] = { 'a', 0, 'b' };
                char *v[] = { nul };
                size_t l[] = { 3 };
                _cleanup_free_ char *t = lb_argv_render(v, l, 1);
                ck_assert_str_eq(t, "$'a\\x00b'");
        }
}
END_TEST

static void roundtrip(const char *in, size_t len, const char *want_json) {
        struct lb_buf b = {}, back = {};
        size_t used = 0;
        ck_assert_int_eq(lb_asciicast_string(&b, in, len, false, &used), 0);
        ck_assert_uint_eq(used, len);
        if (want_json)
                ck_assert_str_eq(b.p, want_json);
        ck_assert_int_eq(lb_asciicast_unescape(b.p + 1, b.n - 2, &back), 0);
        ck_assert_uint_eq(back.n, len);
        ck_assert_mem_eq(back.p, in, len);
        lb_buf_done(&b);
        lb_buf_done(&back);
}

START_TEST(test_asciicast_encoding) {
        roundtrip("hi\r\n", 4, "\"hi\\u000d\\u000a\"");
        roundtrip("\xff" "a\xc3\xa9\x80", 5, "\"\\udcffa\xc3\xa9\\udc80\"");
        roundtrip("\033[31m\"\\", 7, "\"\\u001b[31m\\\"\\\\\"");
        /* UTF-8 encoded surrogates and overlongs are not valid: byte by byte */
        roundtrip("\xed\xa0\x80\xc0\xaf", 5, "\"\\udced\\udca0\\udc80\\udcc0\\udcaf\"");
        roundtrip("\0x", 2, "\"\\u0000x\"");
        /* C1 controls as UTF-8 (CSI U+009B, NEL, APC) are escaped, not raw:
         * the .cast file holds no control a terminal could act on */
        roundtrip("\xc2\x9b" "31m\xc2\x85\xc2\x9f\xc2\xa0", 11,
                  "\"\\u009b31m\\u0085\\u009f\xc2\xa0\"");
        roundtrip("\xc2\x80", 2, "\"\\u0080\"");
        {
                /* a character cut at the end is carried when asked to */
                struct lb_buf b = {};
                size_t used;
                ck_assert_int_eq(lb_asciicast_string(&b, "ab\xe2\x82", 4, true, &used), 0);
                ck_assert_uint_eq(used, 2);
                ck_assert_str_eq(b.p, "\"ab\"");
                lb_buf_done(&b);
                /* an impossible prefix is not carried */
                ck_assert_int_eq(lb_asciicast_string(&b, "ab\xed\xa0", 4, true, &used), 0);
                ck_assert_uint_eq(used, 4);
                lb_buf_done(&b);
        }
        {
                /* every byte value round-trips */
                char all[256];
                for (int i = 0; i < 256; i++)
                        all[i] = (char) i;
                roundtrip(all, 256, NULL);
        }
}
END_TEST

START_TEST(test_asciicast_export) {
        /* a recording whose output has invalid UTF-8 and a character split
         * between two records exports as events that decode to the bytes */
        struct lb_recording rec = {};
        char prev[LB_CHAIN_HEX_LEN + 1] = LB_CHAIN_ZERO;
        const char *chunks[] = { "a\xe2\x82", "\xac\xff", "z" };
        char *buf = NULL;
        size_t blen = 0;
        FILE *f;
        struct lb_buf all = {};

        for (int i = 0; i < 3; i++) {
                _cleanup_free_ char *b = lb_base64_encode(chunks[i], strlen(chunks[i]), true);
                json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "kind", "out", "data", b,
                                      "stream", "tty", "seq", i + 2, "t", i * 1500);
                char h[LB_CHAIN_HEX_LEN + 1];
                _cleanup_free_ char *line = NULL;
                lb_chain_hash(prev, o, (const char *const[]) { "hash", NULL }, h);
                json_object_set_new(o, "hash", json_string(h));
                line = json_dumps(o, LB_CANON_FLAGS);
                lb_recording_add_line(&rec, line, strlen(line));
                json_decref(o);
        }
        f = open_memstream(&buf, &blen);
        ck_assert_int_eq(lb_asciicast_export(&rec, false, false, f), 0);
        fclose(f);
        ck_assert_ptr_nonnull(strstr(buf, "\"version\":2"));
        ck_assert_ptr_nonnull(strstr(buf, "[0.000, \"o\", \"a\"]"));
        ck_assert_ptr_nonnull(strstr(buf, "[1.500, \"o\", \"\xe2\x82\xac\\udcff\"]"));
        ck_assert_ptr_nonnull(strstr(buf, "[3.000, \"o\", \"z\"]"));
        /* the events' strings decode to the exact bytes */
        for (char *p = strstr(buf, "\"o\", \""); p; p = strstr(p, "\"o\", \"")) {
                char *s = p + 6, *e = strstr(s, "\"]\n");
                ck_assert_int_eq(lb_asciicast_unescape(s, (size_t) (e - s), &all), 0);
                p = e;
        }
        ck_assert_uint_eq(all.n, 6);
        ck_assert_mem_eq(all.p, "a\xe2\x82\xac\xffz", 6);
        lb_buf_done(&all);
        free(buf);
        lb_recording_done(&rec);
}
END_TEST

/* A chain of n records: start, out..., end (lines[i] has seq i + 1). */
static char **big_chain(size_t n) {
        char **v = calloc(n, sizeof(char *));
        char prev[LB_CHAIN_HEX_LEN + 1] = LB_CHAIN_ZERO;

        ck_assert_ptr_nonnull(v);
        for (size_t i = 0; i < n; i++) {
                char h[LB_CHAIN_HEX_LEN + 1];
                json_t *o = json_pack("{s:s, s:I, s:I}", "kind",
                                      i == 0 ? "start" : i == n - 1 ? "end" : "out", "seq",
                                      (json_int_t) (i + 1), "t", (json_int_t) i);
                ck_assert_int_eq(lb_chain_hash(prev, o, (const char *const[]) { "hash", NULL }, h), 0);
                json_object_set_new(o, "hash", json_string(h));
                strcpy(prev, h);
                v[i] = json_dumps(o, LB_CANON_FLAGS);
                json_decref(o);
        }
        return v;
}

static uint64_t log2_ceil(size_t n) {
        uint64_t l = 0;
        while (((size_t) 1 << l) < n)
                l++;
        return l;
}

/* Replay is O(N log N) whatever the order of arrival: 200,000 records
 * reversed (the worst case of the old insert, which re-sorted every time)
 * come out in order with at most 4 N log2 N comparisons. Counted, not
 * timed. */
START_TEST(test_reversed_is_n_log_n) {
        const size_t n = 200000;
        char **v = big_chain(n);
        struct lb_recording rec = {};
        struct lb_verify ver;
        uint64_t bound = 4 * (uint64_t) n * log2_ceil(n);

        for (size_t i = n; i-- > 0;)
                ck_assert_int_eq(lb_recording_add_line(&rec, v[i], strlen(v[i])), 1);
        /* re-sent, in reverse again: every one a duplicate */
        for (size_t i = n; i-- > 0;)
                lb_recording_add_line(&rec, v[i], strlen(v[i]));
        ck_assert_int_eq(lb_recording_verify(&rec, &ver), 0);
        ck_assert_msg(ver.ok, "%zu problems", ver.n_problems);
        ck_assert_uint_eq(ver.count, n);
        ck_assert_uint_eq(rec.n, n);
        ck_assert_uint_eq(rec.duplicates, n);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(rec.recs[i].seq, i + 1);
        ck_assert_msg(rec.comparisons <= bound, "%llu comparisons for %zu records (bound %llu)",
                      (unsigned long long) rec.comparisons, n, (unsigned long long) bound);
        lb_verify_done(&ver);
        lb_recording_done(&rec);

        /* interleaved from both ends, and each record twice in a row */
        rec = (struct lb_recording) {};
        for (size_t i = 0; i < n / 2; i++) {
                const char *a = v[n - 1 - i], *b = v[i];
                lb_recording_add_line(&rec, a, strlen(a));
                lb_recording_add_line(&rec, a, strlen(a));
                lb_recording_add_line(&rec, b, strlen(b));
        }
        ck_assert_int_eq(lb_recording_verify(&rec, &ver), 0);
        ck_assert(ver.ok);
        ck_assert_uint_eq(rec.duplicates, n / 2);
        ck_assert_msg(rec.comparisons <= bound, "%llu comparisons (interleaved)",
                      (unsigned long long) rec.comparisons);
        lb_verify_done(&ver);
        lb_recording_done(&rec);
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}
END_TEST

/* Out-of-order records that repeat a seq: an identical one is a duplicate,
 * a different one a conflict (the first to arrive is kept), once sorted in. */
START_TEST(test_out_of_order_duplicates_and_conflicts) {
        struct lb_recording rec = {};
        struct lb_verify ver;
        _cleanup_free_ char *other = NULL;

        build();
        other = replace(lines[2], "b3V0IDIK", "b3V0IDkK");
        ck_assert_ptr_nonnull(other);
        lb_recording_add_line(&rec, lines[5], strlen(lines[5]));
        ck_assert_int_eq(lb_recording_add_line(&rec, lines[2], strlen(lines[2])), 1);
        lb_recording_add_line(&rec, lines[2], strlen(lines[2]));
        lb_recording_add_line(&rec, other, strlen(other));
        lb_recording_add_line(&rec, other, strlen(other));
        for (int i = 0; i < N; i++)
                lb_recording_add_line(&rec, lines[i], strlen(lines[i]));
        ck_assert_int_eq(lb_recording_verify(&rec, &ver), 0);
        ck_assert_uint_eq(rec.n, N);
        ck_assert_str_eq(lb_recording_find(&rec, 3)->line, lines[2]);
        ck_assert(has_problem(&ver, LB_PROBLEM_CONFLICT, 3, 0));
        ck_assert_uint_eq(ver.n_problems, 1); /* one conflict, named once */
        ck_assert_uint_eq(rec.duplicates, 3); /* lines[2] twice more, lines[5] once */
        lb_verify_done(&ver);
        lb_recording_done(&rec);
}
END_TEST

int main(void) {
        Suite *s = suite_create("replay-records");
        TCase *tc = tcase_create("core");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_intact);
        tcase_add_test(tc, test_out_of_order_source_is_fine);
        tcase_add_test(tc, test_removed);
        tcase_add_test(tc, test_changed);
        tcase_add_test(tc, test_reordered);
        tcase_add_test(tc, test_parse_and_dedupe);
        tcase_add_test(tc, test_argv);
        tcase_add_test(tc, test_asciicast_encoding);
        tcase_add_test(tc, test_asciicast_export);
        tcase_add_test(tc, test_reversed_is_n_log_n);
        tcase_add_test(tc, test_out_of_order_duplicates_and_conflicts);
        tcase_add_test(tc, test_bad_hash_is_malformed);
        tcase_add_test(tc, test_json_text_not_utf8);
        tcase_add_test(tc, test_session_id_valid);
        tcase_add_test(tc, test_list_session_not_an_id);
        tcase_add_test(tc, test_find_in_empty_recording);
        tcase_set_timeout(tc, 120);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        for (int i = 0; i < N; i++)
                free(lines[i]);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
