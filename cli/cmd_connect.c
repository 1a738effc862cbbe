/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl connect ID [-- SSH_ARGS]: open a recorded session for an approved
 * request with a key that exists only for it.
 *
 * 1. the request must be approved, unexpired and the caller's own;
 * 2. a fresh ed25519 key pair in a private (0700) temporary directory;
 * 3. its public key registered with the request (POST /v1/requests/ID/keys):
 *    the host's lockbox-keys offers it to sshd, pam_lockbox consumes it when
 *    the session opens, so it opens one session only;
 * 4. ssh with only that key, no agent, no multiplexing, no passwords;
 * 5. the private key is overwritten and removed on every way out (ssh's exit,
 *    ssh failing, SIGINT/SIGTERM/SIGHUP to lockboxctl). Only SIGKILL can leave
 *    it behind, and even then it is useless once used or expired. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ctl.h"
#include "display.h"
#include "timeutil.h"
#include "util.h"

#define KEY_NAME "key"
#define PUB_NAME "key.pub"

static volatile sig_atomic_t got_signal;
static volatile pid_t child_pid;

static void on_signal(int sig) {
        int saved = errno;

        if (!got_signal)
                got_signal = sig;
        if (child_pid > 0)
                kill(child_pid, sig);
        errno = saved;
}

static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void install_handlers(void) {
        struct sigaction sa = { .sa_handler = on_signal };

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(handled_signals); i++)
                sigaction(handled_signals[i], &sa, NULL);
}

static void reset_handlers(void) {
        struct sigaction sa = { .sa_handler = SIG_DFL };

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(handled_signals); i++)
                sigaction(handled_signals[i], &sa, NULL);
}

/* Overwrite a file with zeros, then remove it. */
static void shred_file(const char *path) {
        static const char zeros[4096];
        struct stat st;
        int fd;

        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
                if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
                        off_t left = st.st_size;
                        while (left > 0) {
                                ssize_t n = write(fd, zeros, MIN((off_t) sizeof(zeros), left));
                                if (n <= 0)
                                        break;
                                left -= n;
                        }
                        (void) fdatasync(fd);
                }
                close(fd);
        }
        (void) unlink(path);
}

struct keydir {
        char *dir;
        char *key;
        char *pub;
};

static void keydir_destroy(struct keydir *k) {
        if (k->key)
                shred_file(k->key);
        if (k->pub)
                (void) unlink(k->pub);
        if (k->dir)
                (void) rmdir(k->dir);
        free(k->dir);
        free(k->key);
        free(k->pub);
        *k = (struct keydir) {};
}

static int keydir_make(struct keydir *k) {
        const char *tmp = getenv("TMPDIR");
        _cleanup_free_ char *tmpl = NULL;

        if (isempty(tmp) || tmp[0] != '/')
                tmp = "/tmp";
        tmpl = lb_asprintf("%s/lockboxctl-connect.XXXXXX", tmp);
        if (!tmpl)
                return -ENOMEM;
        if (!mkdtemp(tmpl)) /* mode 0700 */
                return -errno;
        k->dir = TAKE_PTR(tmpl);
        k->key = lb_asprintf("%s/" KEY_NAME, k->dir);
        k->pub = lb_asprintf("%s/" PUB_NAME, k->dir);
        if (!k->key || !k->pub)
                return -ENOMEM;
        return 0;
}

/* Run argv, wait for it; returns its wait status or -errno. */
static int run_child(char **argv, bool quiet_stdin) {
        int status;
        pid_t pid;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                reset_handlers();
                if (quiet_stdin) {
                        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (fd >= 0)
                                dup2(fd, STDIN_FILENO);
                }
                execvp(argv[0], argv);
                fprintf(stderr, "lockboxctl: cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        child_pid = pid;
        /* a signal that came before child_pid was set is passed on now */
        if (got_signal)
                kill(pid, got_signal);
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR) {
                        child_pid = 0;
                        return -errno;
                }
        }
        child_pid = 0;
        return status;
}

static int status_to_exit(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return LB_EXIT_FAILURE;
}

/* The request as the broker sees it, checked for connecting. */
struct target {
        char *request;
        char *host;
        char *user;
        int64_t not_after;
        int64_t remaining_s;
};

static void target_done(struct target *t) {
        free(t->request);
        free(t->host);
        free(t->user);
        *t = (struct target) {};
}

static int load_target(struct lb_ctl *ctl, const char *id, struct target *ret) {
        _cleanup_free_ char *path = NULL, *err = NULL, *sid = lb_ctl_safe(id);
        json_auto_t *j = NULL;
        const char *state, *operator_, *user, *host, *me, *na;
        json_t *hosts;
        int64_t now = lb_now_s(), not_after = 0, remaining;
        char tbuf[LB_CTL_TIME_LEN];
        int r;

        path = lb_asprintf("/v1/requests/%s", id);
        if (!path || !sid)
                return lb_ctl_error("out of memory");
        r = lb_broker_call(&ctl->broker, "GET", path, NULL, &j, &err);
        if (r == -EACCES)
                return lb_ctl_error("request %s is not yours", sid);
        if (r == -ENOENT)
                return lb_ctl_error("request %s: no such request", sid);
        if (r < 0 && err) {
                _cleanup_free_ char *serr = lb_ctl_safe(err);
                return lb_ctl_error("request %s: %s", sid, strna(serr));
        }
        if (r < 0) {
                _cleanup_free_ char *sb = lb_ctl_safe(ctl->broker_url);
                return lb_ctl_error("request %s: cannot get it from the broker at %s: %s", sid,
                                    strna(sb), strerror(-r));
        }

        state = json_string_value(json_object_get(j, "state"));
        operator_ = json_string_value(json_object_get(j, "operator"));
        user = json_string_value(json_object_get(j, "user"));
        hosts = json_object_get(j, "hosts");
        na = json_string_value(json_object_get(j, "not_after"));
        if (!state || !operator_ || !user || !json_is_array(hosts))
                return lb_ctl_error("request %s: the broker's answer is not a request", sid);
        if (na && lb_time_parse(na, &not_after) < 0)
                return lb_ctl_error("request %s: the broker's answer has a bad not_after", sid);

        /* On the unix socket the broker knows us by our uid: an approver or
         * admin may see someone else's request, but only its operator may use
         * it (the broker refuses to register a key for anyone else too). */
        me = lb_ctl_local_user();
        if (strneq(ctl->broker_url, "unix:", 5) && me && !streq(me, operator_)) {
                _cleanup_free_ char *so = lb_ctl_safe(operator_);
                return lb_ctl_error("request %s is not yours (it is %s's)", sid, strna(so));
        }

        if (streq(state, "pending"))
                return lb_ctl_error("request %s is pending: wait for an approver", sid);
        if (streq(state, "expired") || (streq(state, "approved") && not_after > 0 &&
                                         not_after <= now)) {
                if (not_after > 0)
                        return lb_ctl_error("request %s expired at %s", sid,
                                            lb_ctl_time(not_after, true, tbuf, sizeof(tbuf)));
                return lb_ctl_error("request %s expired before it was approved", sid);
        }
        if (!streq(state, "approved")) {
                _cleanup_free_ char *ss = lb_ctl_safe(state), *sr = NULL;
                const char *why = json_string_value(json_object_get(j, "end_reason"));
                sr = why ? lb_ctl_safe(why) : NULL;
                return lb_ctl_error("request %s is %s%s%s: it gives no access", sid, strna(ss),
                                    sr ? " — " : "", sr ? sr : "");
        }
        remaining = json_integer_value(json_object_get(j, "remaining_s"));
        if (!json_is_integer(json_object_get(j, "remaining_s")) || remaining <= 0)
                return lb_ctl_error("request %s expired at %s", sid,
                                    lb_ctl_time(not_after, true, tbuf, sizeof(tbuf)));

        /* several hosts: the first; `-- -o HostName=...` points ssh elsewhere */
        if (json_array_size(hosts) == 0)
                return lb_ctl_error("request %s names no host", sid);
        host = json_string_value(json_array_get(hosts, 0));
        if (!host || !lb_name_valid(host, 253) || !lb_name_valid(user, 253) || host[0] == '-' ||
            user[0] == '-')
                return lb_ctl_error("request %s: the broker's answer has a bad host or user", sid);

        *ret = (struct target) {
                .request = strdup(id),
                .host = strdup(host),
                .user = strdup(user),
                .not_after = not_after,
                .remaining_s = remaining,
        };
        if (!ret->request || !ret->host || !ret->user) {
                target_done(ret);
                return lb_ctl_error("out of memory");
        }
        return LB_EXIT_OK;
}

static int register_key(struct lb_ctl *ctl, const struct target *t, const char *pubfile,
                        char **ret_fp) {
        _cleanup_free_ char *pub = NULL, *path = NULL, *what = NULL;
        json_auto_t *body = NULL, *answer = NULL;
        const char *fp;
        size_t len;
        int r;

        r = lb_read_file(pubfile, 16384, &pub, &len);
        if (r < 0)
                return lb_ctl_error("cannot read the new public key: %s", strerror(-r));
        pub[strcspn(pub, "\r\n")] = '\0';
        body = json_pack("{s:s}", "public_key", pub);
        path = lb_asprintf("/v1/requests/%s/keys", t->request);
        what = lb_asprintf("register a key for %s", t->request);
        if (!body || !path || !what)
                return lb_ctl_error("out of memory");
        r = lb_ctl_call(ctl, what, "POST", path, body, &answer);
        if (r != 0)
                return r;
        fp = json_string_value(json_object_get(answer, "fingerprint"));
        *ret_fp = lb_ctl_safe(fp ? fp : "?");
        return LB_EXIT_OK;
}

static void help(void) {
        printf("Usage: lockboxctl connect ID [-- SSH_ARGS...]\n"
               "Open a recorded session on the request's host and account with a key made\n"
               "for this session only (registered with the request, destroyed afterwards).\n"
               "SSH_ARGS go to ssh after the destination, e.g. -- -p 2222 or a command.\n");
}

int lb_cmd_connect(struct lb_ctl *ctl, int argc, char **argv) {
        _cleanup_(target_done) struct target t = {};
        _cleanup_(keydir_destroy) struct keydir kd = {};
        _cleanup_free_ char *fp = NULL, *comment = NULL, **sargv = NULL;
        char tbuf[LB_CTL_TIME_LEN];
        int first_ssh_arg = argc, r, status;
        const char *id;
        size_t n = 0;

        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                help();
                return LB_EXIT_OK;
        }
        if (argc < 2)
                return lb_ctl_usage_error("connect", "missing request id");
        id = argv[1];
        if (argc > 2) {
                if (!streq(argv[2], "--"))
                        return lb_ctl_usage_error("connect", "ssh arguments go after '--'");
                first_ssh_arg = 3;
        }
        r = lb_ctl_check_id("connect", id);
        if (r != 0)
                return r;

        r = load_target(ctl, id, &t);
        if (r != 0)
                return r;

        /* From here on a key exists: every way out goes through keydir_destroy. */
        install_handlers();
        r = keydir_make(&kd);
        if (r < 0)
                return lb_ctl_error("cannot make a private temporary directory: %s", strerror(-r));

        comment = lb_asprintf("lockbox:%s", t.request);
        if (!comment)
                return lb_ctl_error("out of memory");
        {
                char *kg[] = { (char *) "ssh-keygen", (char *) "-t", (char *) "ed25519",
                               (char *) "-N", (char *) "", (char *) "-q", (char *) "-C", comment,
                               (char *) "-f", kd.key, NULL };
                status = run_child(kg, true);
        }
        if (got_signal)
                return 128 + got_signal;
        if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return lb_ctl_error("ssh-keygen failed to make a session key");

        r = register_key(ctl, &t, kd.pub, &fp);
        if (got_signal)
                return 128 + got_signal;
        if (r != 0)
                return r;

        {
                _cleanup_free_ char *sh = lb_ctl_safe(t.host), *su = lb_ctl_safe(t.user);
                fprintf(stderr, "lockboxctl: %s@%s for request %s, key %s, access ends %s\n",
                        strna(su), strna(sh), t.request, strna(fp),
                        lb_ctl_time_rel(t.not_after > 0 ? t.not_after : lb_now_s() + t.remaining_s,
                                        lb_now_s(), tbuf, sizeof(tbuf)));
        }

        static const char *const fixed[] = {
                "ssh", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                "-o", "ForwardAgent=no", "-o", "PasswordAuthentication=no",
                "-o", "KbdInteractiveAuthentication=no", "-o", "ControlMaster=no",
                "-o", "ControlPath=none",
        };
        sargv = calloc(ELEMENTSOF(fixed) + 6 + (size_t) (argc - first_ssh_arg) + 1, sizeof(char *));
        if (!sargv)
                return lb_ctl_error("out of memory");
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                sargv[n++] = (char *) fixed[i];
        sargv[n++] = (char *) "-i";
        sargv[n++] = kd.key;
        sargv[n++] = (char *) "-l";
        sargv[n++] = t.user;
        sargv[n++] = t.host;
        for (int i = first_ssh_arg; i < argc; i++)
                sargv[n++] = argv[i];
        sargv[n] = NULL;

        status = run_child(sargv, false);
        if (status < 0)
                return lb_ctl_error("cannot run ssh: %s", strerror(-status));
        if (got_signal && !WIFEXITED(status))
                return 128 + got_signal;
        return status_to_exit(status);
}
