/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl doctor's readers: PAM stacks and sshd settings, from files in a
 * temporary root (no root, no network). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "doctor.h"
#include "macro.h"
#include "util.h"

static char root[] = "/tmp/lbx-doctor-unit.XXXXXX";

static void put(const char *rel, const char *text) {
        _cleanup_free_ char *path = lb_asprintf("%s%s", root, rel);
        _cleanup_free_ char *dir = strdup(path);
        FILE *f;

        *strrchr(dir, '/') = 0;
        {
                _cleanup_free_ char *cmd = lb_asprintf("mkdir -p '%s'", dir);
                ck_assert_int_eq(system(cmd), 0);
        }
        f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void) {
        _cleanup_free_ char *cmd = lb_asprintf("rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
        strcpy(root + strlen(root) - 6, "XXXXXX");
}

static long find_and_skips(const char *service, const char *type, char **ret_why) {
        struct lb_pam_stack s = {};
        _cleanup_free_ char *err = NULL;
        long i;

        ck_assert_int_ge(lb_pam_stack_load(root, service, type, &s, &err), 0);
        i = lb_pam_stack_find(&s, "pam_lockbox.so");
        *ret_why = i >= 0 ? lb_pam_stack_skips(&s, (size_t) i) : NULL;
        lb_pam_stack_done(&s);
        return i;
}

START_TEST(pam_includes_and_order) {
        struct lb_pam_stack s = {};
        _cleanup_free_ char *err = NULL;

        put("/etc/pam.d/common-account",
            "# comment\naccount [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\n"
            "account requisite pam_deny.so\naccount required pam_permit.so\n");
        put("/etc/pam.d/sshd",
            "@include common-account\n-account required /lib/security/pam_lockbox.so config=/x\n"
            "session required pam_loginuid.so\nsession include common-session\n");
        put("/etc/pam.d/common-session", "session required pam_lockbox.so\n");
        ck_assert_int_eq(lb_pam_stack_load(root, "sshd", "account", &s, &err), 0);
        ck_assert_uint_eq(s.n, 4);
        ck_assert_int_eq(lb_pam_stack_find(&s, "pam_lockbox.so"), 3);
        ck_assert_str_eq(s.lines[3].control, "required");
        ck_assert_str_eq(s.lines[0].control, "[success=1 new_authtok_reqd=done default=ignore]");
        ck_assert_str_eq(s.lines[0].file, "/etc/pam.d/common-account");
        ck_assert_uint_eq(s.lines[0].line, 2);
        /* success=1 skips pam_deny only */
        ck_assert_ptr_null(lb_pam_stack_skips(&s, 3));
        lb_pam_stack_done(&s);

        ck_assert_int_eq(lb_pam_stack_load(root, "sshd", "session", &s, &err), 0);
        ck_assert_uint_eq(s.n, 2);
        ck_assert_int_eq(lb_pam_stack_find(&s, "pam_loginuid.so"), 0);
        ck_assert_int_eq(lb_pam_stack_find(&s, "pam_lockbox.so"), 1);
        lb_pam_stack_done(&s);

        ck_assert_int_eq(lb_pam_stack_load(root, "nosuch", "session", &s, &err), -ENOENT);
        ck_assert_str_eq(err, "/etc/pam.d/nosuch");
}
END_TEST

START_TEST(pam_skips) {
        _cleanup_free_ char *why = NULL;

        put("/etc/pam.d/a", "account sufficient pam_permit.so\naccount required pam_lockbox.so\n");
        ck_assert_int_eq(find_and_skips("a", "account", &why), 1);
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_nonnull(strstr(why, "sufficient"));
        free(TAKE_PTR(why));

        put("/etc/pam.d/b", "account [success=done default=ignore] pam_x.so\naccount required pam_lockbox.so\n");
        ck_assert_int_eq(find_and_skips("b", "account", &why), 1);
        ck_assert_ptr_nonnull(why);
        free(TAKE_PTR(why));

        /* success=2 from line 0 lands on line 3: pam_lockbox at 3 is not skipped, at 2 it is */
        put("/etc/pam.d/c", "account [success=2 default=ignore] pam_x.so\naccount required pam_y.so\n"
            "account required pam_z.so\naccount required pam_lockbox.so\n");
        ck_assert_int_eq(find_and_skips("c", "account", &why), 3);
        ck_assert_ptr_null(why);
        put("/etc/pam.d/d", "account [success=2 default=ignore] pam_x.so\naccount required pam_y.so\n"
            "account required pam_lockbox.so\n");
        ck_assert_int_eq(find_and_skips("d", "account", &why), 2);
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_nonnull(strstr(why, "jumps over"));
        free(TAKE_PTR(why));

        /* "sufficient" inside a substack ends only the substack */
        put("/etc/pam.d/sub", "account sufficient pam_permit.so\n");
        put("/etc/pam.d/e", "account substack sub\naccount required pam_lockbox.so\n");
        ck_assert_int_eq(find_and_skips("e", "account", &why), 1);
        ck_assert_ptr_null(why);
        /* ... but through "include" it ends the whole stack */
        put("/etc/pam.d/f", "account include sub\naccount required pam_lockbox.so\n");
        ck_assert_int_eq(find_and_skips("f", "account", &why), 1);
        ck_assert_ptr_nonnull(why);
        free(TAKE_PTR(why));

        /* after pam_lockbox: harmless */
        put("/etc/pam.d/g", "account required pam_lockbox.so\naccount sufficient pam_permit.so\n");
        ck_assert_int_eq(find_and_skips("g", "account", &why), 0);
        ck_assert_ptr_null(why);
}
END_TEST

START_TEST(sshd_T) {
        struct lb_sshd_settings s = {};

        ck_assert_int_eq(lb_sshd_settings_parse_T("port 22\nmaxsessions 1\nforcecommand /x/rec --a\n"
                                                  "maxsessions 7\n\n", &s), 0);
        ck_assert_str_eq(lb_sshd_settings_get(&s, "maxsessions"), "1");
        ck_assert_str_eq(lb_sshd_settings_get(&s, "forcecommand"), "/x/rec --a");
        ck_assert_ptr_null(lb_sshd_settings_get(&s, "usepam"));
        lb_sshd_settings_done(&s);
}
END_TEST

START_TEST(sshd_files) {
        struct lb_sshd_settings s = {};
        _cleanup_free_ char *err = NULL;

        put("/etc/ssh/sshd_config",
            "Include sshd_config.d/*.conf\nUsePAM yes\nMaxSessions 4\n"
            "Match User bob\n  ForceCommand /bin/bob\n");
        put("/etc/ssh/sshd_config.d/10-lockbox.conf",
            "Match Group ops,other\n  MaxSessions 1\n  ForceCommand \"/usr/libexec/lockbox/lockbox-record\"\n"
            "  ExposeAuthInfo=yes\n");
        put("/etc/ssh/sshd_config.d/20-more.conf", "PermitTunnel yes\n");

        /* a member of ops: the Match block applies, and it ends with its file */
        ck_assert_int_eq(lb_sshd_settings_load(root, "/etc/ssh/sshd_config", "alice", "ops", &s, &err), 0);
        ck_assert_str_eq(lb_sshd_settings_get(&s, "maxsessions"), "1");
        ck_assert_str_eq(lb_sshd_settings_get(&s, "forcecommand"), "/usr/libexec/lockbox/lockbox-record");
        ck_assert_str_eq(lb_sshd_settings_get(&s, "exposeauthinfo"), "yes");
        ck_assert_str_eq(lb_sshd_settings_get(&s, "permittunnel"), "yes");
        ck_assert_str_eq(lb_sshd_settings_get(&s, "usepam"), "yes");
        /* defaults for what nobody set */
        ck_assert_str_eq(lb_sshd_settings_get(&s, "permituserrc"), "yes");
        ck_assert_str_eq(lb_sshd_settings_get(&s, "authorizedkeysfile"),
                         ".ssh/authorized_keys .ssh/authorized_keys2");
        lb_sshd_settings_done(&s);

        /* another group: the block does not apply */
        ck_assert_int_eq(lb_sshd_settings_load(root, "/etc/ssh/sshd_config", "carol", "staff", &s, &err), 0);
        ck_assert_str_eq(lb_sshd_settings_get(&s, "maxsessions"), "4");
        ck_assert_str_eq(lb_sshd_settings_get(&s, "forcecommand"), "none");
        lb_sshd_settings_done(&s);

        ck_assert_int_eq(lb_sshd_settings_load(root, "/etc/ssh/nosuch", "a", "ops", &s, &err), -ENOENT);
}
END_TEST

static void audit_is(const char *want, const char *want_where) {
        _cleanup_free_ char *v = NULL, *w = NULL;
        ck_assert_int_eq(lb_journald_audit_setting(root, &v, &w), 0);
        if (!want) {
                ck_assert_ptr_null(v);
                return;
        }
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v, want);
        ck_assert_str_eq(w, want_where);
}

START_TEST(journald_audit) {
        /* nothing set: journald's default */
        audit_is(NULL, NULL);
        put("/etc/systemd/journald.conf", "[Journal]\n#Audit=no\n[Other]\nAudit=yes\n");
        audit_is(NULL, NULL);
        /* Lockbox's drop-in: empty, leave the kernel alone */
        put("/usr/lib/systemd/journald.conf.d/lockbox.conf", "# c\n[Journal]\nAudit=\n");
        audit_is("", "/usr/lib/systemd/journald.conf.d/lockbox.conf");
        /* a later name wins, whatever its directory */
        put("/etc/systemd/journald.conf.d/zz-local.conf", "[Journal]\n Audit = no \n");
        audit_is("no", "/etc/systemd/journald.conf.d/zz-local.conf");
        put("/etc/systemd/journald.conf.d/zz-local.conf", "[Journal]\nStorage=auto\n");
        audit_is("", "/usr/lib/systemd/journald.conf.d/lockbox.conf");
        /* the same name in /etc hides the one in /usr/lib */
        put("/etc/systemd/journald.conf.d/lockbox.conf", "[Journal]\n");
        audit_is(NULL, NULL);
        /* the main file counts before any drop-in */
        put("/etc/systemd/journald.conf", "[Journal]\nAudit=yes\n");
        audit_is("yes", "/etc/systemd/journald.conf");
        put("/run/systemd/journald.conf.d/a.conf", "[Journal]\nAudit=no\n");
        audit_is("no", "/run/systemd/journald.conf.d/a.conf");
}
END_TEST

START_TEST(pam_args) {
        struct lb_pam_stack s = {};
        _cleanup_free_ char *err = NULL;

        put("/etc/pam.d/sshd",
            "session required pam_env.so # [1]\n"
            "session required pam_env.so user_readenv=1 envfile=/etc/default/locale\n"
            "session required pam_env.so user_readenv=10\n"
            "session [success=ok default=bad] pam_selinux.so open\n");
        ck_assert_int_eq(lb_pam_stack_load(root, "sshd", "session", &s, &err), 0);
        ck_assert_uint_eq(s.n, 4);
        ck_assert_str_eq(s.lines[0].args, "");
        ck_assert(!lb_pam_line_has_arg(&s.lines[0], "user_readenv=1"));
        ck_assert_str_eq(s.lines[1].args, "user_readenv=1 envfile=/etc/default/locale");
        ck_assert(lb_pam_line_has_arg(&s.lines[1], "user_readenv=1"));
        ck_assert(lb_pam_line_has_arg(&s.lines[1], "envfile=/etc/default/locale"));
        ck_assert(!lb_pam_line_has_arg(&s.lines[2], "user_readenv=1"));
        ck_assert(lb_pam_line_has_arg(&s.lines[3], "open"));
        lb_pam_stack_done(&s);
}
END_TEST

START_TEST(allow_deny) {
        const char *ca = "/etc/cron.allow", *cd = "/etc/cron.deny";

        /* neither file: cron lets everyone, at only root */
        ck_assert_int_eq(lb_allow_deny_refuses(root, ca, cd, true, "op"), 0);
        ck_assert_int_eq(lb_allow_deny_refuses(root, ca, cd, false, "op"), 1);
        /* deny: whole lines only, blanks around a name ignored */
        put(cd, "daemon\n  op  \nop2x\n");
        ck_assert_int_eq(lb_allow_deny_refuses(root, ca, cd, true, "op"), 1);
        ck_assert_int_eq(lb_allow_deny_refuses(root, ca, cd, true, "op2"), 0);
        /* allow, when it exists, is the only list read */
        put(ca, "root\n");
        ck_assert_int_eq(lb_allow_deny_refuses(root, ca, cd, true, "op"), 1);
        put(ca, "root\nop\n");
        ck_assert_int_eq(lb_allow_deny_refuses(root, ca, cd, true, "op"), 0);
}
END_TEST

int main(void) {
        Suite *su = suite_create("doctor");
        TCase *tc = tcase_create("readers");
        SRunner *sr;
        int failed;

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, pam_includes_and_order);
        tcase_add_test(tc, pam_skips);
        tcase_add_test(tc, sshd_T);
        tcase_add_test(tc, sshd_files);
        tcase_add_test(tc, journald_audit);
        tcase_add_test(tc, pam_args);
        tcase_add_test(tc, allow_deny);
        suite_add_tcase(su, tc);
        sr = srunner_create(su);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
