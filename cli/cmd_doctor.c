/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl doctor: check a host's setup and say, per check, OK or what to fix.
 *
 * FAIL: something that lets an operator around the lockbox (or around its
 * recording), or that the recorder cannot run with, so that no managed
 * session can start or last; the exit status is then 1. WARN: something that
 * makes managed logins fail closed or evidence poorer, but is no way around
 * the lockbox.
 * The list and the class of each check are in lockboxctl(1). */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "broker_client.h"
#include "conf.h"
#include "ctl.h"
#include "doctor.h"
#include "evidence.h"
#include "util.h"

#define RUN_MAX_OUTPUT (4 * 1024 * 1024)
#define PROBE_USER "lbx-doctor-probe"
/* the system's sshd and auditd read /etc, whatever lockbox's own sysconfdir */
#define AUDIT_RULES "/etc/audit/rules.d/lockbox.rules"

enum status { ST_OK, ST_WARN, ST_FAIL, ST_SKIP };
static const char *const status_name[] = { "OK", "WARN", "FAIL", "SKIP" };
static const char *const status_json[] = { "ok", "warn", "fail", "skip" };

struct doctor {
        const char *root;           /* "" for / */
        const char *config_path;    /* NULL: the default */
        const char *sshd_config;    /* without root */
        const char *pam_service;
        const char *operator_user;  /* for sshd's Match; NULL: find one */
        char *keys_user;            /* sshd's AuthorizedKeysCommandUser, when known */
        struct lb_host_conf conf;
        json_t *checks;
        unsigned n_fail, n_warn;
};

_printf_(4, 5)
static void report(struct doctor *d, enum status st, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                msg = NULL;
        if (st == ST_FAIL)
                d->n_fail++;
        else if (st == ST_WARN)
                d->n_warn++;
        json_array_append_new(d->checks, json_pack("{s:s, s:s, s:s}", "check", name,
                                                   "status", status_json[st],
                                                   "detail", msg ? msg : "out of memory"));
}

static char *rooted(const struct doctor *d, const char *path) {
        return lb_asprintf("%s%s", d->root, path);
}

/* Run argv (no shell), stdout captured, stderr dropped. Returns the exit
 * status (>= 0) or -errno. */
static int run_capture(char *const argv[], char **ret_out) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, size = 0;
        int pfd[2], status;
        pid_t pid;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = errno;
                close(pfd[0]);
                close(pfd[1]);
                return -e;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                if (dup2(pfd[1], STDOUT_FILENO) < 0 || null < 0 || dup2(null, STDERR_FILENO) < 0 ||
                    dup2(null, STDIN_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        close(pfd[1]);
        for (;;) {
                ssize_t n;

                if (size - len < 4096) {
                        char *nb;

                        if (size >= RUN_MAX_OUTPUT)
                                break;
                        nb = realloc(buf, size + 65536);
                        if (!nb)
                                break;
                        buf = nb;
                        size += 65536;
                }
                n = read(pfd[0], buf + len, size - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!buf)
                return -ENOMEM;
        buf[len] = 0;
        if (ret_out)
                *ret_out = TAKE_PTR(buf);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static const char *find_program(const char *const *candidates) {
        for (size_t i = 0; candidates[i]; i++)
                if (access(candidates[i], X_OK) == 0)
                        return candidates[i];
        return NULL;
}

/* ---- configuration ---------------------------------------------------------- */

static void conf_problem(void *userdata, const char *path, unsigned line, const char *key,
                         int error) {
        struct doctor *d = userdata;
        _cleanup_free_ char *sk = lb_term_safe(key ? key : "");

        report(d, ST_WARN, "config", "%s:%u: %s%s%s", path, line, strna(sk), key ? ": " : "",
               error == -ENOENT ? "unknown key" : strerror(-error));
}

static int check_config(struct doctor *d) {
        _cleanup_free_ char *path = rooted(d, d->config_path ? d->config_path : LB_HOST_CONF_PATH);
        int r;

        if (!path)
                return -ENOMEM;
        lb_host_conf_init(&d->conf);
        r = lb_host_conf_load(&d->conf, path, d->config_path != NULL, conf_problem, d);
        if (r == -ENOENT && !d->config_path) {
                report(d, ST_WARN, "config", "%s is missing: using the defaults", path);
                return 0;
        }
        if (r < 0) {
                report(d, ST_WARN, "config", "cannot read %s: %s (managed logins fail closed)", path,
                       strerror(-r));
                return 0;
        }
        if (r == 0)
                report(d, ST_OK, "config", "%s", path);
        return 0;
}

/* ---- PAM ---------------------------------------------------------------------- */

static bool control_is_mandatory(const char *control) {
        return streq(control, "required") || streq(control, "requisite");
}

/* The first pam_lockbox line that guards the stack: mandatory, not in a
 * substack, and nothing before it can end the stack with success. -1: none. */
static long guarding_lockbox(const struct lb_pam_stack *s) {
        for (size_t i = 0; i < s->n; i++) {
                const char *b = strrchr(s->lines[i].module, '/');
                _cleanup_free_ char *why = NULL;

                if (!streq(b ? b + 1 : s->lines[i].module, "pam_lockbox.so") ||
                    !control_is_mandatory(s->lines[i].control) || s->lines[i].substack)
                        continue;
                why = lb_pam_stack_skips(s, i);
                if (!why)
                        return (long) i;
        }
        return -1;
}

/* Why pam_lockbox in this stack does not guard it (malloc'd), or NULL. */
static char *stack_problem(const struct lb_pam_stack *s) {
        _cleanup_free_ char *why = NULL;
        const struct lb_pam_line *l;
        long i = lb_pam_stack_find(s, "pam_lockbox.so");

        if (guarding_lockbox(s) >= 0)
                return NULL;
        if (i < 0)
                return strdup("no pam_lockbox.so");
        l = &s->lines[i];
        if (!control_is_mandatory(l->control))
                return lb_asprintf("pam_lockbox.so is '%s' (%s:%u)", l->control, l->file, l->line);
        if (l->substack)
                return lb_asprintf("pam_lockbox.so is inside a substack (%s:%u)", l->file, l->line);
        why = lb_pam_stack_skips(s, (size_t) i);
        if (why)
                return lb_asprintf("pam_lockbox.so (%s:%u) can be skipped: %s", l->file, l->line, why);
        return NULL;
}

static int name_cmp(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every other PAM service (cron, atd, systemd-user, su, login, sudo, ...) must
 * refuse managed accounts: pam_lockbox in its account stack, as the
 * pam-auth-update profile puts it (common-account). A service without any
 * account line is refused by libpam itself. */
static void check_pam_services(struct doctor *d) {
        _cleanup_free_ char *dir = rooted(d, "/etc/pam.d"), *bad = NULL, *good = NULL;
        struct dirent **ents = NULL;
        unsigned n_good = 0;
        int n;

        if (!dir)
                return;
        n = scandir(dir, &ents, NULL, name_cmp);
        if (n < 0) {
                report(d, ST_FAIL, "pam-services", "cannot list %s: %s", dir, strerror(errno));
                return;
        }
        for (int k = 0; k < n; k++) {
                _cleanup_(lb_pam_stack_done) struct lb_pam_stack st = {};
                _cleanup_free_ char *err = NULL, *why = NULL, *path = NULL;
                const char *name = ents[k]->d_name;
                struct stat sb;
                char **list;

                /* include files are not services */
                if (name[0] == '.' || strneq(name, "common-", 7) || streq(name, "lockbox-sshd") ||
                    streq(name, d->pam_service) ||
                    strchr(name, '~') || strstr(name, ".dpkg-") || strstr(name, ".ucf-"))
                        continue;
                path = lb_asprintf("%s/%s", dir, name);
                if (!path || stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
                        continue;
                if (lb_pam_stack_load(d->root, name, "account", &st, &err) < 0)
                        why = lb_asprintf("cannot read %s", strna(err));
                else if (st.n == 0)
                        continue; /* no account module: libpam refuses everyone */
                else
                        why = stack_problem(&st);
                list = why ? &bad : &good;
                {
                        char *nl = lb_asprintf("%s%s%s%s%s%s", *list ? *list : "", *list ? ", " : "",
                                               name, why ? " (" : "", why ? why : "", why ? ")" : "");
                        free(*list);
                        *list = nl;
                }
                if (!why)
                        n_good++;
        }
        for (int k = 0; k < n; k++)
                free(ents[k]);
        free(ents);
        if (bad)
                report(d, ST_FAIL, "pam-services",
                       "managed accounts are not refused on: %s; these services could run an operator's work outside the recorded login: pam-auth-update --enable lockbox (pam_lockbox in common-account) or add 'account required pam_lockbox.so' to each",
                       bad);
        else
                report(d, ST_OK, "pam-services", "pam_lockbox refuses managed accounts in the account stack of %u other service%s: %s",
                       n_good, n_good == 1 ? "" : "s", good ? good : "none");
}

/* The service doctor checks as sshd's must be named in ssh_services, or
 * pam_lockbox refuses every managed login there (fail closed). */
static void check_ssh_services(struct doctor *d) {
        if (lb_strv_contains(d->conf.ssh_services, d->pam_service))
                report(d, ST_OK, "ssh-services", "ssh_services names %s", d->pam_service);
        else
                report(d, ST_FAIL, "ssh-services",
                       "ssh_services does not name the PAM service %s: pam_lockbox refuses every managed login there; set 'ssh_services = %s' in lockbox.conf",
                       d->pam_service, d->pam_service);
}

/* pam_env.so user_readenv=1 reads ~/.pam_environment: the operator sets
 * variables of their own login, and so of the environment sshd hands the
 * setuid recorder. The recorder clears its environment to an allow-list
 * first thing, so this is a warning, not a way around it. */
static void check_pam_env(struct doctor *d) {
        static const char *const stages[] = { "auth", "session" };
        unsigned found = 0;

        for (size_t k = 0; k < ELEMENTSOF(stages); k++) {
                _cleanup_(lb_pam_stack_done) struct lb_pam_stack st = {};
                _cleanup_free_ char *err = NULL;

                if (lb_pam_stack_load(d->root, d->pam_service, stages[k], &st, &err) < 0)
                        continue; /* pam-account/pam-session say so */
                for (size_t i = 0; i < st.n; i++) {
                        const char *b = strrchr(st.lines[i].module, '/');

                        if (!streq(b ? b + 1 : st.lines[i].module, "pam_env.so") ||
                            !lb_pam_line_has_arg(&st.lines[i], "user_readenv=1"))
                                continue;
                        found++;
                        report(d, ST_WARN, "pam-env",
                               "pam_env.so user_readenv=1 (%s:%u): operators set variables of their login from ~/.pam_environment, including the environment of the setuid recorder (which clears it, but a program of theirs should not get to): remove user_readenv=1",
                               st.lines[i].file, st.lines[i].line);
                }
        }
        if (!found)
                report(d, ST_OK, "pam-env", "no pam_env.so user_readenv=1 in the %s stack", d->pam_service);
}

static int strv_add_unique(char ***v, const char *s) {
        size_t n = 0;
        char **nv;

        if (lb_strv_contains(*v, s))
                return 0;
        while (*v && (*v)[n])
                n++;
        nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[n] = strdup(s);
        nv[n + 1] = NULL;
        return nv[n] ? 0 : -ENOMEM;
}

/* The operator accounts that exist: members of operator_group (listed, or by
 * primary group) and the accounts in operators. */
static char **operator_accounts(struct doctor *d) {
        char **v = calloc(1, sizeof(char *));
        struct group *g = d->conf.operator_group ? getgrnam(d->conf.operator_group) : NULL;
        struct passwd *pw;

        if (!v)
                return NULL;
        for (size_t i = 0; g && g->gr_mem[i]; i++)
                if (getpwnam(g->gr_mem[i]))
                        (void) strv_add_unique(&v, g->gr_mem[i]);
        if (g) {
                gid_t gid = g->gr_gid;

                setpwent();
                while ((pw = getpwent()))
                        if (pw->pw_gid == gid)
                                (void) strv_add_unique(&v, pw->pw_name);
                endpwent();
        }
        for (size_t i = 0; d->conf.operators && d->conf.operators[i]; i++)
                if (getpwnam(d->conf.operators[i]))
                        (void) strv_add_unique(&v, d->conf.operators[i]);
        return v;
}

static void append(char **list, const char *item) {
        char *n = lb_asprintf("%s%s%s", *list ? *list : "", *list ? ", " : "", item);

        free(*list);
        *list = n;
}

static bool rooted_exists(struct doctor *d, const char *path) {
        _cleanup_free_ char *full = rooted(d, path);

        return full && access(full, F_OK) == 0;
}

/* Per operator account: its login shell is the recorder (Debian's bash reads
 * ~/.bashrc before running a ForceCommand), no lingering user manager, and
 * cron and at refuse it. */

/* cron.deny/at.deny: who may still plant a job (refused when it runs). */
static void report_job_deny(struct doctor *d, const char *check, const char *tool,
                            const char *cmd, const char *verb, bool have, const char *allowed) {
        if (!have)
                report(d, ST_SKIP, check, "%s is not installed", tool);
        else if (allowed)
                report(d, ST_WARN, check,
                       "%s is allowed for: %s; pam_lockbox refuses their jobs when they run, but they can %s them: add each to /etc/%s.deny (or leave them out of /etc/%s.allow)",
                       cmd, allowed, verb, tool, tool);
        else
                report(d, ST_OK, check, "%s.allow/%s.deny refuse every operator account", tool, tool);
}
static void check_operators(struct doctor *d) {
        _cleanup_(lb_strv_freep) char **ops = operator_accounts(d);
        _cleanup_free_ char *shells = NULL, *linger = NULL, *cron = NULL, *at = NULL;
        bool have_cron = rooted_exists(d, "/usr/bin/crontab") || rooted_exists(d, "/etc/cron.deny") ||
                         rooted_exists(d, "/etc/cron.allow");
        bool have_at = rooted_exists(d, "/usr/bin/at") || rooted_exists(d, "/etc/at.deny") ||
                       rooted_exists(d, "/etc/at.allow");

        if (!ops || !ops[0]) {
                const char *why = !ops ? "out of memory" : "no operator accounts on this host";
                report(d, ST_SKIP, "operator-shell", "%s", why);
                report(d, ST_SKIP, "linger", "%s", why);
                report(d, ST_SKIP, "cron-deny", "%s", why);
                report(d, ST_SKIP, "at-deny", "%s", why);
                return;
        }
        for (size_t i = 0; ops[i]; i++) {
                struct passwd *pw = getpwnam(ops[i]);
                _cleanup_free_ char *lf = lb_asprintf("/var/lib/systemd/linger/%s", ops[i]);

                if (pw && (!d->conf.recorder || !streq(pw->pw_shell ? pw->pw_shell : "", d->conf.recorder))) {
                        _cleanup_free_ char *e = lb_asprintf("%s (%s)", ops[i],
                                                             isempty(pw->pw_shell) ? "no shell" : pw->pw_shell);
                        append(&shells, e ? e : ops[i]);
                }
                if (lf && rooted_exists(d, lf))
                        append(&linger, ops[i]);
                if (have_cron && lb_allow_deny_refuses(d->root, "/etc/cron.allow", "/etc/cron.deny", true, ops[i]) != 1)
                        append(&cron, ops[i]);
                if (have_at && lb_allow_deny_refuses(d->root, "/etc/at.allow", "/etc/at.deny", false, ops[i]) != 1)
                        append(&at, ops[i]);
        }
        if (shells)
                report(d, ST_FAIL, "operator-shell",
                       "login shell is not the recorder for: %s; a shell such as bash reads the operator's own startup files before sshd's ForceCommand runs: usermod -s %s USER",
                       shells, strna(d->conf.recorder));
        else
                report(d, ST_OK, "operator-shell", "every operator account has %s as its login shell", strna(d->conf.recorder));
        if (linger)
                report(d, ST_FAIL, "linger",
                       "lingering systemd user manager for: %s; it runs (and starts at boot) outside any recorded login: loginctl disable-linger USER, then loginctl terminate-user USER",
                       linger);
        else
                report(d, ST_OK, "linger", "no operator account lingers (/var/lib/systemd/linger)");
        report_job_deny(d, "cron-deny", "cron", "crontab", "plant", have_cron, cron);
        report_job_deny(d, "at-deny", "at", "at", "queue", have_at, at);
}

/* A polkit rule refusing operators org.freedesktop.login1.set-self-linger
 * and set-user-linger (conf/polkit/lockbox.rules). */
static void check_polkit(struct doctor *d) {
        static const char *const dirs[] = { "/etc/polkit-1/rules.d", "/usr/share/polkit-1/rules.d" };
        _cleanup_free_ char *quoted = lb_asprintf("\"%s\"", strna(d->conf.operator_group));
        bool have_polkit = false;

        for (size_t k = 0; k < ELEMENTSOF(dirs); k++) {
                _cleanup_free_ char *dir = rooted(d, dirs[k]);
                struct dirent **ents = NULL;
                int n;

                if (!dir || !quoted)
                        return;
                n = scandir(dir, &ents, NULL, name_cmp);
                if (n < 0)
                        continue;
                have_polkit = true;
                for (int i = 0; i < n; i++) {
                        _cleanup_free_ char *path = lb_asprintf("%s/%s", dir, ents[i]->d_name),
                                            *text = NULL;
                        size_t len;
                        bool hit;

                        hit = path && lb_read_file(path, 1024 * 1024, &text, &len) >= 0 &&
                              strstr(text, "org.freedesktop.login1.set-self-linger") &&
                              strstr(text, "org.freedesktop.login1.set-user-linger") &&
                              strstr(text, quoted) && strstr(text, "polkit.Result.NO");
                        if (hit) {
                                report(d, ST_OK, "polkit-linger", "%s/%s refuses %s linger", dirs[k],
                                       ents[i]->d_name, d->conf.operator_group);
                                for (; i < n; i++)
                                        free(ents[i]);
                                free(ents);
                                return;
                        }
                        free(ents[i]);
                }
                free(ents);
        }
        if (!have_polkit)
                report(d, ST_SKIP, "polkit-linger", "polkit is not installed (no rules.d directory)");
        else
                report(d, ST_WARN, "polkit-linger",
                       "no polkit rule refuses group %s org.freedesktop.login1.set-self-linger/set-user-linger: install lockbox's 10-lockbox-linger.rules (pam_lockbox refuses their user manager anyway)",
                       strna(d->conf.operator_group));
}

/* Can `user` open `path` for reading? Checked in a child that takes the
 * user's uid, gid and groups, so ACLs and directories count. 1 yes, 0 no
 * (*ret_errno set), -errno when the check could not be made. */
static int readable_as(const struct passwd *pw, const char *path, int *ret_errno) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd;

                if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                        _exit(255);
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                _exit(fd >= 0 ? 0 : (errno & 0x7f) ? (errno & 0x7f) : 1);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 255)
                return -EPERM;
        *ret_errno = WEXITSTATUS(status);
        return WEXITSTATUS(status) == 0;
}

/* The host token is read by pam_lockbox (root, in sshd), by lockbox-keys (as
 * sshd's AuthorizedKeysCommandUser) and by lockbox-record (before it drops
 * root). It must be readable by that user and by nobody else but root. */
static void check_token(struct doctor *d) {
        _cleanup_free_ char *full = NULL;
        const char *user = d->keys_user ? d->keys_user : "lockbox-keys";
        struct passwd *pw;
        struct stat st;
        int r, e = 0;

        if (!d->conf.token_file) {
                report(d, ST_SKIP, "token", "no token_file (a unix-socket broker needs none)");
                return;
        }
        full = rooted(d, d->conf.token_file);
        if (!full)
                return;
        if (stat(full, &st) < 0) {
                report(d, ST_WARN, "token", "%s: %s: every managed login fails closed", full, strerror(errno));
                return;
        }
        if (st.st_mode & (S_IROTH | S_IWOTH)) {
                report(d, ST_FAIL, "token",
                       "%s is mode %04o: any local user can read or replace this host's broker token (and pam_lockbox and lockbox-keys refuse it): chown root:%s %s && chmod 0640 %s",
                       full, (unsigned) (st.st_mode & 07777), user, d->conf.token_file, d->conf.token_file);
                return;
        }
        if (st.st_uid != 0 || (st.st_mode & S_IWGRP)) {
                report(d, ST_WARN, "token", "%s is owner uid %u, mode %04o: make it root:%s 0640", full,
                       (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777), user);
        }
        pw = getpwnam(user);
        if (!pw) {
                report(d, ST_WARN, "token", "cannot check %s as %s: no such user", full, user);
                return;
        }
        if (geteuid() != 0) {
                report(d, ST_SKIP, "token", "not root: cannot check %s as %s", full, user);
                return;
        }
        r = readable_as(pw, full, &e);
        if (r < 0)
                report(d, ST_WARN, "token", "cannot check %s as %s: %s", full, user, strerror(-r));
        else if (r == 0)
                report(d, ST_WARN, "token",
                       "%s cannot be read by %s (uid %u), the keys command's user (%s): every key lookup fails closed: chown root:%s %s && chmod 0640 %s",
                       full, user, (unsigned) pw->pw_uid, strerror(e), user, d->conf.token_file,
                       d->conf.token_file);
        else
                report(d, ST_OK, "token", "%s (owner uid %u, mode %04o) is read as %s (uid %u) and not by others",
                       full, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777), user, (unsigned) pw->pw_uid);
}

static void check_pam_stage(struct doctor *d, const char *stage) {
        _cleanup_(lb_pam_stack_done) struct lb_pam_stack s = {};
        _cleanup_free_ char *err = NULL, *why = NULL, *name = lb_asprintf("pam-%s", stage);
        const struct lb_pam_line *l;
        long i, lu;
        int r;

        r = lb_pam_stack_load(d->root, d->pam_service, stage, &s, &err);
        if (r < 0) {
                report(d, ST_FAIL, name, "cannot read %s: %s", strna(err), strerror(-r));
                return;
        }
        i = guarding_lockbox(&s);
        if (i < 0)
                i = lb_pam_stack_find(&s, "pam_lockbox.so");
        if (i < 0) {
                report(d, ST_FAIL, name,
                       "pam_lockbox.so is not in the %s stack of /etc/pam.d/%s: add '%s required pam_lockbox.so'",
                       stage, d->pam_service, stage);
                return;
        }
        l = &s.lines[i];
        if (!control_is_mandatory(l->control)) {
                report(d, ST_FAIL, name, "pam_lockbox.so is '%s' (%s:%u): make it 'required'",
                       l->control, l->file, l->line);
                return;
        }
        if (l->substack) {
                report(d, ST_FAIL, name,
                       "pam_lockbox.so is inside a substack (%s:%u): put it in /etc/pam.d/%s itself",
                       l->file, l->line, d->pam_service);
                return;
        }
        why = lb_pam_stack_skips(&s, (size_t) i);
        if (why) {
                report(d, ST_FAIL, name, "pam_lockbox.so (%s:%u) can be skipped: %s", l->file, l->line, why);
                return;
        }
        report(d, ST_OK, name, "pam_lockbox.so is '%s' (%s:%u)", l->control, l->file, l->line);

        if (!streq(stage, "session"))
                return;
        lu = lb_pam_stack_find(&s, "pam_loginuid.so");
        if (lu < 0)
                report(d, ST_FAIL, "pam-loginuid",
                       "pam_loginuid.so is not in the session stack: add 'session required pam_loginuid.so' before pam_lockbox.so (the recorder needs the audit session id)");
        else if (lu > i)
                report(d, ST_FAIL, "pam-loginuid",
                       "pam_loginuid.so (%s:%u) comes after pam_lockbox.so (%s:%u): move it before",
                       s.lines[lu].file, s.lines[lu].line, l->file, l->line);
        else
                report(d, ST_OK, "pam-loginuid", "pam_loginuid.so (%s:%u) is before pam_lockbox.so",
                       s.lines[lu].file, s.lines[lu].line);
}

/* ---- sshd ---------------------------------------------------------------------- */

/* An account sshd's Match can be evaluated for: --operator, a member of the
 * operator group, or a listed operator. Static storage or the conf. */
static const char *find_operator(struct doctor *d) {
        struct group *g;

        if (d->operator_user)
                return d->operator_user;
        if (d->conf.operator_group && (g = getgrnam(d->conf.operator_group)) && g->gr_mem[0]) {
                static char name[LOGIN_NAME_MAX + 1];
                snprintf(name, sizeof(name), "%s", g->gr_mem[0]);
                return name;
        }
        for (size_t i = 0; d->conf.operators && d->conf.operators[i]; i++)
                if (getpwnam(d->conf.operators[i]))
                        return d->conf.operators[i];
        return NULL;
}

static int sshd_settings(struct doctor *d, struct lb_sshd_settings *ret, char **ret_how) {
        static const char *const sshds[] = { "/usr/sbin/sshd", "/usr/local/sbin/sshd", NULL };
        _cleanup_free_ char *err = NULL;
        const char *sshd = find_program(sshds), *op;
        int r;

        op = find_operator(d);
        if (isempty(d->root) && sshd && op) {
                _cleanup_free_ char *out = NULL, *spec = NULL;
                char *argv[] = { (char *) sshd, (char *) "-T", (char *) "-C", NULL,
                                 (char *) "-f", (char *) d->sshd_config, NULL };

                spec = lb_asprintf("user=%s,host=localhost,addr=127.0.0.1", op);
                if (!spec)
                        return -ENOMEM;
                argv[3] = spec;
                r = run_capture(argv, &out);
                if (r == 0 && lb_sshd_settings_parse_T(out, ret) >= 0 && ret->n > 0) {
                        *ret_how = lb_asprintf("sshd -T for %s", op);
                        return 0;
                }
                lb_sshd_settings_done(ret);
                report(d, ST_WARN, "sshd", "%s -T -f %s failed (exit %d): the config may not load, or this is not root; reading the files instead",
                       sshd, d->sshd_config, r);
        }
        r = lb_sshd_settings_load(d->root, d->sshd_config, op, d->conf.operator_group, ret, &err);
        if (r < 0) {
                report(d, ST_FAIL, "sshd", "cannot read %s: %s", err ? err : d->sshd_config,
                       strerror(-r));
                return r;
        }
        *ret_how = lb_asprintf("%s for group %s", d->sshd_config, strna(d->conf.operator_group));
        return 0;
}

static const char *first_word(const char *s, char *buf, size_t size) {
        size_t n = strcspn(s, " \t");

        if (n >= size)
                n = size - 1;
        memcpy(buf, s, n);
        buf[n] = 0;
        return buf;
}

static void expect(struct doctor *d, const struct lb_sshd_settings *s, const char *how,
                   const char *key, const char *Key, const char *want) {
        _cleanup_free_ char *name = lb_asprintf("sshd-%s", key);
        const char *v = lb_sshd_settings_get(s, key);

        if (v && strcasecmp(v, want) == 0)
                report(d, ST_OK, name, "%s %s", Key, want);
        else
                report(d, ST_FAIL, name, "%s is '%s' for operators (%s): set '%s %s' in the Match block",
                       Key, v ? v : "unset", how, Key, want);
}

/* Every component of path (under root) owned by root and not writable by
 * group or others (sshd checks the keys command the same way). */
static int path_safe(struct doctor *d, const char *path, char **ret_why) {
        _cleanup_free_ char *full = rooted(d, path), *real = NULL;
        size_t rootlen = strlen(d->root);
        char *p;

        if (!full)
                return -ENOMEM;
        real = realpath(full, NULL);
        if (!real) {
                *ret_why = lb_asprintf("%s: %s", full, strerror(errno));
                return 0;
        }
        if (rootlen > 0 && (!strneq(real, d->root, rootlen) || (real[rootlen] && real[rootlen] != '/'))) {
                *ret_why = lb_asprintf("%s resolves outside %s", full, d->root);
                return 0;
        }
        p = real + rootlen;
        for (;;) {
                struct stat st;
                char saved;
                char *end = strchr(p + 1, '/');

                if (end) {
                        saved = *end;
                        *end = 0;
                }
                if (stat(*real ? real : "/", &st) < 0) {
                        *ret_why = lb_asprintf("%s: %s", real, strerror(errno));
                        return 0;
                }
                if (st.st_uid != 0) {
                        *ret_why = lb_asprintf("%s is owned by uid %u, not root", real, (unsigned) st.st_uid);
                        return 0;
                }
                if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                        *ret_why = lb_asprintf("%s is group- or world-writable (mode %04o)", real,
                                               (unsigned) (st.st_mode & 07777));
                        return 0;
                }
                if (!end)
                        break;
                *end = saved;
                p = end;
        }
        *ret_why = NULL;
        return 1;
}

static void check_sshd(struct doctor *d) {
        _cleanup_(lb_sshd_settings_done) struct lb_sshd_settings s = {};
        _cleanup_free_ char *how = NULL, *why = NULL;
        const char *v;
        char prog[PATH_MAX];

        if (sshd_settings(d, &s, &how) < 0)
                return;

        expect(d, &s, how, "authorizedkeysfile", "AuthorizedKeysFile", "none");

        v = lb_sshd_settings_get(&s, "authorizedkeyscommand");
        first_word(v ? v : "none", prog, sizeof(prog));
        {
                const char *b = strrchr(prog, '/');
                if (!b || !streq(b + 1, "lockbox-keys"))
                        report(d, ST_FAIL, "sshd-authorizedkeyscommand",
                               "AuthorizedKeysCommand is '%s' for operators (%s): set 'AuthorizedKeysCommand %s/lockbox-keys %%u %%f %%t %%k'",
                               v ? v : "unset", how, LOCKBOX_LIBEXECDIR);
                else if (!strstr(v, "%u") || !strstr(v, "%k"))
                        report(d, ST_FAIL, "sshd-authorizedkeyscommand",
                               "AuthorizedKeysCommand '%s' lacks %%u or %%k: use '%s %%u %%f %%t %%k'", v, prog);
                else
                        report(d, ST_OK, "sshd-authorizedkeyscommand", "%s", v);
        }

        v = lb_sshd_settings_get(&s, "authorizedkeyscommanduser");
        if (!v || streq(v, "none") || streq(v, "root"))
                report(d, ST_FAIL, "sshd-authorizedkeyscommanduser",
                       "AuthorizedKeysCommandUser is '%s' (%s): set 'AuthorizedKeysCommandUser lockbox-keys'",
                       v ? v : "unset", how);
        else if (!getpwnam(v))
                report(d, ST_FAIL, "sshd-authorizedkeyscommanduser",
                       "AuthorizedKeysCommandUser %s does not exist: create it (systemd-sysusers)", v);
        else
                report(d, ST_OK, "sshd-authorizedkeyscommanduser", "%s", v);
        if (v && !streq(v, "none") && !d->keys_user)
                d->keys_user = strdup(v);

        expect(d, &s, how, "disableforwarding", "DisableForwarding", "yes");
        expect(d, &s, how, "permittunnel", "PermitTunnel", "no");
        expect(d, &s, how, "permituserrc", "PermitUserRC", "no");
        expect(d, &s, how, "maxsessions", "MaxSessions", "1");

        v = lb_sshd_settings_get(&s, "forcecommand");
        first_word(v ? v : "none", prog, sizeof(prog));
        if (!d->conf.recorder || !streq(prog, d->conf.recorder))
                report(d, ST_FAIL, "sshd-forcecommand",
                       "ForceCommand is '%s' for operators (%s): set 'ForceCommand %s'", v ? v : "unset",
                       how, strna(d->conf.recorder));
        else
                report(d, ST_OK, "sshd-forcecommand", "%s", v);

        expect(d, &s, how, "exposeauthinfo", "ExposeAuthInfo", "yes");
        expect(d, &s, how, "usepam", "UsePAM", "yes");

        /* the keys command itself */
        v = lb_sshd_settings_get(&s, "authorizedkeyscommand");
        first_word(v ? v : "none", prog, sizeof(prog));
        if (strrchr(prog, '/') && streq(strrchr(prog, '/') + 1, "lockbox-keys")) {
                if (path_safe(d, prog, &why) > 0)
                        report(d, ST_OK, "keys-command", "%s and its directories are root-owned, not group/world-writable", prog);
                else
                        report(d, ST_FAIL, "keys-command", "%s: %s: make it root-owned and not group/world-writable",
                               prog, strna(why));
        } else
                report(d, ST_SKIP, "keys-command", "no lockbox-keys command to check (see sshd-authorizedkeyscommand)");
}

/* ---- what runs as whom: probes in a child ------------------------------------------ */

/* Run fn(arg) in a child process: NULL back from it is success, else a
 * message (sent through a pipe). 1 success, 0 failure with *ret_why
 * (malloc'd), -errno when the probe could not be run. */
static int probe(char *(*fn)(void *arg), void *arg, char **ret_why) {
        char buf[1024];
        size_t len = 0;
        int pfd[2], status;
        pid_t pid;

        fflush(NULL);
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = errno;
                close(pfd[0]);
                close(pfd[1]);
                return -e;
        }
        if (pid == 0) {
                char *msg;

                close(pfd[0]);
                msg = fn(arg);
                if (msg)
                        (void) !write(pfd[1], msg, strnlen(msg, sizeof(buf) - 1));
                _exit(msg ? 1 : 0);
        }
        close(pfd[1]);
        for (;;) {
                ssize_t n = read(pfd[0], buf + len, sizeof(buf) - 1 - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
                if (len >= sizeof(buf) - 1)
                        break;
        }
        close(pfd[0]);
        buf[len] = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 1;
        if (WIFSIGNALED(status))
                *ret_why = lb_asprintf("the probe was killed by signal %d", WTERMSIG(status));
        else
                *ret_why = strdup(len > 0 ? buf : "the probe failed");
        return 0;
}

static char *errno_text(const char *what, int e) {
        const char *name = strerrorname_np(e);

        return lb_asprintf("%s: %s (%s)", what, name ? name : "?", strerror(e));
}

struct as_user {
        const struct passwd *pw;
        const gid_t *groups;  /* NULL: initgroups() */
        size_t n_groups;
        const char *path;
        int mode;             /* for access() */
};

static char *become(const struct as_user *a) {
        int k;

        if (a->groups)
                k = setgroups(a->n_groups, a->groups);
        else
                k = initgroups(a->pw->pw_name, a->pw->pw_gid);
        if (k < 0 || setresgid(a->pw->pw_gid, a->pw->pw_gid, a->pw->pw_gid) < 0 ||
            setresuid(a->pw->pw_uid, a->pw->pw_uid, a->pw->pw_uid) < 0)
                return errno_text("cannot take the user's credentials", errno);
        return NULL;
}

static char *access_child(void *arg) {
        const struct as_user *a = arg;
        char *why = become(a);

        if (why)
                return why;
        /* real and effective ids are the user's now: access() answers for it */
        if (access(a->path, a->mode) < 0)
                return errno_text(a->path, errno);
        return NULL;
}

static char *connect_child(void *arg) {
        const struct as_user *a = arg;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char *why = become(a);
        int fd;

        if (why)
                return why;
        if (strlen(a->path) >= sizeof(sa.sun_path))
                return strdup("the socket path is too long");
        strcpy(sa.sun_path, a->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return errno_text("socket()", errno);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return errno_text("connect()", errno);
        return NULL;
}

/* Can each operator account execute `full`? The first that cannot, as
 * "NAME: why" (malloc'd) in *ret_why. 1 all can, 0 one cannot, -errno. */
static int operators_can_exec(struct doctor *d, const char *full, char **ret_why, unsigned *ret_n) {
        _cleanup_(lb_strv_freep) char **ops = operator_accounts(d);
        unsigned n = 0;

        for (size_t i = 0; ops && ops[i]; i++) {
                struct passwd *pw = getpwnam(ops[i]);
                struct as_user a = { .pw = pw, .path = full, .mode = X_OK };
                _cleanup_free_ char *why = NULL;
                int r;

                if (!pw)
                        continue;
                r = probe(access_child, &a, &why);
                if (r < 0)
                        return r;
                if (r == 0) {
                        *ret_why = lb_asprintf("operator %s (uid %u) cannot execute it: %s", ops[i],
                                               (unsigned) pw->pw_uid, strna(why));
                        return 0;
                }
                n++;
        }
        *ret_n = n;
        return 1;
}

/* How many operator accounts a file was tried as (static text). */
static const char *tried_as(unsigned n) {
        static char buf[64];

        if (geteuid() != 0)
                return "not tried as the operators (not root)";
        if (n == 0)
                return "no operator account to try it as";
        snprintf(buf, sizeof(buf), "executable by %u operator account%s (access() as each)", n, n == 1 ? "" : "s");
        return buf;
}

/* ---- the recorder and what it needs ------------------------------------------------ */

/* lockbox-record is every operator's login shell: setuid root, root's alone
 * (the file and each directory above it), and executable by each operator. */
static void check_recorder(struct doctor *d) {
        _cleanup_free_ char *full = NULL, *why = NULL;
        unsigned n_ops = 0;
        struct stat st;
        int r;

        if (!d->conf.recorder) {
                report(d, ST_FAIL, "recorder", "no recorder configured");
                return;
        }
        full = rooted(d, d->conf.recorder);
        if (!full || stat(full, &st) < 0) {
                report(d, ST_FAIL, "recorder", "%s: %s: install lockbox-record", strna(full),
                       strerror(full ? errno : ENOMEM));
                return;
        }
        why = lb_doctor_recorder_problem(&st);
        if (why) {
                report(d, ST_FAIL, "recorder",
                       "%s %s: chown root:root %s && chmod 4755 %s (operators could stop or replace it)",
                       full, why, d->conf.recorder, d->conf.recorder);
                return;
        }
        if (path_safe(d, d->conf.recorder, &why) <= 0) {
                report(d, ST_FAIL, "recorder", "%s: make it root-owned and not group/world-writable", strna(why));
                return;
        }
        if (geteuid() == 0) {
                r = operators_can_exec(d, full, &why, &n_ops);
                if (r == 0) {
                        report(d, ST_FAIL, "recorder",
                               "%s: %s: every login of theirs fails (it is their login shell): chmod 4755 %s",
                               full, strna(why), d->conf.recorder);
                        return;
                }
                if (r < 0) {
                        report(d, ST_WARN, "recorder", "%s is setuid root; cannot try it as the operators: %s",
                               d->conf.recorder, strerror(-r));
                        return;
                }
        }
        report(d, ST_OK, "recorder", "%s is setuid root, it and its directories are root's alone; %s",
               d->conf.recorder, tried_as(n_ops));
}

/* The host key `shell`: what the recorder runs for the operator. */
static void check_shell(struct doctor *d) {
        _cleanup_free_ char *full = NULL, *rec = NULL, *why = NULL;
        struct stat st, rst;
        bool have_st, have_rst;
        unsigned n_ops = 0;
        int e = 0, r;

        full = d->conf.shell && d->conf.shell[0] == '/' ? rooted(d, d->conf.shell) : NULL;
        have_st = full && stat(full, &st) == 0;
        if (!have_st)
                e = full ? errno : ENOENT;
        rec = d->conf.recorder ? rooted(d, d->conf.recorder) : NULL;
        have_rst = rec && stat(rec, &rst) == 0;
        why = lb_doctor_shell_problem(d->conf.shell, have_st ? &st : NULL, e, d->conf.recorder,
                                      have_rst ? &rst : NULL);
        if (why) {
                report(d, ST_FAIL, "shell",
                       "%s: every session would fail to start: set 'shell' in lockbox.conf to the operators' shell (e.g. /bin/bash)",
                       why);
                return;
        }
        if (geteuid() == 0) {
                r = operators_can_exec(d, full, &why, &n_ops);
                if (r == 0) {
                        report(d, ST_FAIL, "shell", "%s: %s: every session of theirs would fail to start",
                               full, strna(why));
                        return;
                }
                if (r < 0) {
                        report(d, ST_WARN, "shell", "cannot try %s as the operators: %s", full, strerror(-r));
                        return;
                }
        }
        report(d, ST_OK, "shell", "%s; %s", d->conf.shell, tried_as(n_ops));
}

/* PID 1 of a new PID namespace: a child of this one (root) makes it as the
 * recorder does, clone3 and then clone. */
static char *pidns_child(void *arg) {
        struct clone_args a = { .flags = CLONE_NEWPID, .exit_signal = SIGCHLD };
        long pid;
        int st;

        (void) arg;
        pid = syscall(SYS_clone3, &a, sizeof(a));
        if (pid < 0 && (errno == ENOSYS || errno == EPERM))
                pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0)
                return errno_text("clone(CLONE_NEWPID)", errno);
        if (pid == 0)
                _exit(getpid() == 1 ? 0 : 1);
        while (waitpid((pid_t) pid, &st, 0) < 0)
                if (errno != EINTR)
                        return errno_text("waitpid", errno);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return strdup("the child of clone(CLONE_NEWPID) is not PID 1 of a namespace");
        return NULL;
}

#define MAX_PID_NS "/proc/sys/user/max_pid_namespaces"

/* The recorder runs each session as PID 1 of its own PID namespace and
 * refuses the session without one. Kernel state: never under --root. */
static void check_pid_namespaces(struct doctor *d) {
        _cleanup_free_ char *text = NULL, *why = NULL;
        uint64_t max = 0;
        size_t len;
        int r;

        r = lb_read_file(MAX_PID_NS, 64, &text, &len);
        if (r >= 0 && lb_doctor_parse_sysctl_u64(text, &max) >= 0 && max == 0) {
                report(d, ST_FAIL, "pid-namespaces",
                       "%s is 0: the recorder cannot give a session its PID namespace, every managed login fails: sysctl -w user.max_pid_namespaces=%d (and in /etc/sysctl.d)",
                       MAX_PID_NS, 1024);
                return;
        }
        if (geteuid() != 0) {
                report(d, ST_SKIP, "pid-namespaces", "not root: cannot make a PID namespace as the recorder does");
                return;
        }
        r = probe(pidns_child, NULL, &why);
        if (r < 0)
                report(d, ST_WARN, "pid-namespaces", "cannot run the probe: %s", strerror(-r));
        else if (r == 0)
                report(d, ST_FAIL, "pid-namespaces",
                       "%s: the recorder cannot give a session its PID namespace, every managed login fails (user.max_pid_namespaces, a container's seccomp profile or a kernel without CONFIG_PID_NS?)",
                       strna(why));
        else if (text)
                report(d, ST_OK, "pid-namespaces", "%s is %" PRIu64 "; a child made a PID namespace as the recorder does",
                       MAX_PID_NS, max);
        else
                report(d, ST_OK, "pid-namespaces", "a child made a PID namespace as the recorder does");
}

/* The recorder's filter against TIOCSTI, built the same way (libseccomp),
 * loaded in a child, and tried on a pty of the child's own. */
static char *seccomp_child(void *arg) {
        scmp_filter_ctx ctx;
        char c = 0;
        int m, s, k;

        (void) arg;
        if (setsid() < 0)
                return errno_text("setsid", errno);
        m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
                return errno_text("a pty", errno);
        s = open(ptsname(m), O_RDWR | O_CLOEXEC); /* becomes the controlling terminal */
        if (s < 0)
                return errno_text("a pty", errno);
        if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return errno_text("no_new_privs", errno);
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return strdup("seccomp_init failed");
        k = 0;
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                k = seccomp_arch_add(ctx, SCMP_ARCH_X86);
                if (k == -EEXIST)
                        k = 0;
                if (k == 0)
                        k = seccomp_arch_add(ctx, SCMP_ARCH_X32);
                if (k == -EEXIST)
                        k = 0;
        }
        if (k == 0)
                k = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
        /* the kernel's own error, not libseccomp's ECANCELED, for the report */
        if (k == 0)
                k = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
#endif
        if (k == 0)
                k = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCSTI));
        if (k < 0) {
                seccomp_release(ctx);
                return errno_text("building the filter", -k);
        }
        k = seccomp_load(ctx);
        seccomp_release(ctx);
        if (k < 0)
                return errno_text("loading a seccomp filter", -k);
        if (ioctl(s, TIOCSTI, &c) == 0)
                return strdup("a seccomp filter loaded, but TIOCSTI still works under it");
        if (errno != EPERM)
                return errno_text("TIOCSTI under the filter failed otherwise than EPERM", errno);
        return NULL;
}

/* The session's init loads the filter before it drops to the operator, and
 * the session does not start when it cannot. */
static void check_seccomp(struct doctor *d) {
        _cleanup_free_ char *status = NULL, *why = NULL;
        unsigned mode = 0;
        size_t len;
        int r;

        r = lb_read_file("/proc/self/status", 64 * 1024, &status, &len);
        if (r >= 0)
                r = lb_doctor_status_seccomp(status, &mode);
        if (r == -ENOENT) {
                report(d, ST_FAIL, "seccomp",
                       "/proc/self/status has no Seccomp field: a kernel without seccomp; the recorder refuses every session without its TIOCSTI filter: boot a kernel with CONFIG_SECCOMP_FILTER");
                return;
        }
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
                _cleanup_free_ char *e = errno_text("prctl(PR_GET_SECCOMP)", errno);
                report(d, ST_FAIL, "seccomp",
                       "%s: the recorder refuses every session without its TIOCSTI filter: boot a kernel with CONFIG_SECCOMP_FILTER",
                       strna(e));
                return;
        }
        r = probe(seccomp_child, NULL, &why);
        if (r < 0)
                report(d, ST_WARN, "seccomp", "cannot run the probe: %s", strerror(-r));
        else if (r == 0)
                report(d, ST_FAIL, "seccomp",
                       "%s: the recorder refuses every session without its TIOCSTI filter (a kernel without CONFIG_SECCOMP_FILTER, or a container's profile?)",
                       strna(why));
        else
                report(d, ST_OK, "seccomp", "a child loaded the recorder's filter and TIOCSTI was refused under it");
}

static const char *group_name(gid_t g, char *buf, size_t size) {
        struct group *gr = getgrgid(g);

        if (gr)
                snprintf(buf, size, "%s", gr->gr_name);
        else
                snprintf(buf, size, "%u", (unsigned) g);
        return buf;
}

/* The recorder's service user (record_user), with the groups the recorder
 * gives it: it asks the broker (the unix socket's group, or the CA file for
 * https) and reads its journal entries back (systemd-journal). */
static void check_service_user(struct doctor *d) {
        _cleanup_free_ gid_t *groups = NULL;
        _cleanup_free_ char *why = NULL, *broker = NULL;
        const char *user = d->conf.record_user, *journal;
        enum status stat_ = ST_OK;
        bool journal_added = false;
        struct group *jg;
        struct passwd *pw;
        size_t n = 0;
        char gname[64];
        int r;

        pw = user ? getpwnam(user) : NULL;
        if (!pw) {
                report(d, ST_FAIL, "service-user",
                       "the recorder's service user '%s' (record_user) does not exist: every session fails: create it (systemd-sysusers)",
                       strna(user));
                return;
        }
        r = lb_service_groups(pw->pw_name, pw->pw_gid, &groups, &n, &journal_added);
        if (r < 0) {
                report(d, ST_WARN, "service-user", "cannot read the groups of %s: %s", user, strerror(-r));
                return;
        }

        if (d->conf.broker && strneq(d->conf.broker, "unix:", 5)) {
                const char *path = d->conf.broker + 5, *class = NULL;
                struct as_user a = { .pw = pw, .groups = groups, .n_groups = n, .path = path };
                struct stat st;

                if (stat(path, &st) < 0) {
                        _cleanup_free_ char *e = errno_text(path, errno);
                        stat_ = ST_WARN;
                        broker = lb_asprintf("cannot check that it reaches the broker: %s (is lockboxd running?)", strna(e));
                } else if (!lb_doctor_socket_writable(&st, pw->pw_uid, groups, n, &class)) {
                        group_name(st.st_gid, gname, sizeof(gname));
                        report(d, ST_FAIL, "service-user",
                               "%s (uid %u) may not connect to the broker's socket %s (uid %u, group %s, mode %04o; it is in the '%s' class): every session would end within the broker grace: usermod -aG %s %s",
                               user, (unsigned) pw->pw_uid, path, (unsigned) st.st_uid, gname,
                               (unsigned) (st.st_mode & 07777), strna(class), gname, user);
                        return;
                } else if (geteuid() == 0 && (r = probe(connect_child, &a, &why)) <= 0) {
                        if (r < 0) {
                                stat_ = ST_WARN;
                                broker = lb_asprintf("cannot connect as %s: %s", user, strerror(-r));
                        } else {
                                report(d, ST_FAIL, "service-user",
                                       "as %s (uid %u, with its groups): %s: every session would end within the broker grace: let %s reach %s (the socket's group %s, and each directory above it)",
                                       user, (unsigned) pw->pw_uid, strna(why), user, path,
                                       group_name(st.st_gid, gname, sizeof(gname)));
                                return;
                        }
                } else
                        broker = lb_asprintf("%s %s (the socket's %s class, group %s)",
                                             geteuid() == 0 ? "connected as it to" : "may connect to", path,
                                             class, group_name(st.st_gid, gname, sizeof(gname)));
        } else if (d->conf.ca_file) {
                _cleanup_free_ char *full = rooted(d, d->conf.ca_file);
                struct as_user a = { .pw = pw, .groups = groups, .n_groups = n, .path = full, .mode = R_OK };

                if (!full)
                        return;
                if (geteuid() != 0)
                        broker = lb_asprintf("not root: cannot read %s as it", d->conf.ca_file);
                else if ((r = probe(access_child, &a, &why)) == 0) {
                        report(d, ST_FAIL, "service-user",
                               "as %s (uid %u, with its groups): %s: the recorder asks the broker as this user, every session would end within the broker grace: make %s readable by it",
                               user, (unsigned) pw->pw_uid, strna(why), d->conf.ca_file);
                        return;
                } else if (r < 0) {
                        stat_ = ST_WARN;
                        broker = lb_asprintf("cannot read %s as it: %s", d->conf.ca_file, strerror(-r));
                } else
                        broker = lb_asprintf("read the broker's CA %s as it", d->conf.ca_file);
        }

        jg = getgrnam("systemd-journal");
        if (!jg) {
                stat_ = ST_WARN;
                journal = "there is no group systemd-journal: the recorder cannot read its journal entries back to confirm them";
        } else if (journal_added)
                journal = "not in systemd-journal, which the recorder adds when it drops";
        else
                journal = "in systemd-journal (reads its journal entries back)";
        report(d, stat_, "service-user", "%s (uid %u)%s%s; %s", user, (unsigned) pw->pw_uid,
               broker ? ": " : "", broker ? broker : "", journal);
}

/* ---- audit, journald, broker ------------------------------------------------------- */

static void check_audit(struct doctor *d) {
        static const char *const auditctls[] = { "/usr/sbin/auditctl", "/sbin/auditctl", NULL };
        _cleanup_free_ char *rules_path = rooted(d, AUDIT_RULES);
        _cleanup_free_ char *rules = NULL, *status = NULL, *loaded = NULL;
        const char *auditctl = find_program(auditctls);
        size_t len;
        unsigned keys = 0;
        char *save = NULL, *line;

        if (!auditctl) {
                report(d, ST_WARN, "audit", "auditctl not found: install auditd (commands are then recorded from /proc, less exactly)");
                return;
        }
        if (run_capture((char *const[]) { (char *) auditctl, (char *) "-s", NULL }, &status) != 0 ||
            !(strstr(status, "enabled 1") || strstr(status, "enabled 2"))) {
                report(d, ST_WARN, "audit", "kernel audit is not enabled (auditctl -s): start auditd");
                return;
        }
        if (!rules_path || lb_read_file(rules_path, 1024 * 1024, &rules, &len) < 0) {
                report(d, ST_WARN, "audit", "%s is missing: install it and run augenrules --load", strna(rules_path));
                return;
        }
        if (run_capture((char *const[]) { (char *) auditctl, (char *) "-l", NULL }, &loaded) != 0) {
                report(d, ST_WARN, "audit", "auditctl -l failed (not root?)");
                return;
        }
        /* each key the rules file sets must be on a loaded rule */
        for (line = strtok_r(rules, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *want = NULL;
                const char *k = strstr(line, "-k ");
                size_t n;

                if (line[0] == '#')
                        continue;
                if (k)
                        k += 3;
                else if ((k = strstr(line, "key=")))
                        k += 4;
                else
                        continue;
                while (*k == ' ')
                        k++;
                n = strcspn(k, " \t");
                want = lb_asprintf("key=%.*s", (int) n, k);
                if (!want)
                        continue;
                keys++;
                if (!strstr(loaded, want)) {
                        report(d, ST_WARN, "audit", "the rule with %s from %s is not loaded: run augenrules --load",
                               want, AUDIT_RULES);
                        return;
                }
        }
        if (keys == 0)
                report(d, ST_WARN, "audit", "%s sets no rule key", rules_path);
        else
                report(d, ST_OK, "audit", "enabled, the lockbox rules are loaded");
}

static void check_journald(struct doctor *d) {
        _cleanup_free_ char *audit = NULL, *where = NULL;
        bool on = false;

        if (lb_journal_available() > 0)
                report(d, ST_OK, "journald", "%s", lb_journal_socket_path());
        else
                report(d, ST_WARN, "journald", "%s does not answer: start systemd-journald (the recorder keeps records in its spool and sends them when journald is back)",
                       lb_journal_socket_path());

        /* Audit=no (journald's default on Debian 12) turns kernel audit off
         * every time journald starts: the recorder then has no exec records */
        if (lb_journald_audit_setting(d->root, &audit, &where) < 0)
                report(d, ST_WARN, "journald-audit", "cannot read journald's configuration");
        else if (!audit)
                report(d, ST_WARN, "journald-audit", "Audit= is not set: journald's default (no) turns kernel audit off whenever journald starts; install journald.conf.d/lockbox.conf (Audit= empty)");
        else if (isempty(audit) || (lb_parse_bool(audit, &on) == 0 && on))
                report(d, ST_OK, "journald-audit", "Audit=%s (%s): journald leaves kernel audit on", audit, strna(where));
        else
                report(d, ST_WARN, "journald-audit", "Audit=%s in %s turns kernel audit off whenever journald starts: set Audit= (empty) or Audit=yes", audit, strna(where));
}

static void check_broker(struct doctor *d) {
        _cleanup_free_ char *host = NULL, *err = NULL, *sb = NULL;
        struct lb_broker b = {};
        struct lb_access a = {};
        json_t *j = NULL;
        int r;

        sb = lb_term_safe(strna(d->conf.broker));
        r = lb_broker_init(&b, &d->conf);
        if (r < 0) {
                report(d, ST_WARN, "broker", "cannot use broker %s (token_file, ca_file?): %s", strna(sb),
                       strerror(-r));
                return;
        }
        r = lb_broker_call(&b, "GET", "/v1/health", NULL, &j, &err);
        if (r < 0) {
                _cleanup_free_ char *se = lb_term_safe(err ? err : strerror(-r));
                report(d, ST_WARN, "broker", "%s: /v1/health: %s (managed logins are refused)", strna(sb), strna(se));
                lb_broker_done(&b);
                return;
        }
        if (!streq(strna(json_string_value(json_object_get(j, "status"))), "ok"))
                report(d, ST_WARN, "broker", "%s answers but is not healthy", strna(sb));
        else
                report(d, ST_OK, "broker", "%s is healthy", strna(sb));
        json_decref(j);

        r = lb_host_conf_host_name(&d->conf, &host);
        if (r < 0) {
                report(d, ST_WARN, "broker-host", "this host's name is not valid: set host_name in lockbox.conf");
                lb_broker_done(&b);
                return;
        }
        r = lb_broker_access(&b, host, PROBE_USER, &a);
        if (r == -EACCES)
                report(d, ST_WARN, "broker-host",
                       "the broker refused a host call for %s: make a host token (lockboxctl token create --role host --host %s) and set token_file",
                       host, host);
        else if (r < 0)
                report(d, ST_WARN, "broker-host", "host call for %s failed: %s", host, strerror(-r));
        else if (a.allow)
                report(d, ST_WARN, "broker-host", "the broker allows the nonexistent account %s on %s", PROBE_USER, host);
        else
                report(d, ST_OK, "broker-host", "host calls for %s are answered", host);
        lb_access_done(&a);
        lb_broker_done(&b);
}

/* ---- output ----------------------------------------------------------------------- */

static int print_report(struct doctor *d, bool json) {
        size_t i, width = 0;
        json_t *c;

        if (json) {
                json_auto_t *o = json_pack("{s:b, s:i, s:i, s:O}", "ok", d->n_fail == 0,
                                                              "failures", (json_int_t) d->n_fail,
                                                              "warnings", (json_int_t) d->n_warn,
                                                              "checks", d->checks);
                if (!o)
                        return lb_ctl_error("doctor: out of memory");
                lb_ctl_print_json(o);
        } else {
                json_array_foreach(d->checks, i, c)
                        width = MAX(width, strlen(json_string_value(json_object_get(c, "check"))));
                json_array_foreach(d->checks, i, c) {
                        const char *st = json_string_value(json_object_get(c, "status"));
                        _cleanup_free_ char *detail = lb_term_safe(json_string_value(json_object_get(c, "detail")));
                        size_t k;

                        for (k = 0; k < ELEMENTSOF(status_json); k++)
                                if (streq(st, status_json[k]))
                                        break;
                        printf("%-4s  %-*s  %s\n", k < ELEMENTSOF(status_name) ? status_name[k] : st,
                               (int) width, json_string_value(json_object_get(c, "check")), strna(detail));
                }
                printf("%u failure%s, %u warning%s\n", d->n_fail, d->n_fail == 1 ? "" : "s", d->n_warn,
                       d->n_warn == 1 ? "" : "s");
        }
        fflush(stdout);
        return d->n_fail > 0 ? LB_EXIT_FAILURE : LB_EXIT_OK;
}

static void help(void) {
        printf("Usage: lockboxctl doctor [--config FILE] [--sshd-config FILE] [--pam-service NAME]\n"
               "                         [--root DIR] [--operator USER] [--json]\n"
               "Check this host's Lockbox setup: sshd's PAM stack and every other service's,\n"
               "sshd settings for operators, operator accounts (shell, linger, cron/at), the\n"
               "polkit linger rule, the host token as the keys command's user, keys command\n"
               "and recorder permissions, the operators' shell, PID namespaces and seccomp\n"
               "as the recorder uses them, its service user and the broker's socket as that\n"
               "user, audit rules, journald, broker. One line per check:\n"
               "OK, WARN or FAIL with what to fix. Exit 1 when a FAIL lets an operator around\n"
               "the lockbox.\n");
}

int lb_cmd_doctor(struct lb_ctl *ctl, int argc, char **argv) {
        enum { ARG_CONFIG = 0x100, ARG_SSHD, ARG_PAM, ARG_ROOT, ARG_OPERATOR, ARG_JSON };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "sshd-config", required_argument, NULL, ARG_SSHD },
                { "pam-service", required_argument, NULL, ARG_PAM },
                { "root", required_argument, NULL, ARG_ROOT },
                { "operator", required_argument, NULL, ARG_OPERATOR },
                { "json", no_argument, NULL, ARG_JSON },
                {}
        };
        struct doctor d = {
                .root = "",
                .sshd_config = "/etc/ssh/sshd_config",
                .pam_service = "sshd",
        };
        bool json = ctl->json;
        _cleanup_free_ char *root = NULL;
        int c, ret;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return LB_EXIT_OK;
                case ARG_CONFIG:
                        d.config_path = optarg;
                        break;
                case ARG_SSHD:
                        d.sshd_config = optarg;
                        break;
                case ARG_PAM:
                        if (isempty(optarg) || strchr(optarg, '/'))
                                return lb_ctl_usage_error("doctor", "--pam-service takes a name in /etc/pam.d");
                        d.pam_service = optarg;
                        break;
                case ARG_ROOT:
                        free(root);
                        root = realpath(optarg, NULL);
                        if (!root)
                                return lb_ctl_usage_error("doctor", "--root %s: %s", optarg, strerror(errno));
                        if (streq(root, "/"))
                                root[0] = 0;
                        break;
                case ARG_OPERATOR:
                        d.operator_user = optarg;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                default:
                        return lb_ctl_usage_error("doctor", "bad option");
                }
        if (optind < argc)
                return lb_ctl_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
        if (root)
                d.root = root;

        d.checks = json_array();
        if (!d.checks || check_config(&d) < 0)
                return lb_ctl_error("doctor: out of memory");
        if (geteuid() == 0)
                report(&d, ST_OK, "doctor", "running as root; the token is read as the keys command's user");
        else
                report(&d, ST_WARN, "doctor",
                       "running as uid %u, not root: sshd -T, auditctl, the PID namespace probe, and trying the token, the recorder, the shell and the broker's socket as the users that use them need root",
                       (unsigned) geteuid());
        check_pam_stage(&d, "account");
        check_pam_stage(&d, "session");
        check_ssh_services(&d);
        check_pam_services(&d);
        check_pam_env(&d);
        check_sshd(&d);
        check_recorder(&d);
        check_shell(&d);
        check_pid_namespaces(&d);
        check_seccomp(&d);
        check_service_user(&d);
        check_operators(&d);
        check_polkit(&d);
        check_token(&d);
        check_audit(&d);
        check_journald(&d);
        check_broker(&d);

        ret = print_report(&d, json);
        json_decref(d.checks);
        free(d.keys_user);
        lb_host_conf_done(&d.conf);
        return ret;
}
