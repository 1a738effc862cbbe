/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The operator's side cannot push bytes into its terminal's input queue
 * behind the recorder's back (TIOCSTI), whatever high bits the request has. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record-confine.h"
#include "record-priv.h"
#include "util.h"

/* In a child: a new session whose controlling terminal is a fresh pty's
 * slave; optionally confined; then TIOCSTI one byte with the given request.
 * Exits 0 when the ioctl worked, 1 when it failed with EPERM, 2 otherwise. */
static int try_sti(bool confine, unsigned long request) {
        pid_t pid = fork();
        int status;

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int m, s;
                char buf[64] = "x"; /* large enough for TIOCGWINSZ too */
                if (setsid() < 0)
                        _exit(3);
                m = posix_openpt(O_RDWR);
                if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
                        _exit(3);
                s = open(ptsname(m), O_RDWR); /* becomes the controlling terminal */
                if (s < 0)
                        _exit(3);
                if (confine) {
                        /* as root the filter needs no no_new_privs; as a
                         * user the kernel wants it set first */
                        if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                                _exit(3);
                        if (lb_rec_confine_terminal_injection() < 0)
                                _exit(4);
                }
                if (ioctl(s, request, buf) == 0)
                        _exit(0);
                _exit(errno == EPERM ? 1 : 2);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        return WEXITSTATUS(status);
}

START_TEST(test_tiocsti_denied) {
        /* the control: on kernels with dev.tty.legacy_tiocsti = 0 nobody
         * without CAP_SYS_ADMIN can inject even unconfined */
        int control = try_sti(false, TIOCSTI);
        int plain = try_sti(true, TIOCSTI);
        /* the kernel reads the request as 32 bits: high bits change nothing */
        int high = try_sti(true, TIOCSTI | (1UL << 32));

        ck_assert_int_lt(control, 3);
        /* confined, injection never works */
        ck_assert_int_ne(plain, 0);
        ck_assert_int_ne(high, 0);
        /* and where the kernel itself allows it, it is the filter that says no */
        if (control == 0) {
                ck_assert_int_eq(plain, 1);
                ck_assert_int_eq(high, 1);
        }
}
END_TEST

START_TEST(test_other_ioctls_allowed) {
        /* a confined process still uses its terminal */
        ck_assert_int_ne(try_sti(true, TIOCGWINSZ), 1);
}
END_TEST

START_TEST(test_env_untyped_code) {
        const char *in[] = { "TERM=xterm", "LD_PRELOAD=/tmp/x.so", "BASH_ENV=/home/v/.b", "ENV=/e",
                             "BASH_FUNC_ls%%=() { evil; }", "PROMPT_COMMAND=evil", "PS1=$(evil)",
                             "LANG=C.UTF-8", "ENVIRONMENT=kept", "LD=kept", "PATH=/usr/bin", NULL };
        const char *want[] = { "TERM=xterm", "LANG=C.UTF-8", "ENVIRONMENT=kept", "LD=kept",
                               "PATH=/usr/bin", NULL };
        char **env = calloc(ELEMENTSOF(in), sizeof(char *));
        size_t i;

        ck_assert_ptr_nonnull(env);
        for (i = 0; in[i]; i++)
                env[i] = strdup(in[i]);
        ck_assert_uint_eq(lb_rec_env_drop_untyped_code(env), 6);
        for (i = 0; want[i]; i++)
                ck_assert_str_eq(env[i], want[i]);
        ck_assert_ptr_null(env[i]);
        lb_strv_free(env);
        ck_assert_uint_eq(lb_rec_env_drop_untyped_code(NULL), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("record-confine");
        TCase *tc = tcase_create("seccomp");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_tiocsti_denied);
        tcase_add_test(tc, test_other_ioctls_allowed);
        tcase_add_test(tc, test_env_untyped_code);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
