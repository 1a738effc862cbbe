/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockbox-record: the forced command of a vendor's ssh session. It learns its
 * session from the audit session id, checks it with the broker, records every
 * byte and every exec, and ends the session at expiry or revocation. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <sys/stat.h>

#include "broker_client.h"
#include "conf.h"
#include "log.h"
#include "proc.h"
#include "record-priv.h"
#include "record-run.h"
#include "util.h"

static void conf_report(void *userdata, const char *path, unsigned line, const char *key,
                        int error) {
        (void) userdata;
        log_warning("%s:%u: %s: %s", path, line, strna(key), strerror(-error));
}

#ifdef LB_TEST_PATHS
/* The test build only (LB_TEST_PATHS; never installed): a relocated install: lockbox.conf beside the binary, when
 * that directory and file are root's and nobody else can write them, is as
 * trustworthy as /etc/lockbox/lockbox.conf. */
static char *conf_beside_binary(void) {
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        struct stat d, f;
        char *slash, *path;

        if (n <= 0)
                return NULL;
        exe[n] = 0;
        slash = strrchr(exe, '/');
        if (!slash)
                return NULL;
        *slash = 0;
        path = lb_asprintf("%s/lockbox.conf", exe);
        if (!path)
                return NULL;
        if (stat(exe, &d) < 0 || lstat(path, &f) < 0 || !S_ISREG(f.st_mode) ||
            d.st_uid != 0 || f.st_uid != 0 || (d.st_mode & 022) || (f.st_mode & 022)) {
                free(path);
                return NULL;
        }
        return path;
}
#endif

static int refuse(const char *why) {
        fprintf(stderr, "lockbox: this session cannot start: %s\n", why);
        log_error("refused to start a session: %s", why);
        return 1;
}

/* sshd runs a login shell as `SHELL -c COMMAND`: with ForceCommand, COMMAND
 * is the recorder's own command line and the operator's command (if any) is
 * in SSH_ORIGINAL_COMMAND; without it, COMMAND is what the operator asked
 * for. Both are recorded: this only decides what runs. */
static bool runs_recorder(const char *command, const char *recorder) {
        size_t n = strcspn(command, " \t");
        char self[4096];
        ssize_t k;

        if (n == 0)
                return false;
        if (strlen(recorder) == n && strneq(command, recorder, n))
                return true;
        k = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (k <= 0)
                return false;
        self[k] = 0;
        return strlen(self) == n && strneq(command, self, n);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'C' },
                { "request", required_argument, NULL, 'r' }, /* from the key; not trusted */
                { "poll-ms", required_argument, NULL, 'p' },
                { "broker-grace-ms", required_argument, NULL, 'g' },
                { "debug", no_argument, NULL, 'd' },
                {}
        };
        struct lb_rec_inherited in = {};
        struct lb_host_conf conf;
        struct lb_recorder r;
        struct lb_session bs = {};
        const char *config = NULL, *cmd, *login_cmd = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL, *beside = NULL;
        struct passwd *pw;
        uid_t ruid = getuid();
        unsigned poll_ms = 5000;
        uint64_t grace_ms = 60000;
        size_t len;
        int c, k, status;

        /* Before anything else, and before any library is initialised: a
         * setuid program trusts nothing it inherited (environment, fds,
         * umask, limits, signals). */
        k = lb_rec_sanitize(&in);
        if (k < 0) {
                fprintf(stderr, "lockbox: this session cannot start: %s\n", strerror(-k));
                return 1;
        }
        lb_log_open("lockbox-record", LB_LOG_JOURNAL);
        if (geteuid() != 0)
                return refuse("lockbox-record is not installed setuid root");
        lb_host_conf_init(&conf);
        lb_rec_init(&r);

        /* Arguments come from the operator's side (a key's command=, or anyone
         * running the binary): only root may change anything with them. `-c
         * COMMAND` is how sshd runs a login shell, which the recorder is. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+c:", opts, NULL)) >= 0) {
                uint64_t v;
                if (c == 'c') {
                        login_cmd = optarg;
                        continue;
                }
                if (ruid != 0)
                        continue;
                switch (c) {
                case 'C':
                        config = optarg;
                        break;
                case 'p':
                        if (lb_parse_u64(optarg, 5000, &v) == 0 && v >= 100)
                                poll_ms = (unsigned) v;
                        break;
                case 'g':
                        if (lb_parse_u64(optarg, 3600000, &v) == 0)
                                grace_ms = v;
                        break;
                case 'd':
                        lb_log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        break;
                }
        }

#ifdef LB_TEST_PATHS
        if (!config)
                config = beside = conf_beside_binary();
#endif
        k = lb_host_conf_load(&conf, config, config != NULL, conf_report, NULL);
        if (k < 0)
                return refuse("the host configuration cannot be read");

        k = lb_proc_audit_session(0, &r.ses);
        if (k < 0)
                return refuse("the login has no audit session (pam_loginuid is missing)");

        path = lb_asprintf("%s/sessions/%" PRIu32 ".json", conf.state_dir, r.ses);
        if (!path)
                return refuse("out of memory");
        k = lb_read_file(path, 64 * 1024, &text, &len);
        if (k < 0)
                return refuse("no lockbox session for this login");
        k = lb_rec_session_parse(text, len, &r.rs);
        if (k < 0 || r.rs.audit_session != r.ses)
                return refuse("the session record is not valid");

        pw = getpwuid(ruid);
        if (!pw || !streq(pw->pw_name, r.rs.user))
                return refuse("the session record is for another account");
        /* sshd's terminal is ours from now on: no process of the operator
         * can open it behind the recorder. Only for a login that has a
         * lockbox session: anyone else running the binary keeps their
         * terminal as it was. */
        k = lb_rec_claim_tty();
        if (k < 0)
                return refuse("the terminal cannot be taken from the operator");
        r.op_name = strdup(pw->pw_name);
        r.op_uid = pw->pw_uid;
        r.op_gid = pw->pw_gid;
        /* the operator's shell comes from the host's configuration: the
         * passwd shell is the recorder itself */
        if (runs_recorder(conf.shell, conf.recorder))
                return refuse("the configured shell is the recorder itself");
        r.op_shell = strdup(conf.shell);
        pw = getpwnam(conf.record_user);
        if (!pw)
                return refuse("the recorder's service user does not exist");
        r.rec_uid = pw->pw_uid;
        r.rec_gid = pw->pw_gid;
        if (lb_service_groups(pw->pw_name, pw->pw_gid, &r.rec_groups, &r.n_rec_groups, NULL) < 0)
                return refuse("the recorder's service user's groups cannot be read");
        if (!r.op_name || !r.op_shell)
                return refuse("out of memory");

        cmd = lb_rec_env_get(in.env, "SSH_ORIGINAL_COMMAND");
        if (login_cmd && !runs_recorder(login_cmd, conf.recorder))
                cmd = login_cmd;
        if (!isempty(cmd)) {
                if (lb_rec_is_sftp(cmd) && !conf.allow_sftp) {
                        fprintf(stderr, "lockbox: sftp is not allowed in a lockbox session "
                                        "(allow_sftp = no)\n");
                        log_notice("refused sftp for session %s", r.rs.session);
                        return 1;
                }
                r.command = strdup(cmd);
                if (!r.command)
                        return refuse("out of memory");
        }
        /* the operator's shell gets what sshd gave, less what would run code
         * in it that nobody typed (set from ~/.ssh/environment or SetEnv) */
        if (lb_rec_env_drop_untyped_code(in.env) > 0)
                log_notice("session %s: dropped environment variables that run untyped code "
                           "(LD_*, BASH_ENV, ENV, exported functions, prompts)", r.rs.session);
        r.env = in.env;
        r.inherited = &in;
        r.term = lb_rec_env_get(in.env, "TERM");

        /* The broker decides: the session must be open and allowed now. The
         * token is read here, as root; the call is made by the service user. */
        k = lb_broker_init(&r.broker, &conf);
        if (k < 0)
                return refuse("the broker is not configured");
        k = lb_rec_session_get_as(r.rec_uid, r.rec_gid, r.rec_groups, r.n_rec_groups, &r.broker,
                                  r.rs.session, &bs);
        if (k < 0) {
                log_error("the broker's answer for session %s: %s", r.rs.session, strerror(-k));
                return refuse("access could not be verified with the broker");
        }
        if (!bs.allow || !streq(bs.session, r.rs.session) || !streq(bs.request, r.rs.request)) {
                lb_session_done(&bs);
                return refuse("the broker says this session is not allowed");
        }
        if (!r.rs.operator_ && bs.operator_)
                r.rs.operator_ = strdup(bs.operator_);
        {
                uint64_t now = lb_mono_ms(), d = now + (uint64_t) bs.remaining_s * 1000;
                if (d < r.rs.mono_ms + (uint64_t) r.rs.remaining_s * 1000) {
                        r.rs.mono_ms = now;
                        r.rs.remaining_s = bs.remaining_s;
                }
        }
        lb_session_done(&bs);
        if (!r.rs.operator_)
                return refuse("the session has no operator");

        {
                struct lb_sink_ids ids = { r.rs.session, r.rs.request, r.rs.operator_,
                                           r.rs.user, r.rs.host };
                k = lb_sink_journal_new(&ids, 2000, &r.sink);
                if (k < 0)
                        return refuse("out of memory");
        }
        r.conf = &conf;
        r.poll_ms = poll_ms;
        r.broker_grace_ms = grace_ms;

        k = lb_rec_setup(&r);
        if (k < 0) {
                lb_rec_done(&r);
                lb_host_conf_done(&conf);
                return refuse("the recorder could not start");
        }
        (void) lb_rec_relay(&r);
        status = lb_rec_end(&r);
        lb_rec_done(&r);
        lb_host_conf_done(&conf);
        lb_rec_inherited_done(&in);
        return status;
}
