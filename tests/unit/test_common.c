/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "broker_client.h"
#include "chain.h"
#include "conf.h"
#include "proc.h"
#include "sshkey.h"
#include "timeutil.h"
#include "util.h"

/* ssh-keygen -t ed25519 public key and its fingerprint as ssh-keygen -lf prints it */
#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMEOl5iMblBfhFYRC7WyTMr7xet5Iaeyez6YRphvL+pr"

START_TEST(test_parse_u64) {
        uint64_t v;
        ck_assert_int_eq(lb_parse_u64("42", 100, &v), 0);
        ck_assert_uint_eq(v, 42);
        ck_assert_int_eq(lb_parse_u64("101", 100, &v), -ERANGE);
        ck_assert_int_eq(lb_parse_u64("-1", 100, &v), -EINVAL);
        ck_assert_int_eq(lb_parse_u64("4x", 100, &v), -EINVAL);
        ck_assert_int_eq(lb_parse_u64("", 100, &v), -EINVAL);
        ck_assert_int_eq(lb_parse_u64("99999999999999999999999", UINT64_MAX, &v), -ERANGE);
}
END_TEST

START_TEST(test_duration) {
        uint64_t s;
        char buf[32];
        ck_assert_int_eq(lb_parse_duration("2h", &s), 0);
        ck_assert_uint_eq(s, 7200);
        ck_assert_int_eq(lb_parse_duration("1h30m", &s), 0);
        ck_assert_uint_eq(s, 5400);
        ck_assert_int_eq(lb_parse_duration("90", &s), 0);
        ck_assert_uint_eq(s, 90);
        ck_assert_int_eq(lb_parse_duration("4d", &s), 0);
        ck_assert_uint_eq(s, 345600);
        ck_assert_int_eq(lb_parse_duration("1h30", &s), -EINVAL);
        ck_assert_int_eq(lb_parse_duration("h", &s), -EINVAL);
        ck_assert_int_eq(lb_parse_duration("2x", &s), -EINVAL);
        ck_assert_str_eq(lb_format_duration(5400, buf, sizeof(buf)), "1h30m");
        ck_assert_str_eq(lb_format_duration(0, buf, sizeof(buf)), "0s");
}
END_TEST

START_TEST(test_time) {
        int64_t t;
        char buf[LB_TIME_LEN];
        ck_assert_int_eq(lb_time_parse("2026-11-22T10:00:00Z", &t), 0);
        ck_assert_int_eq(t, 1795341600);
        ck_assert_str_eq(lb_time_format(t, buf, sizeof(buf)), "2026-11-22T10:00:00Z");
        ck_assert_str_eq(lb_time_format_ssh(t, buf, sizeof(buf)), "20261122100000Z");
        ck_assert_int_eq(lb_time_parse("2026-11-22T10:00:00.123Z", &t), 0);
        ck_assert_int_eq(lb_time_parse("2026-11-22T10:00:00+01:00", &t), -EINVAL);
        ck_assert_int_eq(lb_time_parse("2026-13-22T10:00:00Z", &t), -EINVAL);
        /* a day the month does not have is refused, not moved to the next month */
        ck_assert_int_eq(lb_time_parse("2026-02-31T00:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(lb_time_parse("2026-02-29T00:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(lb_time_parse("2026-04-31T00:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(lb_time_parse("2100-02-29T00:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(lb_time_parse("2028-02-29T00:00:00Z", &t), 0);
        ck_assert_int_eq(t, 1835395200);
        ck_assert_int_eq(lb_time_parse("2000-02-29T00:00:00Z", &t), 0);
        ck_assert_int_eq(lb_time_parse("2026-12-31T23:59:59Z", &t), 0);
        ck_assert_int_eq(lb_time_parse("2026-01-31T00:00:00Z", &t), 0);
        ck_assert_int_eq(lb_time_parse("garbage", &t), -EINVAL);
}
END_TEST

START_TEST(test_term_safe) {
        char *s = lb_term_safe("ok\x1b]52;c;aGk=\x07 \xc2\x9b x\xff é");
        ck_assert_str_eq(s, "ok\\x1b]52;c;aGk=\\x07 \\xc2\\x9b x\\xff é");
        free(s);
}
END_TEST

START_TEST(test_base64) {
        unsigned char *d;
        size_t n;
        char *e = lb_base64_encode("hello", 5, true);
        ck_assert_str_eq(e, "aGVsbG8=");
        ck_assert_int_eq(lb_base64_decode(e, strlen(e), &d, &n), 0);
        ck_assert_uint_eq(n, 5);
        ck_assert_int_eq(memcmp(d, "hello", 5), 0);
        free(d);
        free(e);
        ck_assert_int_eq(lb_base64_decode("a$==", 4, &d, &n), -EINVAL);
}
END_TEST

START_TEST(test_conf_line) {
        char *k = NULL, *v = NULL;
        ck_assert_int_eq(lb_conf_parse_line("  # comment", &k, &v), 0);
        ck_assert_int_eq(lb_conf_parse_line("", &k, &v), 0);
        ck_assert_int_eq(lb_conf_parse_line(" timeout_ms = 2500 ", &k, &v), 1);
        ck_assert_str_eq(k, "timeout_ms");
        ck_assert_str_eq(v, "2500");
        free(k);
        free(v);
        ck_assert_int_eq(lb_conf_parse_line("broker=\"unix:/run/x.sock\"", &k, &v), 1);
        ck_assert_str_eq(v, "unix:/run/x.sock");
        free(k);
        free(v);
        ck_assert_int_eq(lb_conf_parse_line("no equals sign", &k, &v), -EINVAL);
        ck_assert_int_eq(lb_conf_parse_line("Bad-Key = 1", &k, &v), -EINVAL);
}
END_TEST

START_TEST(test_host_conf) {
        struct lb_host_conf c;
        lb_host_conf_init(&c);
        ck_assert_uint_eq(c.timeout_ms, 5000);
        ck_assert_int_eq(lb_host_conf_set(&c, "timeout_ms", "1500"), 0);
        ck_assert_uint_eq(c.timeout_ms, 1500);
        ck_assert_int_eq(lb_host_conf_set(&c, "timeout_ms", "abc"), -EINVAL);
        ck_assert_int_eq(lb_host_conf_set(&c, "no_such_key", "1"), -ENOENT);
        ck_assert_int_eq(lb_host_conf_set(&c, "broker", "http://plain"), -EINVAL);
        ck_assert_int_eq(lb_host_conf_set(&c, "operators", "alice, bob"), 0);
        ck_assert_int_eq(lb_host_conf_is_managed(&c, "bob"), 1);
        /* the operator's shell: the recorder runs it, default bash */
        ck_assert_str_eq(c.shell, "/bin/bash");
        ck_assert_int_eq(lb_host_conf_set(&c, "shell", "bash"), -EINVAL);
        ck_assert_int_eq(lb_host_conf_set(&c, "shell", "/bin/zsh"), 0);
        ck_assert_str_eq(c.shell, "/bin/zsh");
        lb_host_conf_done(&c);
}
END_TEST

START_TEST(test_sshkey) {
        char *n = NULL, *fp = NULL;
        ck_assert_int_eq(lb_sshkey_normalize(KEY " alice@laptop", &n), 0);
        ck_assert_str_eq(n, KEY);
        ck_assert_int_eq(lb_sshkey_fingerprint(n, &fp), 0);
        ck_assert_str_eq(fp, "SHA256:CdY3Ql8SZICDYXIPnQIQfTwDdOqQhh7iVtNlo8vDCqc");
        free(n);
        free(fp);
        /* type in the blob differs from the declared type */
        ck_assert_int_eq(lb_sshkey_normalize("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIMEOl5iMblBfhFYRC7WyTMr7xet5Iaeyez6YRphvL+pr", &n), -EINVAL);
        ck_assert_int_eq(lb_sshkey_normalize("ssh-dss AAAA", &n), -EINVAL);
}
END_TEST

START_TEST(test_authinfo) {
        char *k = NULL;
        ck_assert_int_eq(lb_authinfo_parse("publickey " KEY "\n", &k), 0);
        ck_assert_str_eq(k, KEY);
        free(k);
        ck_assert_int_eq(lb_authinfo_parse("password\n", &k), -ENOENT);
        ck_assert_int_eq(lb_authinfo_parse("", &k), -ENOENT);
        ck_assert_int_eq(lb_authinfo_parse(NULL, &k), -ENOENT);
        ck_assert_int_eq(lb_authinfo_parse("publickey ssh-ed25519 !!!\n", &k), -EBADMSG);
}
END_TEST

START_TEST(test_access_parse) {
        struct lb_access a;
        const char *ok = "{\"allow\":true,\"request\":\"r1\",\"not_after\":\"2026-11-22T12:00:00Z\",\"remaining_s\":60}";
        const char *no = "{\"allow\":false,\"reason\":\"no approved request\"}";
        ck_assert_int_eq(lb_access_parse(ok, strlen(ok), &a), 0);
        ck_assert(a.allow);
        ck_assert_str_eq(a.request, "r1");
        lb_access_done(&a);
        ck_assert_int_eq(lb_access_parse(no, strlen(no), &a), 0);
        ck_assert(!a.allow);
        lb_access_done(&a);
        /* fail closed on anything odd */
        ck_assert_int_eq(lb_access_parse("{\"allow\":\"yes\"}", 15, &a), -EBADMSG);
        ck_assert_int_eq(lb_access_parse("{\"allow\":true}", 14, &a), -EBADMSG);
        ck_assert_int_eq(lb_access_parse("not json", 8, &a), -EBADMSG);
        const char *zero = "{\"allow\":true,\"request\":\"r1\",\"not_after\":\"2026-11-22T12:00:00Z\",\"remaining_s\":0}";
        ck_assert_int_eq(lb_access_parse(zero, strlen(zero), &a), -EBADMSG);
        const char *dup = "{\"allow\":false,\"allow\":true,\"request\":\"r1\",\"not_after\":\"2026-11-22T12:00:00Z\",\"remaining_s\":9}";
        ck_assert_int_eq(lb_access_parse(dup, strlen(dup), &a), -EBADMSG);
}
END_TEST

START_TEST(test_chain) {
        json_t *o = json_pack("{s:i, s:s, s:s}", "seq", 1, "kind", "out", "hash", "ignored");
        const char *omit[] = { "hash", NULL };
        char h1[LB_CHAIN_HEX_LEN + 1], h2[LB_CHAIN_HEX_LEN + 1];
        char *canon = lb_chain_canonical(o, omit);
        /* sorted keys, compact, without the hash member */
        ck_assert_str_eq(canon, "{\"kind\":\"out\",\"seq\":1}");
        ck_assert_int_eq(lb_chain_hash(LB_CHAIN_ZERO, o, omit, h1), 0);
        /* sha256("000...0\n{\"kind\":\"out\",\"seq\":1}") */
        char *input = lb_asprintf("%s\n%s", LB_CHAIN_ZERO, canon);
        char *expect = lb_sha256_hex(input, strlen(input));
        ck_assert_str_eq(h1, expect);
        /* a changed payload changes the hash; the hash member does not count */
        json_object_set_new(o, "hash", json_string("other"));
        ck_assert_int_eq(lb_chain_hash(LB_CHAIN_ZERO, o, omit, h2), 0);
        ck_assert_str_eq(h1, h2);
        json_object_set_new(o, "seq", json_integer(2));
        ck_assert_int_eq(lb_chain_hash(LB_CHAIN_ZERO, o, omit, h2), 0);
        ck_assert_str_ne(h1, h2);
        ck_assert_int_eq(lb_chain_hash("xyz", o, omit, h2), -EINVAL);
        free(canon);
        free(input);
        free(expect);
        json_decref(o);
}
END_TEST

START_TEST(test_proc_status) {
        pid_t pp = 0;

        ck_assert_int_eq(lb_proc_ppid(getpid(), &pp), 0);
        ck_assert_int_eq(pp, getppid());
        ck_assert_int_lt(lb_proc_ppid(-5, &pp), 0);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("common");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_parse_u64);
        tcase_add_test(tc, test_duration);
        tcase_add_test(tc, test_time);
        tcase_add_test(tc, test_term_safe);
        tcase_add_test(tc, test_base64);
        tcase_add_test(tc, test_conf_line);
        tcase_add_test(tc, test_host_conf);
        tcase_add_test(tc, test_sshkey);
        tcase_add_test(tc, test_authinfo);
        tcase_add_test(tc, test_access_parse);
        tcase_add_test(tc, test_chain);
        tcase_add_test(tc, test_proc_status);
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
