/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of pam_lockbox's pure parts: what the user sees, the session
 * record (format, files, modes), the audit session id, and the common/ pieces
 * the module depends on for its decisions. No root, no network. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <jansson.h>

#include "broker_client.h"
#include "conf.h"
#include "pam_lockbox.h"
#include "sshkey.h"
#include "timeutil.h"
#include "util.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

START_TEST(test_left_and_end) {
        char buf[64];

        ck_assert_str_eq(lb_pam_format_left(7199, buf, sizeof(buf)), "1h59m");
        ck_assert_str_eq(lb_pam_format_left(7200, buf, sizeof(buf)), "2h");
        ck_assert_str_eq(lb_pam_format_left(59, buf, sizeof(buf)), "59s");
        ck_assert_str_eq(lb_pam_format_left(61, buf, sizeof(buf)), "1m");
        ck_assert_str_eq(lb_pam_format_left(-3, buf, sizeof(buf)), "0s");
        /* 2026-11-22T12:05:00Z */
        ck_assert_str_eq(lb_pam_format_end(1795349100, buf, sizeof(buf)), "2026-11-22 12:05 UTC");
}
END_TEST

START_TEST(test_msg_granted) {
        struct lb_access a = { .allow = true, .request = (char *) "r-1a2b3c4d5e6f",
                               .operator_ = (char *) "alice", .not_after = 1795349100,
                               .remaining_s = 7199 };
        char *m = lb_pam_msg_granted(&a);

        ck_assert_str_eq(m, "lockbox: access granted by request r-1a2b3c4d5e6f (alice), until "
                            "2026-11-22 12:05 UTC (1h59m left)");
        free(m);
        a.operator_ = (char *) "ev\x1b[2Jil";
        m = lb_pam_msg_granted(&a);
        ck_assert_ptr_null(strchr(m, '\x1b'));
        ck_assert_ptr_nonnull(strstr(m, "(ev\\x1b[2Jil)"));
        free(m);
        a.operator_ = NULL;
        m = lb_pam_msg_granted(&a);
        ck_assert_str_eq(m, "lockbox: access granted by request r-1a2b3c4d5e6f, until "
                            "2026-11-22 12:05 UTC (1h59m left)");
        free(m);
}
END_TEST

START_TEST(test_msg_refused) {
        struct lb_access a = { .reason = (char *) "request r-1 was revoked\x1b]52;c;eA==\x07",
                               .hint = (char *) "ask for access: lockboxctl request ..." };
        char *m = lb_pam_msg_refused(&a), *h = lb_pam_msg_hint(&a, "web1", "vendor");

        ck_assert_ptr_null(strchr(m, '\x1b'));
        ck_assert_ptr_null(strchr(m, '\x07'));
        ck_assert_str_eq(m, "lockbox: access refused: request r-1 was revoked\\x1b]52;c;eA==\\x07");
        ck_assert_str_eq(h, "lockbox: ask for access: lockboxctl request ...");
        free(m);
        free(h);
        a = (struct lb_access) {};
        m = lb_pam_msg_refused(&a);
        h = lb_pam_msg_hint(&a, "web1", "vendor");
        ck_assert_str_eq(m, "lockbox: access refused: no approved request");
        ck_assert_str_eq(h, "lockbox: ask for access: lockboxctl request --host web1 --user "
                            "vendor --reason TEXT --ticket T");
        free(m);
        free(h);
}
END_TEST

START_TEST(test_msg_unverified) {
        char *m = lb_pam_msg_unverified(-ECONNREFUSED, "login");
        ck_assert_str_eq(m, "lockbox: access could not be verified (broker unreachable); "
                            "refusing login");
        free(m);
        m = lb_pam_msg_unverified(-ETIMEDOUT, "login");
        ck_assert_str_eq(m, "lockbox: access could not be verified (broker did not answer in "
                            "time); refusing login");
        free(m);
        m = lb_pam_msg_unverified(-EBADMSG, "session");
        ck_assert_str_eq(m, "lockbox: access could not be verified (broker answer unreadable); "
                            "refusing session");
        free(m);
        m = lb_pam_msg_unverified(-EIO, "login");
        ck_assert_str_eq(m, "lockbox: access could not be verified (broker error); refusing login");
        free(m);
}
END_TEST

START_TEST(test_audit_session) {
        uint32_t s = 0;

        ck_assert_int_eq(lb_pam_parse_audit_session("7\n", &s), 0);
        ck_assert_uint_eq(s, 7);
        ck_assert_int_eq(lb_pam_parse_audit_session("4294967295", &s), -ENXIO);
        ck_assert_int_lt(lb_pam_parse_audit_session("", &s), 0);
        ck_assert_int_lt(lb_pam_parse_audit_session("-1", &s), 0);
        ck_assert_int_lt(lb_pam_parse_audit_session("12x", &s), 0);
        ck_assert_int_lt(lb_pam_parse_audit_session("4294967296", &s), 0);
}
END_TEST

static struct lb_session sample_session(void) {
        return (struct lb_session) { .session = (char *) "s-0123456789abcdef",
                                     .request = (char *) "r-1a2b3c4d5e6f",
                                     .operator_ = (char *) "alice", .state = (char *) "open",
                                     .allow = true, .not_after = 1795349100,
                                     .remaining_s = 7199 };
}

START_TEST(test_record_format) {
        struct lb_session s = sample_session();
        struct lb_pam_record rec = { .session = &s, .user = "vendor", .host = "web1",
                                     .audit_session = 7, .sshd_pid = 4242,
                                     .mono_ms = 123456789, .created_at = 1795342301 };
        json_error_t err;
        json_t *j;
        char *text = NULL, *id = NULL;

        ck_assert_int_eq(lb_pam_record_format(&rec, &text), 0);
        ck_assert_str_eq(text,
                         "{\"audit_session\":7,\"created_at\":\"2026-11-22T10:11:41Z\","
                         "\"host\":\"web1\",\"mono_ms\":123456789,\"not_after\":"
                         "\"2026-11-22T12:05:00Z\",\"operator\":\"alice\",\"remaining_s\":7199,"
                         "\"request\":\"r-1a2b3c4d5e6f\",\"session\":\"s-0123456789abcdef\","
                         "\"sshd_pid\":4242,\"user\":\"vendor\"}");
        j = json_loads(text, 0, &err);
        ck_assert_ptr_nonnull(j);
        json_decref(j);
        ck_assert_int_eq(lb_pam_record_parse_session(text, strlen(text), &id), 0);
        ck_assert_str_eq(id, "s-0123456789abcdef");
        free(id);
        free(text);
        ck_assert_int_eq(lb_pam_record_parse_session("{\"session\":\"s-\\u001b\"}", 19, &id),
                         -EBADMSG);
        ck_assert_int_eq(lb_pam_record_parse_session("[]", 2, &id), -EBADMSG);
        {
                /* the kernel audit's lost counter at open, when it was read */
                uint64_t lost = 0;

                rec.has_audit_lost = true;
                rec.audit_lost = 22065;
                ck_assert_int_eq(lb_pam_record_format(&rec, &text), 0);
                ck_assert_ptr_nonnull(strstr(text, "\"audit_lost\":22065,"));
                ck_assert_int_eq(lb_pam_record_parse_audit_lost(text, strlen(text), 7, &lost), 0);
                ck_assert_uint_eq(lost, 22065);
                ck_assert_int_eq(lb_pam_record_parse_audit_lost(text, strlen(text), 8, &lost),
                                 -EBADMSG);
                free(text);
                rec.has_audit_lost = false;
                ck_assert_int_eq(lb_pam_record_format(&rec, &text), 0);
                ck_assert_int_eq(lb_pam_record_parse_audit_lost(text, strlen(text), 7, &lost),
                                 -ENOENT);
                free(text);
                text = (char *) "{\"audit_session\":7,\"audit_lost\":-1}";
                ck_assert_int_eq(lb_pam_record_parse_audit_lost(text, strlen(text), 7, &lost),
                                 -EBADMSG);
                text = NULL;
        }
        ck_assert_int_eq(lb_pam_record_parse_session("{}", 2, &id), -EBADMSG);
}
END_TEST

/* who a record belongs to: the nested sudo/su path trusts it only for its own
 * audit session and account */
START_TEST(test_record_user) {
        char *u = NULL;
        const char *rec = "{\"audit_session\":7,\"session\":\"s-1\",\"user\":\"vendor\"}";

        ck_assert_int_eq(lb_pam_record_parse_user(rec, strlen(rec), 7, &u), 0);
        ck_assert_str_eq(u, "vendor");
        free(u);
        ck_assert_int_eq(lb_pam_record_parse_user(rec, strlen(rec), 8, &u), -EBADMSG);
        rec = "{\"audit_session\":\"7\",\"user\":\"vendor\"}";
        ck_assert_int_eq(lb_pam_record_parse_user(rec, strlen(rec), 7, &u), -EBADMSG);
        rec = "{\"audit_session\":7,\"user\":\"\"}";
        ck_assert_int_eq(lb_pam_record_parse_user(rec, strlen(rec), 7, &u), -EBADMSG);
        rec = "{\"audit_session\":7,\"user\":\"a\",\"user\":\"b\"}";
        ck_assert_int_eq(lb_pam_record_parse_user(rec, strlen(rec), 7, &u), -EBADMSG);
        ck_assert_int_eq(lb_pam_record_parse_user("[]", 2, 7, &u), -EBADMSG);
}
END_TEST

START_TEST(test_record_files) {
        char tmpl[] = "/tmp/lbx-unit-XXXXXX", path[512];
        char *dir = mkdtemp(tmpl), *state = NULL, *json = NULL;
        struct stat st;
        size_t len;

        ck_assert_ptr_nonnull(dir);
        state = lb_asprintf("%s/state", dir);
        ck_assert_int_eq(lb_pam_record_write(state, 7, "{\"session\":\"s-1\"}"), 0);
        snprintf(path, sizeof(path), "%s/sessions", state);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        snprintf(path, sizeof(path), "%s/sessions/7.json", state);
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
        ck_assert_uint_eq(st.st_uid, geteuid());
        ck_assert_int_eq(lb_pam_record_read(state, 7, &json, &len), 0);
        ck_assert_str_eq(json, "{\"session\":\"s-1\"}\n");
        free(json);
        /* overwrite is atomic (rename) and leaves no temporary behind */
        ck_assert_int_eq(lb_pam_record_write(state, 7, "{\"session\":\"s-2\"}"), 0);
        ck_assert_int_eq(lb_pam_record_read(state, 7, &json, &len), 0);
        ck_assert_str_eq(json, "{\"session\":\"s-2\"}\n");
        free(json);
        ck_assert_int_eq(lb_pam_record_remove(state, 7), 0);
        ck_assert_int_eq(lb_pam_record_remove(state, 7), -ENOENT);
        ck_assert_int_eq(lb_pam_record_read(state, 7, &json, &len), -ENOENT);
        snprintf(path, sizeof(path), "%s/sessions", state);
        ck_assert_int_eq(rmdir(path), 0); /* empty: no temporary left */

        /* never through a symlink: not for the file, not for the directory */
        ck_assert_int_eq(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/sessions/8.json", state);
        ck_assert_int_eq(symlink("/etc/passwd", path), 0);
        ck_assert_int_lt(lb_pam_record_read(state, 8, &json, &len), 0);
        unlink(path);
        snprintf(path, sizeof(path), "%s/sessions", state);
        rmdir(path);
        ck_assert_int_eq(symlink(dir, path), 0);
        ck_assert_int_lt(lb_pam_record_write(state, 9, "{}"), 0);
        unlink(path);
        /* a sessions directory others may write to is not trusted */
        ck_assert_int_eq(mkdir(path, 0700), 0);
        ck_assert_int_eq(chmod(path, 0777), 0);
        ck_assert_int_eq(lb_pam_record_write(state, 9, "{}"), -EPERM);
        rmdir(path);
        /* no record for an unset audit session */
        ck_assert_int_eq(lb_pam_record_write(state, LB_AUDIT_SESSION_UNSET, "{}"), -ENXIO);
        ck_assert_int_eq(lb_pam_record_write("relative", 9, "{}"), -EINVAL);
        rmdir(state);
        rmdir(dir);
        free(state);
}
END_TEST

/* common/ pieces the module's decisions rest on */
START_TEST(test_access_lies) {
        struct lb_access a;
        const char *other = "{\"allow\":true,\"request\":\"r-1\",\"host\":\"web2\",\"user\":\"v\","
                            "\"not_after\":\"2026-11-22T12:05:00Z\",\"remaining_s\":5}";
        const char *neg = "{\"allow\":true,\"request\":\"r-1\",\"not_after\":"
                          "\"2026-11-22T12:05:00Z\",\"remaining_s\":-1}";
        const char *badid = "{\"allow\":true,\"request\":\"r 1\",\"not_after\":"
                            "\"2026-11-22T12:05:00Z\",\"remaining_s\":5}";
        const char *strrem = "{\"allow\":true,\"request\":\"r-1\",\"not_after\":"
                             "\"2026-11-22T12:05:00Z\",\"remaining_s\":\"5\"}";

        /* host/user are kept so the module can refuse an answer about someone else */
        ck_assert_int_eq(lb_access_parse(other, strlen(other), &a), 0);
        ck_assert_str_eq(a.host, "web2");
        ck_assert_str_eq(a.user, "v");
        lb_access_done(&a);
        ck_assert_int_eq(lb_access_parse(neg, strlen(neg), &a), -EBADMSG);
        ck_assert_int_eq(lb_access_parse(badid, strlen(badid), &a), -EBADMSG);
        ck_assert_int_eq(lb_access_parse(strrem, strlen(strrem), &a), -EBADMSG);
}
END_TEST

START_TEST(test_authinfo_more) {
        char *k = NULL;

        /* a password step before the key step: the key counts */
        ck_assert_int_eq(lb_authinfo_parse("password\npublickey " KEY "\n", &k), 0);
        ck_assert_str_eq(k, KEY);
        free(k);
        ck_assert_int_eq(lb_authinfo_parse("keyboard-interactive\n", &k), -ENOENT);
        ck_assert_int_eq(lb_authinfo_parse("publickey " KEY " trailing comment\n", &k), 0);
        ck_assert_str_eq(k, KEY);
        free(k);
}
END_TEST

START_TEST(test_host_conf) {
        struct lb_host_conf c;
        char *h = NULL;

        lb_host_conf_init(&c);
        ck_assert_str_eq(c.no_key_login, "deny");
        ck_assert_uint_eq(c.timeout_ms, 5000);
        ck_assert_int_eq(lb_host_conf_set(&c, "operators", "a, b"), 0);
        ck_assert_int_eq(lb_host_conf_set(&c, "operator_group", ""), 0);
        ck_assert_int_eq(lb_host_conf_is_managed(&c, "b"), 1);
        ck_assert_int_eq(lb_host_conf_is_managed(&c, "root"), 0);
        ck_assert_int_eq(lb_host_conf_set(&c, "no_key_login", "allow"), -EINVAL);
        /* ssh_services: sshd by default; a list; never empty, never a path */
        ck_assert(lb_strv_contains(c.ssh_services, "sshd"));
        ck_assert_int_eq(lb_host_conf_set(&c, "ssh_services", "sshd, lbx-sshd"), 0);
        ck_assert(lb_strv_contains(c.ssh_services, "lbx-sshd"));
        ck_assert(lb_strv_contains(c.ssh_services, "sshd"));
        ck_assert_int_eq(lb_host_conf_set(&c, "ssh_services", " , "), -EINVAL);
        ck_assert_int_eq(lb_host_conf_set(&c, "ssh_services", "../cron"), -EINVAL);
        ck_assert(lb_strv_contains(c.ssh_services, "lbx-sshd"));
        ck_assert_int_eq(lb_host_conf_set(&c, "host_name", "web1"), 0);
        ck_assert_int_eq(lb_host_conf_host_name(&c, &h), 0);
        ck_assert_str_eq(h, "web1");
        free(h);
        ck_assert_int_eq(lb_host_conf_set(&c, "host_name", ""), 0);
        ck_assert_int_eq(lb_host_conf_host_name(&c, &h), 0); /* gethostname() */
        ck_assert(lb_name_valid(h, 253));
        free(h);
        lb_host_conf_done(&c);
}
END_TEST

int main(void) {
        Suite *s = suite_create("pam_lockbox");
        TCase *tc = tcase_create("pure");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_left_and_end);
        tcase_add_test(tc, test_msg_granted);
        tcase_add_test(tc, test_msg_refused);
        tcase_add_test(tc, test_msg_unverified);
        tcase_add_test(tc, test_audit_session);
        tcase_add_test(tc, test_record_format);
        tcase_add_test(tc, test_record_user);
        tcase_add_test(tc, test_record_files);
        tcase_add_test(tc, test_access_lies);
        tcase_add_test(tc, test_authinfo_more);
        tcase_add_test(tc, test_host_conf);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
