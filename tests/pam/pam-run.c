/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drive a PAM stack the way sshd does, for the PAM stack tests.
 *
 *   pam-run --confdir DIR --service NAME --user USER [--rhost H] [--tty T]
 *           [--putenv NAME=VALUE]... [--module PATH [--arg ARG]...] STEP...
 *
 * The service file DIR/NAME is read with pam_start_confdir() (Linux-PAM >= 1.5),
 * so the system's /etc/pam.d is never involved. STEPs run in order on one
 * handle:
 *   auth acct open close        through libpam's stack (pam_authenticate, ...)
 *   sm-acct sm-open sm-close    the module's own pam_sm_* called directly on
 *                               the same handle with the --arg arguments, to
 *                               see exactly what it returned (PAM_IGNORE is
 *                               otherwise folded into the stack's result)
 *   putenv:NAME=VALUE           set a PAM environment variable now
 *   exec CMD ARG...             run CMD (the rest of the line) in a child and
 *                               wait for it: the child shares this process's
 *                               audit session, as a sudo typed in the login
 *                               would (options come before the first STEP)
 * Prints, in order: every conversation message ("info: ...", "error: ...";
 * a prompt is printed as "PROMPT: ..." and answered with an error), a line
 * "STEP PAM_CODE elapsed_ms=N elapsed_us=N" per step (bench/pam-account.sh
 * uses the latter), and after each open step the
 * LOCKBOX_* variables of the PAM environment ("env: NAME=VALUE"). */
#include "config.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <getopt.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

static const char *code_name(int r) {
        static const struct { int code; const char *name; } names[] = {
                { PAM_SUCCESS, "PAM_SUCCESS" },
                { PAM_IGNORE, "PAM_IGNORE" },
                { PAM_PERM_DENIED, "PAM_PERM_DENIED" },
                { PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
                { PAM_SESSION_ERR, "PAM_SESSION_ERR" },
                { PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" },
                { PAM_AUTH_ERR, "PAM_AUTH_ERR" },
                { PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
                { PAM_BUF_ERR, "PAM_BUF_ERR" },
                { PAM_ABORT, "PAM_ABORT" },
                { PAM_MODULE_UNKNOWN, "PAM_MODULE_UNKNOWN" },
                { PAM_CONV_ERR, "PAM_CONV_ERR" },
                { PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED" },
                { PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD" },
                { PAM_CRED_ERR, "PAM_CRED_ERR" },
        };
        static char buf[32];

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (names[i].code == r)
                        return names[i].name;
        snprintf(buf, sizeof(buf), "PAM_%d", r);
        return buf;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        for (int i = 0; i < n; i++) {
                switch (msg[i]->msg_style) {
                case PAM_TEXT_INFO:
                        printf("info: %s\n", msg[i]->msg);
                        break;
                case PAM_ERROR_MSG:
                        printf("error: %s\n", msg[i]->msg);
                        break;
                default:
                        printf("PROMPT: %s\n", msg[i]->msg);
                        fflush(stdout);
                        return PAM_CONV_ERR;
                }
        }
        fflush(stdout);
        *resp = calloc((size_t) n, sizeof(struct pam_response));
        return *resp ? PAM_SUCCESS : PAM_BUF_ERR;
}

static long long now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef int (*sm_func)(pam_handle_t *, int, int, const char **);

int main(int argc, char **argv) {
#ifndef HAVE_PAM_START_CONFDIR
        fprintf(stderr, "pam-run: libpam has no pam_start_confdir (Linux-PAM < 1.5)\n");
        return 77;
#else
        static const struct option opts[] = {
                { "confdir", required_argument, NULL, 'c' },
                { "service", required_argument, NULL, 's' },
                { "user", required_argument, NULL, 'u' },
                { "rhost", required_argument, NULL, 'r' },
                { "tty", required_argument, NULL, 't' },
                { "putenv", required_argument, NULL, 'e' },
                { "module", required_argument, NULL, 'm' },
                { "arg", required_argument, NULL, 'a' },
                {}
        };
        const char *confdir = NULL, *service = NULL, *user = NULL, *rhost = NULL, *tty = NULL,
                   *module = NULL;
        const char *envs[32], *args[32];
        int nenv = 0, nargs = 0, c, r;
        struct pam_conv pc = { conv, NULL };
        pam_handle_t *pamh = NULL;
        void *dl = NULL;

        while ((c = getopt_long(argc, argv, "+", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': confdir = optarg; break;
                case 's': service = optarg; break;
                case 'u': user = optarg; break;
                case 'r': rhost = optarg; break;
                case 't': tty = optarg; break;
                case 'e':
                        if (nenv < 32)
                                envs[nenv++] = optarg;
                        break;
                case 'm': module = optarg; break;
                case 'a':
                        if (nargs < 32)
                                args[nargs++] = optarg;
                        break;
                default: return 2;
                }
        }
        if (!confdir || !service || !user || optind >= argc) {
                fprintf(stderr, "usage: pam-run --confdir DIR --service NAME --user USER STEP...\n");
                return 2;
        }
        r = pam_start_confdir(service, user, &pc, confdir, &pamh);
        if (r != PAM_SUCCESS) {
                fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(NULL, r));
                return 1;
        }
        if (rhost)
                pam_set_item(pamh, PAM_RHOST, rhost);
        if (tty)
                pam_set_item(pamh, PAM_TTY, tty);
        for (int i = 0; i < nenv; i++)
                pam_putenv(pamh, envs[i]);
        if (module) {
                dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
                if (!dl) {
                        fprintf(stderr, "dlopen: %s\n", dlerror());
                        return 1;
                }
        }

        for (int i = optind; i < argc; i++) {
                const char *step = argv[i];
                long long t0 = now_us();
                bool is_open = false;

                if (strncmp(step, "putenv:", 7) == 0) {
                        pam_putenv(pamh, step + 7);
                        continue;
                }
                if (strcmp(step, "exec") == 0) {
                        pid_t pid;
                        int status;

                        if (i + 1 >= argc) {
                                fprintf(stderr, "pam-run: exec needs a command\n");
                                return 2;
                        }
                        fflush(stdout);
                        pid = fork();
                        if (pid < 0) {
                                perror("fork");
                                return 1;
                        }
                        if (pid == 0) {
                                execv(argv[i + 1], argv + i + 1);
                                perror("execv");
                                _exit(127);
                        }
                        while (waitpid(pid, &status, 0) < 0)
                                ;
                        printf("exec exit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128);
                        break;
                }
                if (strcmp(step, "auth") == 0)
                        r = pam_authenticate(pamh, 0);
                else if (strcmp(step, "acct") == 0)
                        r = pam_acct_mgmt(pamh, 0);
                else if (strcmp(step, "open") == 0) {
                        r = pam_open_session(pamh, 0);
                        is_open = true;
                } else if (strcmp(step, "close") == 0)
                        r = pam_close_session(pamh, 0);
                else if (strncmp(step, "sm-", 3) == 0 && dl) {
                        const char *sym = strcmp(step, "sm-acct") == 0   ? "pam_sm_acct_mgmt"
                                          : strcmp(step, "sm-open") == 0 ? "pam_sm_open_session"
                                          : strcmp(step, "sm-close") == 0
                                                  ? "pam_sm_close_session"
                                                  : NULL;
                        sm_func f = sym ? (sm_func) dlsym(dl, sym) : NULL;
                        if (!f) {
                                fprintf(stderr, "pam-run: no such step %s\n", step);
                                return 2;
                        }
                        r = f(pamh, 0, nargs, args);
                        is_open = strcmp(step, "sm-open") == 0;
                } else {
                        fprintf(stderr, "pam-run: unknown step %s\n", step);
                        return 2;
                }
                long long us = now_us() - t0;
                printf("%s %s elapsed_ms=%lld elapsed_us=%lld\n", step, code_name(r), us / 1000, us);
                if (is_open) {
                        char **env = pam_getenvlist(pamh);
                        for (char **e = env; e && *e; e++) {
                                if (strncmp(*e, "LOCKBOX_", 8) == 0)
                                        printf("env: %s\n", *e);
                                free(*e);
                        }
                        free(env);
                }
                fflush(stdout);
        }
        pam_end(pamh, PAM_SUCCESS);
        if (dl)
                dlclose(dl);
        return 0;
#endif
}
