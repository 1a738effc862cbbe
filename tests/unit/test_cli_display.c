/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl's pure parts: argument helpers, terminal-safe display, tables,
 * request views. No broker, no network. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "args.h"
#include "display.h"
#include "reqview.h"
#include "util.h"

/* Render with a function into a string. */
#define CAPTURE(buf, call)                                                   \
        do {                                                                 \
                size_t _n = 0;                                               \
                FILE *_f = open_memstream(&(buf), &_n);                      \
                ck_assert_ptr_nonnull(_f);                                   \
                ck_assert_int_eq((call), 0);                                 \
                fclose(_f);                                                  \
        } while (0)
#define F _f

START_TEST(test_broker_valid) {
        ck_assert(lb_ctl_broker_valid("unix:/run/lockbox/lockboxd.sock"));
        ck_assert(lb_ctl_broker_valid("https://broker.example:8443"));
        ck_assert(lb_ctl_broker_valid("https://127.0.0.1:8443/"));
        ck_assert(lb_ctl_broker_valid("https://[::1]:8443"));
        ck_assert(!lb_ctl_broker_valid("unix:relative.sock"));
        ck_assert(!lb_ctl_broker_valid("unix:"));
        ck_assert(!lb_ctl_broker_valid("http://broker:80"));
        ck_assert(!lb_ctl_broker_valid("https://"));
        ck_assert(!lb_ctl_broker_valid("https://user@evil:1"));
        ck_assert(!lb_ctl_broker_valid("https://h:1/v1/requests"));
        ck_assert(!lb_ctl_broker_valid("https://h:1?x=1"));
        ck_assert(!lb_ctl_broker_valid(""));
        ck_assert(!lb_ctl_broker_valid(NULL));
}
END_TEST

START_TEST(test_query_add) {
        char *p = strdup("/v1/requests");
        ck_assert_int_eq(lb_ctl_query_add(&p, "state", "pending"), 0);
        ck_assert_int_eq(lb_ctl_query_add(&p, "host", NULL), 0);
        ck_assert_int_eq(lb_ctl_query_add(&p, "operator", ""), 0);
        ck_assert_int_eq(lb_ctl_query_add(&p, "host", "a&b=c d/é"), 0);
        ck_assert_int_eq(lb_ctl_query_add_u64(&p, "since", 42), 0);
        ck_assert_str_eq(p, "/v1/requests?state=pending&host=a%26b%3Dc%20d%2F%C3%A9&since=42");
        free(p);
}
END_TEST

START_TEST(test_values) {
        uint64_t d;
        int n;
        ck_assert_int_eq(lb_ctl_parse_duration("2h", &d), 0);
        ck_assert_uint_eq(d, 7200);
        ck_assert_int_eq(lb_ctl_parse_duration("1h30m", &d), 0);
        ck_assert_uint_eq(d, 5400);
        ck_assert_int_eq(lb_ctl_parse_duration("0", &d), -ERANGE);
        ck_assert_int_eq(lb_ctl_parse_duration("400d", &d), -ERANGE);
        ck_assert_int_lt(lb_ctl_parse_duration("2 hours", &d), 0);
        ck_assert_int_lt(lb_ctl_parse_duration("", &d), 0);
        ck_assert_int_eq(lb_ctl_parse_approvals("2", &n), 0);
        ck_assert_int_eq(n, 2);
        ck_assert_int_lt(lb_ctl_parse_approvals("0", &n), 0);
        ck_assert_int_lt(lb_ctl_parse_approvals("101", &n), 0);
        ck_assert_int_lt(lb_ctl_parse_approvals("two", &n), 0);
        ck_assert(lb_ctl_state_valid("pending"));
        ck_assert(lb_ctl_state_valid("completed"));
        ck_assert(!lb_ctl_state_valid("Pending"));
        ck_assert(!lb_ctl_state_valid(NULL));
        ck_assert(lb_ctl_role_valid("host"));
        ck_assert(lb_ctl_role_valid("admin"));
        ck_assert(!lb_ctl_role_valid("root"));
}
END_TEST

START_TEST(test_safe) {
        char *s;

        s = lb_ctl_safe("ok \x1b[31mred\x1b]52;c;Zm9v\x07 \xc2\x9b" "2J\r\n\x7f");
        ck_assert_ptr_null(strchr(s, 0x1b));
        ck_assert_ptr_null(strchr(s, '\a'));
        ck_assert_ptr_null(strchr(s, '\r'));
        ck_assert_ptr_null(strchr(s, '\n'));
        ck_assert_ptr_null(strstr(s, "\xc2\x9b"));
        ck_assert_str_eq(s, "ok \\x1b[31mred\\x1b]52;c;Zm9v\\x07 \\xc2\\x9b2J\\x0d\\x0a\\x7f");
        free(s);
        /* bidi override and zero-width space are shown, not obeyed */
        s = lb_ctl_safe("abc\xe2\x80\xae" "fed\xe2\x80\x8b");
        ck_assert_str_eq(s, "abc\\u{202E}fed\\u{200B}");
        free(s);
        /* printable UTF-8 and SQL metacharacters are kept as they are */
        s = lb_ctl_safe("'; DROP TABLE requests; -- é日本");
        ck_assert_str_eq(s, "'; DROP TABLE requests; -- é日本");
        free(s);
        s = lb_ctl_safe("bad \xff\xfe utf8");
        ck_assert_str_eq(s, "bad \\xff\\xfe utf8");
        free(s);
        s = lb_ctl_safe(NULL);
        ck_assert_str_eq(s, "");
        free(s);
}
END_TEST

START_TEST(test_json_safe) {
        json_t *j = json_pack("{s:s}", "r", "a\x1b[31m \x7f \xc2\x9b" "2J \xe2\x80\xae é日");
        char *d = json_dumps(j, JSON_COMPACT), *s = lb_ctl_json_safe(d);
        json_t *back;
        json_error_t e;

        ck_assert_str_eq(s, "{\"r\":\"a\\u001B[31m \\u007F \\u009B2J \\u202E é日\"}");
        /* the same value */
        back = json_loads(s, 0, &e);
        ck_assert_ptr_nonnull(back);
        ck_assert(json_equal(j, back));
        json_decref(back);
        json_decref(j);
        free(d);
        free(s);
}
END_TEST

START_TEST(test_width_truncate) {
        char *s;
        ck_assert_uint_eq(lb_ctl_width("abc"), 3);
        ck_assert_uint_eq(lb_ctl_width("é"), 1);
        ck_assert_uint_eq(lb_ctl_width("e\xcc\x81"), 1); /* e + combining acute */
        ck_assert_uint_eq(lb_ctl_width("日本"), 4);
        ck_assert_uint_eq(lb_ctl_width(""), 0);
        s = lb_ctl_truncate("abcdef", 4);
        ck_assert_str_eq(s, "abc…");
        free(s);
        s = lb_ctl_truncate("abcd", 4);
        ck_assert_str_eq(s, "abcd");
        free(s);
        s = lb_ctl_truncate("日本語", 5);
        ck_assert_str_eq(s, "日本…");
        free(s);
        s = lb_ctl_truncate("ééééé", 3);
        ck_assert_str_eq(s, "éé…");
        free(s);
}
END_TEST

START_TEST(test_times) {
        char buf[64];
        ck_assert_str_eq(lb_ctl_span(0, buf, sizeof(buf)), "0s");
        ck_assert_str_eq(lb_ctl_span(45, buf, sizeof(buf)), "45s");
        ck_assert_str_eq(lb_ctl_span(180, buf, sizeof(buf)), "3m");
        ck_assert_str_eq(lb_ctl_span(185, buf, sizeof(buf)), "3m5s");
        ck_assert_str_eq(lb_ctl_span(3600, buf, sizeof(buf)), "1h");
        ck_assert_str_eq(lb_ctl_span(7199, buf, sizeof(buf)), "1h59m");
        ck_assert_str_eq(lb_ctl_span(4 * 86400 - 1, buf, sizeof(buf)), "3d23h");
        ck_assert_str_eq(lb_ctl_span(90061, buf, sizeof(buf)), "1d1h");
        ck_assert_str_eq(lb_ctl_relative(1000 + 7199, 1000, buf, sizeof(buf)), "in 1h59m");
        ck_assert_str_eq(lb_ctl_relative(1000 - 180, 1000, buf, sizeof(buf)), "3m ago");
        ck_assert_str_eq(lb_ctl_relative(1000, 1000, buf, sizeof(buf)), "now");
        ck_assert_str_eq(lb_ctl_time(1795341600, false, buf, sizeof(buf)), "2026-11-22 10:00 UTC");
        ck_assert_str_eq(lb_ctl_time(1795341605, true, buf, sizeof(buf)), "2026-11-22 10:00:05 UTC");
        ck_assert_str_eq(lb_ctl_time_rel(1795341600, 1795341600 - 120, buf, sizeof(buf)),
                         "2026-11-22 10:00 UTC (in 2m)");
}
END_TEST

START_TEST(test_table) {
        static const char *const h[] = { "ID", "NAME", "NOTE" };
        const char *r1[] = { "r-1", "alice", "short" };
        const char *r2[] = { "r-22222", "日本\x1b[2J", NULL };
        const char *r3[] = { "r-3", "b", "a very long note that is cut" };
        struct lb_table *t = lb_table_new(3, h);
        char *out = NULL;

        ck_assert_ptr_nonnull(t);
        lb_table_set_max(t, 2, 10);
        ck_assert_int_eq(lb_table_add(t, r1), 0);
        ck_assert_int_eq(lb_table_add(t, r2), 0);
        ck_assert_int_eq(lb_table_add(t, r3), 0);
        ck_assert_uint_eq(lb_table_rows(t), 3);
        CAPTURE(out, lb_table_print(t, F));
        /* NAME is as wide as "日本\x1b[2J" made safe: 4 + 7 columns */
        ck_assert_str_eq(out,
                         "ID       NAME         NOTE\n"
                         "r-1      alice        short\n"
                         "r-22222  日本\\x1b[2J  -\n"
                         "r-3      b            a very lo…\n");
        ck_assert_ptr_null(strchr(out, 0x1b));
        free(out);
        lb_table_free(t);
}
END_TEST

static json_t *load(const char *s) {
        json_error_t e;
        json_t *j = json_loads(s, 0, &e);
        ck_assert_msg(j != NULL, "bad test JSON: %s", e.text);
        return j;
}

#define REQ_PENDING                                                                                \
        "{\"id\":\"r-1a2b3c4d5e6f\",\"state\":\"pending\",\"operator\":\"alice\",\"hosts\":[\"web1\",\"web2\"]," \
        "\"user\":\"vendor\",\"reason\":\"disk \\u001b[31mfull\\u009b\",\"ticket\":\"INC-1042\","          \
        "\"duration_s\":7200,\"approvals_required\":2,\"approvers\":[\"bob\",\"carol\"],"                  \
        "\"approvals\":[{\"by\":\"bob\",\"at\":\"2026-11-22T10:05:00Z\",\"comment\":\"ok \\u001b]0;x\\u0007\"}]," \
        "\"created_at\":\"2026-11-22T10:00:00Z\",\"pending_expires_at\":\"2026-11-26T10:00:00Z\","         \
        "\"approved_at\":null,\"not_after\":null,\"remaining_s\":null,\"ended_at\":null,"                  \
        "\"ended_by\":null,\"end_reason\":null}"

#define NOW 1795341600 + 600 /* 2026-11-22T10:10:00Z */

START_TEST(test_reqview) {
        json_t *req = load(REQ_PENDING), *list = json_array();
        char *out = NULL, *w;

        ck_assert(lb_reqview_approved_by(req, "bob"));
        ck_assert(!lb_reqview_approved_by(req, "carol"));
        ck_assert(!lb_reqview_approved_by(req, NULL));
        w = lb_reqview_when(req, NOW);
        ck_assert_str_eq(w, "expires in 3d23h");
        free(w);

        json_array_append(list, req);
        CAPTURE(out, lb_reqview_table(list, NOW, F));
        ck_assert_ptr_null(strchr(out, 0x1b));
        ck_assert_ptr_null(strstr(out, "\xc2\x9b"));
        ck_assert_ptr_nonnull(strstr(out, "r-1a2b3c4d5e6f  pending  alice"));
        ck_assert_ptr_nonnull(strstr(out, "web1, web2"));
        ck_assert_ptr_nonnull(strstr(out, "disk \\x1b[31mfull\\xc2\\x9b"));
        free(out);

        CAPTURE(out, lb_reqview_show(req, NOW, F));
        ck_assert_ptr_null(strchr(out, 0x1b));
        ck_assert_ptr_null(strchr(out, '\a'));
        ck_assert_ptr_nonnull(strstr(out, "State         pending (expires in 3d23h)\n"));
        ck_assert_ptr_nonnull(strstr(out, "Approvals     1 of 2 required\n"));
        ck_assert_ptr_nonnull(strstr(out, "bob at 2026-11-22 10:05:00 UTC (5m ago): ok \\x1b]0;x\\x07\n"));
        ck_assert_ptr_nonnull(strstr(out, "Duration      2h\n"));
        free(out);

        CAPTURE(out, lb_reqview_created(req, NOW, F));
        ck_assert_ptr_nonnull(strstr(out, "Request r-1a2b3c4d5e6f created (pending).\n"));
        ck_assert_ptr_nonnull(strstr(out, "Waiting for 2 approvals from: bob, carol\n"));
        free(out);

        CAPTURE(out, lb_reqview_after(req, "approve", NOW, F));
        ck_assert_str_eq(out, "r-1a2b3c4d5e6f: approval recorded (1 of 2); still pending.\n");
        free(out);

        /* approved: the broker's remaining_s is the clock */
        json_object_set_new(req, "state", json_string("approved"));
        json_object_set_new(req, "remaining_s", json_integer(7199));
        json_object_set_new(req, "not_after", json_string("2030-01-01T00:00:00Z"));
        w = lb_reqview_when(req, NOW);
        ck_assert_str_eq(w, "ends in 1h59m");
        free(w);
        CAPTURE(out, lb_reqview_after(req, "approve", NOW, F));
        ck_assert_str_eq(out, "r-1a2b3c4d5e6f: approved; access until 2026-11-22 12:09 UTC (in 1h59m).\n");
        free(out);

        /* ended */
        json_object_set_new(req, "state", json_string("revoked"));
        json_object_set_new(req, "ended_at", json_string("2026-11-22T10:07:00Z"));
        json_object_set_new(req, "end_reason", json_string("bad \x1b[1m"));
        w = lb_reqview_when(req, NOW);
        ck_assert_str_eq(w, "ended 3m ago");
        free(w);
        CAPTURE(out, lb_reqview_show(req, NOW, F));
        ck_assert_ptr_nonnull(strstr(out, "End reason    bad \\x1b[1m\n"));
        ck_assert_ptr_null(strchr(out, 0x1b));
        free(out);

        json_decref(list);
        json_decref(req);
}
END_TEST

START_TEST(test_reqview_garbage) {
        /* members of the wrong type or missing: shown as "-", never a crash */
        json_t *req = load("{\"id\":5,\"state\":[],\"hosts\":\"web1\",\"approvals\":{},\"duration_s\":\"x\"}");
        json_t *list = load("[{}, 1, null]");
        char *out = NULL;

        CAPTURE(out, lb_reqview_show(req, NOW, F));
        ck_assert_ptr_nonnull(strstr(out, "Request       -\n"));
        free(out);
        CAPTURE(out, lb_reqview_table(list, NOW, F));
        ck_assert_ptr_nonnull(strstr(out, "ID"));
        free(out);
        json_decref(req);
        json_decref(list);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("cli-display");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_broker_valid);
        tcase_add_test(tc, test_query_add);
        tcase_add_test(tc, test_values);
        tcase_add_test(tc, test_safe);
        tcase_add_test(tc, test_json_safe);
        tcase_add_test(tc, test_width_truncate);
        tcase_add_test(tc, test_times);
        tcase_add_test(tc, test_table);
        tcase_add_test(tc, test_reqview);
        tcase_add_test(tc, test_reqview_garbage);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
