/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "broker_client.h"
#include "http.h"
#include "record-priv.h"
#include "record.h"
#include "util.h"

int lb_rec_drop_to_operator(const char *name, uid_t uid, gid_t gid) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        cap_t caps;

        if (initgroups(name, gid) < 0)
                return -errno;
        if (setresgid(gid, gid, gid) < 0)
                return -errno;
        if (setresuid(uid, uid, uid) < 0)
                return -errno;
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return -errno;
        if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
                return -EPERM;
        if (uid != 0 && (setresuid(0, 0, 0) == 0 || setegid(0) == 0))
                return -EPERM;
        /* no capability left in any set */
        caps = cap_init();
        if (!caps)
                return -ENOMEM;
        if (cap_set_proc(caps) < 0) {
                cap_free(caps);
                return -errno;
        }
        cap_free(caps);
        return 0;
}

int lb_rec_drop_to_service(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups) {
        static const cap_value_t keep[] = { CAP_AUDIT_WRITE, CAP_AUDIT_READ, CAP_KILL };
        uid_t ru, eu, su;
        cap_t caps;
        int r = 0;

        /* drop the bounding set too so an exec could never get more */
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                bool kept = false;
                for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                        kept = kept || keep[i] == c;
                if (!kept)
                        (void) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
        }
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return -errno;
        if (setgroups(n_groups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
            setresuid(uid, uid, uid) < 0)
                return -errno;
        if (getresuid(&ru, &eu, &su) < 0)
                return -errno;
        if (ru != uid || eu != uid || su != uid)
                return -EPERM;
        caps = cap_init();
        if (!caps)
                return -ENOMEM;
        if (cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_proc(caps) < 0)
                r = -errno;
        cap_free(caps);
        if (r < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return -errno;
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

int lb_rec_keep_audit_write_only(void) {
        static const cap_value_t keep[] = { CAP_AUDIT_WRITE };
        cap_t caps = cap_init();
        int r = 0;

        if (!caps)
                return -ENOMEM;
        if (cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_proc(caps) < 0)
                r = -errno;
        cap_free(caps);
        return r;
}

/* ---- what a setuid program inherits ---------------------------------------- */

static void close_above_stderr(void) {
        if (close_range(3, ~0U, 0) == 0)
                return;
        for (int fd = 3, max = (int) sysconf(_SC_OPEN_MAX); fd < MAX(max, 1024); fd++)
                (void) close(fd);
}

static void set_limit(int res, rlim_t cur, rlim_t max) {
        struct rlimit l = { cur, max };
        (void) setrlimit(res, &l);
}

int lb_rec_sanitize(struct lb_rec_inherited *ret) {
        struct lb_rec_inherited in = {};
        sigset_t none;
        size_t n = 0;

        /* signals first: nothing inherited may interrupt or ignore ours */
        for (int s = 1; s < NSIG; s++)
                (void) signal(s, SIG_DFL);
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
                return -errno;

        /* 0-2 open, so no file we open later becomes someone's stdout */
        for (int fd = 0; fd <= 2; fd++) {
                if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
                        continue;
                int k = open("/dev/null", O_RDWR);
                if (k < 0)
                        return -errno;
                if (k != fd)
                        return -EBADF;
        }
        close_above_stderr();
        in.umask = umask(077);

        for (int res = 0; res < RLIM_NLIMITS; res++)
                in.lim_saved[res] = getrlimit(res, &in.lim[res]) == 0;
        set_limit(RLIMIT_CORE, 0, 0);
        set_limit(RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY);
        set_limit(RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY);
        set_limit(RLIMIT_DATA, RLIM_INFINITY, RLIM_INFINITY);
        set_limit(RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY);
        set_limit(RLIMIT_STACK, 8 * 1024 * 1024, RLIM_INFINITY);
        set_limit(RLIMIT_NOFILE, 1024, 4096);
        set_limit(RLIMIT_NPROC, RLIM_INFINITY, RLIM_INFINITY);
        set_limit(RLIMIT_MEMLOCK, 8 * 1024 * 1024, 8 * 1024 * 1024);

        /* the environment: a copy for the operator's side, none for us */
        for (char **e = environ; e && *e; e++)
                n++;
        in.env = calloc(n + 1, sizeof(char *));
        if (!in.env)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                in.env[i] = strdup(environ[i]);
                if (!in.env[i]) {
                        lb_rec_inherited_done(&in);
                        return -ENOMEM;
                }
        }
        if (clearenv() != 0 || setenv("PATH", LB_REC_SAFE_PATH, 1) < 0) {
                lb_rec_inherited_done(&in);
                return -ENOMEM;
        }
        *ret = in;
        return 0;
}

void lb_rec_inherited_done(struct lb_rec_inherited *in) {
        lb_strv_free(in->env);
        in->env = NULL;
}

void lb_rec_restore_limits(const struct lb_rec_inherited *in) {
        umask(in->umask);
        for (int res = 0; res < RLIM_NLIMITS; res++)
                if (in->lim_saved[res])
                        (void) setrlimit(res, &in->lim[res]);
}

const char *lb_rec_env_get(char *const *env, const char *name) {
        size_t n = strlen(name);

        for (; env && *env; env++)
                if (strneq(*env, name, n) && (*env)[n] == '=')
                        return *env + n + 1;
        return NULL;
}

/* Variables that make a shell or the dynamic linker run code nobody typed:
 * set from ~/.ssh/environment or a client's SetEnv, they would run in every
 * command of the session without showing in its input. */
static bool runs_untyped_code(const char *entry) {
        static const char *const names[] = { "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS",
                                             "PROMPT_COMMAND", "PS0", "PS1", "PS2", "PS4" };
        size_t n = strcspn(entry, "=");

        if (strneq(entry, "LD_", 3) || strneq(entry, "BASH_FUNC_", 10))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strlen(names[i]) == n && strneq(entry, names[i], n))
                        return true;
        return false;
}

size_t lb_rec_env_drop_untyped_code(char **env) {
        size_t dropped = 0, w = 0;

        for (size_t i = 0; env && env[i]; i++) {
                if (runs_untyped_code(env[i])) {
                        free(env[i]);
                        dropped++;
                } else
                        env[w++] = env[i];
        }
        if (env)
                env[w] = NULL;
        return dropped;
}

int lb_rec_claim_tty(void) {
        struct stat st, now;
        bool is_tty[3] = {};
        char path[256];
        int fd, k = 0;

        if (!isatty(STDIN_FILENO))
                return 0;
        if (ttyname_r(STDIN_FILENO, path, sizeof(path)) != 0 || fstat(STDIN_FILENO, &st) < 0)
                return -ENOTTY;
        for (int i = 0; i <= 2; i++) {
                struct stat o;
                is_tty[i] = fstat(i, &o) == 0 && S_ISCHR(o.st_mode) && o.st_rdev == st.st_rdev;
        }
        if (fchown(STDIN_FILENO, 0, 0) < 0 || fchmod(STDIN_FILENO, 0600) < 0)
                return -errno;
        /* Whoever opened it before (while it was the operator's) loses that
         * open: vhangup() hangs up every open file of the terminal, ours
         * too, which we then open again (as login(1) does). */
        signal(SIGHUP, SIG_IGN);
        if (vhangup() < 0)
                k = -errno;
        else {
                fd = open(path, O_RDWR);
                if (fd < 0)
                        k = -errno;
                else if (fstat(fd, &now) < 0 || now.st_rdev != st.st_rdev) {
                        k = -ENOTTY;
                        close(fd);
                } else {
                        for (int i = 0; i <= 2 && k == 0; i++)
                                if (is_tty[i] && dup2(fd, i) < 0)
                                        k = -errno;
                        if (fd > 2)
                                close(fd);
                }
        }
        signal(SIGHUP, SIG_DFL);
        return k;
}

/* ---- the broker, asked by the service user ---------------------------------- */

static int drop_for_good(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups) {
        uid_t ru, eu, su;
        cap_t caps;
        int r = 0;

        if (setgroups(n_groups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
            setresuid(uid, uid, uid) < 0)
                return -errno;
        if (getresuid(&ru, &eu, &su) < 0)
                return -errno;
        if (ru != uid || eu != uid || su != uid)
                return -EPERM;
        if (uid != 0 && setresuid(0, 0, 0) == 0)
                return -EPERM;
        caps = cap_init();
        if (!caps)
                return -ENOMEM;
        if (cap_set_proc(caps) < 0)
                r = -errno;
        cap_free(caps);
        if (r < 0)
                return r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -errno;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static _Noreturn void session_get_child(int fd, uid_t uid, gid_t gid, const gid_t *groups,
                                        size_t n_groups, struct lb_broker *b, const char *id) {
        struct lb_session s = {};
        _cleanup_free_ char *out = NULL;
        json_t *o;
        int k;

        k = drop_for_good(uid, gid, groups, n_groups);
        if (k == 0)
                k = lb_http_global_init();
        if (k == 0)
                k = lb_broker_session_get(b, id, &s);
        if (k < 0)
                o = json_pack("{s:i}", "error", -k);
        else
                o = json_pack("{s:b, s:s, s:s, s:s?, s:s?, s:I}", "allow", s.allow, "session",
                              s.session, "request", s.request, "operator", s.operator_, "state",
                              s.state, "remaining_s", (json_int_t) s.remaining_s);
        out = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        _exit(out && write_all(fd, out, strlen(out)) == 0 ? 0 : 1);
}

int lb_rec_session_get_as(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                          struct lb_broker *b, const char *id, struct lb_session *ret) {
        struct lb_session s = {};
        struct lb_buf buf = {};
        int p[2], st, k = 0, e;
        json_t *o = NULL;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                k = -errno;
                close(p[0]);
                close(p[1]);
                return k;
        }
        if (pid == 0) {
                close(p[0]);
                session_get_child(p[1], uid, gid, groups, n_groups, b, id);
        }
        close(p[1]);
        for (;;) {
                char chunk[4096];
                ssize_t n = read(p[0], chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        k = -errno;
                        break;
                }
                if (n == 0)
                        break;
                if (buf.len + (size_t) n > 64 * 1024 || lb_buf_append(&buf, chunk, (size_t) n) < 0) {
                        k = -EMSGSIZE;
                        break;
                }
        }
        close(p[0]);
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR) {
                        k = k < 0 ? k : -errno;
                        break;
                }
        if (k == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
                k = -EIO;
        if (k == 0) {
                o = json_loadb(buf.p ? buf.p : "", buf.len, JSON_REJECT_DUPLICATES, NULL);
                if (!json_is_object(o))
                        k = -EBADMSG;
        }
        if (k == 0 && json_unpack(o, "{s:i}", "error", &e) == 0)
                k = e > 0 ? -e : -EIO;
        else if (k == 0) {
                const char *se = NULL, *rq = NULL, *op = NULL, *state = NULL;
                int allow = 0;
                json_int_t rem = 0;
                if (json_unpack(o, "{s:b, s:s, s:s, s?s, s?s, s:I}", "allow", &allow, "session",
                                &se, "request", &rq, "operator", &op, "state", &state,
                                "remaining_s", &rem) < 0)
                        k = -EBADMSG;
                else {
                        s.allow = allow;
                        s.remaining_s = rem;
                        s.session = strdup(se);
                        s.request = strdup(rq);
                        s.operator_ = op ? strdup(op) : NULL;
                        s.state = state ? strdup(state) : NULL;
                        if (!s.session || !s.request || (op && !s.operator_) ||
                            (state && !s.state))
                                k = -ENOMEM;
                }
        }
        json_decref(o);
        lb_buf_done(&buf);
        if (k < 0) {
                lb_session_done(&s);
                return k;
        }
        *ret = s;
        return 0;
}
