/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl doctor's readers: PAM stacks and sshd settings, from files in a
 * temporary root (no root, no network). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

START_TEST(sysctl_number) {
        uint64_t v = 7;

        ck_assert_int_eq(lb_doctor_parse_sysctl_u64("96551\n", &v), 0);
        ck_assert_uint_eq(v, 96551);
        ck_assert_int_eq(lb_doctor_parse_sysctl_u64("0\n", &v), 0);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(lb_doctor_parse_sysctl_u64("0", &v), 0);
        ck_assert_uint_eq(v, 0);
        /* not one number: never read as 0 or as a prefix */
        ck_assert_int_lt(lb_doctor_parse_sysctl_u64("", &v), 0);
        ck_assert_int_lt(lb_doctor_parse_sysctl_u64("\n", &v), 0);
        ck_assert_int_lt(lb_doctor_parse_sysctl_u64("12 34\n", &v), 0);
        ck_assert_int_lt(lb_doctor_parse_sysctl_u64("-1\n", &v), 0);
        ck_assert_int_lt(lb_doctor_parse_sysctl_u64("1\n\n", &v), 0);
        ck_assert_int_lt(lb_doctor_parse_sysctl_u64("0x10\n", &v), 0);
        ck_assert_int_lt(lb_doctor_parse_sysctl_u64(NULL, &v), 0);
}
END_TEST

START_TEST(status_seccomp) {
        unsigned m = 9;

        ck_assert_int_eq(lb_doctor_status_seccomp("Name:\tx\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n", &m), 0);
        ck_assert_uint_eq(m, 0);
        ck_assert_int_eq(lb_doctor_status_seccomp("Seccomp:\t2\n", &m), 0);
        ck_assert_uint_eq(m, 2);
        /* the field last, without a newline */
        ck_assert_int_eq(lb_doctor_status_seccomp("Name:\tx\nSeccomp:\t1", &m), 0);
        ck_assert_uint_eq(m, 1);
        /* a kernel without CONFIG_SECCOMP has no such line; Seccomp_filters
         * alone is not it */
        ck_assert_int_eq(lb_doctor_status_seccomp("Name:\tx\nNoNewPrivs:\t0\n", &m), -ENOENT);
        ck_assert_int_eq(lb_doctor_status_seccomp("Seccomp_filters:\t0\n", &m), -ENOENT);
        ck_assert_int_eq(lb_doctor_status_seccomp("", &m), -ENOENT);
        ck_assert_int_eq(lb_doctor_status_seccomp("Seccomp:\t3\n", &m), -EINVAL);
        ck_assert_int_eq(lb_doctor_status_seccomp("Seccomp:\tx\n", &m), -EINVAL);
}
END_TEST

static struct stat file_stat(dev_t dev, ino_t ino, mode_t mode, uid_t uid) {
        struct stat st = {};

        st.st_dev = dev;
        st.st_ino = ino;
        st.st_mode = mode;
        st.st_uid = uid;
        return st;
}

START_TEST(shell_problem) {
        const char *rec = "/usr/libexec/lockbox/lockbox-record";
        struct stat bash = file_stat(1, 10, S_IFREG | 0755, 0);
        struct stat recst = file_stat(1, 20, S_IFREG | 04755, 0);
        struct stat dir = file_stat(1, 30, S_IFDIR | 0755, 0);
        struct stat noexec = file_stat(1, 40, S_IFREG | 0644, 0);
        struct stat owner_only = file_stat(1, 50, S_IFREG | 0700, 0);
        struct stat link_to_rec = file_stat(1, 20, S_IFREG | 04755, 0);
        char *why;

        ck_assert_ptr_null(lb_doctor_shell_problem("/bin/bash", &bash, 0, rec, &recst));
        ck_assert_ptr_null(lb_doctor_shell_problem("/bin/bash", &bash, 0, rec, NULL));
        /* execute bits at all here; who may run it is tried as each operator */
        ck_assert_ptr_null(lb_doctor_shell_problem("/bin/bash", &owner_only, 0, rec, &recst));

#define BAD(shell, st, e, want)                                                              \
        do {                                                                                 \
                why = lb_doctor_shell_problem(shell, st, e, rec, &recst);                    \
                ck_assert_ptr_nonnull(why);                                                  \
                ck_assert_msg(strstr(why, want), "'%s' lacks '%s'", why, want);              \
                free(why);                                                                   \
        } while (0)
        BAD(NULL, &bash, 0, "no shell");
        BAD("", &bash, 0, "no shell");
        BAD("bash", &bash, 0, "not an absolute path");
        BAD(rec, &recst, 0, "the recorder itself");
        /* another name of the same file: a link, a bind mount */
        BAD("/usr/local/bin/lbsh", &link_to_rec, 0, "the same file as");
        BAD("/bin/nosuch", NULL, ENOENT, "No such file");
        BAD("/bin", &dir, 0, "not a regular file");
        BAD("/etc/passwd", &noexec, 0, "not executable");
#undef BAD
}
END_TEST

START_TEST(recorder_problem) {
        struct stat st = file_stat(1, 1, S_IFREG | 04755, 0);
        char *why;

        ck_assert_ptr_null(lb_doctor_recorder_problem(&st));
        /* operators in its group only: tried as each of them by the caller */
        st.st_mode = S_IFREG | 04750;
        ck_assert_ptr_null(lb_doctor_recorder_problem(&st));
#define BAD(mode, uid, want)                                                                 \
        do {                                                                                 \
                st.st_mode = (mode);                                                         \
                st.st_uid = (uid);                                                           \
                why = lb_doctor_recorder_problem(&st);                                       \
                ck_assert_ptr_nonnull(why);                                                  \
                ck_assert_msg(strstr(why, want), "'%s' lacks '%s'", why, want);              \
                free(why);                                                                   \
        } while (0)
        BAD(S_IFREG | 0755, 0, "not setuid");
        BAD(S_IFREG | 04755, 1000, "not root");
        BAD(S_IFREG | 04775, 0, "writable by group or others");
        BAD(S_IFREG | 04757, 0, "writable by group or others");
        BAD(S_IFDIR | 04755, 0, "not a regular file");
#undef BAD
}
END_TEST

START_TEST(socket_writable) {
        struct stat st = file_stat(1, 1, S_IFSOCK | 0660, 0);
        gid_t rec_groups[] = { 990, 988, 999 }, other[] = { 990, 999 };
        const char *class = NULL;

        st.st_gid = 988; /* root:lockbox-clients 0660 */
        ck_assert(lb_doctor_socket_writable(&st, 990, rec_groups, 3, &class));
        ck_assert_str_eq(class, "group");
        ck_assert(!lb_doctor_socket_writable(&st, 990, other, 2, &class));
        ck_assert_str_eq(class, "others");
        ck_assert(!lb_doctor_socket_writable(&st, 990, NULL, 0, &class));
        /* the owner class decides for the owner, whatever its groups */
        st.st_uid = 990;
        st.st_mode = S_IFSOCK | 0060;
        ck_assert(!lb_doctor_socket_writable(&st, 990, rec_groups, 3, &class));
        ck_assert_str_eq(class, "owner");
        /* the group class decides for a member, even when others may */
        st.st_uid = 0;
        st.st_mode = S_IFSOCK | 0606;
        ck_assert(!lb_doctor_socket_writable(&st, 990, rec_groups, 3, &class));
        ck_assert_str_eq(class, "group");
        ck_assert(lb_doctor_socket_writable(&st, 990, other, 2, &class));
        ck_assert_str_eq(class, "others");
        /* read-only for the group: connect() needs write */
        st.st_mode = S_IFSOCK | 0640;
        ck_assert(!lb_doctor_socket_writable(&st, 990, rec_groups, 3, NULL));
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
        tcase_add_test(tc, sysctl_number);
        tcase_add_test(tc, status_seccomp);
        tcase_add_test(tc, shell_problem);
        tcase_add_test(tc, recorder_problem);
        tcase_add_test(tc, socket_writable);
        suite_add_tcase(su, tc);
        sr = srunner_create(su);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
