/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_lockbox.so: a managed account gets in only with an approved, unexpired
 * request for this host and account, and its session is bound to that request
 * (DESIGN §5). Everything else fails closed.
 *
 *   account        ask the broker (GET /v1/access); PAM_SUCCESS only on a
 *                  well-formed "allow" for this host and account
 *   session open   bind the login to its request with the per-session key from
 *                  SSH_AUTH_INFO_0 (POST /v1/sessions, which consumes the key),
 *                  write the session record for the recorder, export
 *                  LOCKBOX_REQUEST / LOCKBOX_SESSION / LOCKBOX_NOT_AFTER
 *   session close  end the session at the broker, remove the record
 *
 * Not managed (not in operator_group, not in operators): PAM_IGNORE, nothing
 * else. The module never prompts, never writes to stderr, never reads the
 * process environment; the PAM environment is read for SSH_AUTH_INFO_0 only.
 * There is deliberately no pam_sm_authenticate: listed under "auth", libpam
 * fails that stack (PAM_MODULE_UNKNOWN) rather than let anything through. */
#include "config.h"

#include <pwd.h>
#include <stdarg.h>
#include <sys/uio.h>
#include <syslog.h>

#include <libaudit.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <systemd/sd-journal.h>

#include "broker_client.h"
#include "conf.h"
#include "evidence.h"
#include "pam_lockbox.h"
#include "proc.h"
#include "sshkey.h"
#include "timeutil.h"
#include "util.h"

#define DATA_SESSION "lockbox_session"
#define DATA_AUDIT_SESSION "lockbox_audit_session"
/* AUDIT_GET at open and close: the kernel answers at once; never longer */
#define LB_AUDIT_STATUS_TIMEOUT_MS 250

struct ctx {
        pam_handle_t *pamh;
        int flags;
        const char *stage;      /* "account", "session-open", "session-close" */
        struct lb_host_conf conf;
        bool conf_file_broken;  /* missing/unreadable/malformed: membership unknown */
        bool conf_value_bad;    /* a known key with a bad value, a bad argument */
        const char *user;
        const char *service;
        const char *rhost;
        const char *tty;
        char *host;
        struct lb_broker broker;
        bool broker_ready;
};

static void ctx_done(struct ctx *c) {
        if (c->broker_ready)
                lb_broker_done(&c->broker);
        lb_host_conf_done(&c->conf);
        free(c->host);
}

/* ---- evidence: journald and auditd ------------------------------------- */

struct event {
        const char *message_id; /* NULL for debug lines */
        int priority;
        const char *decision;   /* allow, deny, error, open, refuse, close */
        const char *request;
        const char *session;
        const char *operator_;
        const char *reason;     /* may come from the broker: made term-safe here */
};

static void add_field(struct iovec *iov, char **strs, size_t *n, const char *name,
                      const char *value) {
        char *s;

        if (!value)
                return;
        s = lb_asprintf("%s=%s", name, value);
        if (!s)
                return;
        strs[*n] = s;
        iov[*n] = (struct iovec) { .iov_base = s, .iov_len = strlen(s) };
        (*n)++;
}

_printf_(3, 4) static void log_event(struct ctx *c, const struct event *e, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *reason = NULL;
        struct iovec iov[20];
        char *strs[20];
        char prio[4];
        size_t n = 0;
        va_list ap;
        int r;

        if (e->priority >= LOG_DEBUG && !c->conf.debug)
                return;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return;
        if (e->reason)
                reason = lb_term_safe(e->reason);
        snprintf(prio, sizeof(prio), "%d", e->priority);

        add_field(iov, strs, &n, "MESSAGE", msg);
        add_field(iov, strs, &n, "PRIORITY", prio);
        add_field(iov, strs, &n, "SYSLOG_IDENTIFIER", "pam_lockbox");
        add_field(iov, strs, &n, "MESSAGE_ID", e->message_id);
        add_field(iov, strs, &n, "LOCKBOX_STAGE", c->stage);
        add_field(iov, strs, &n, "LOCKBOX_USER", c->user);
        add_field(iov, strs, &n, "LOCKBOX_HOST", c->host);
        add_field(iov, strs, &n, "LOCKBOX_REQUEST", e->request);
        add_field(iov, strs, &n, "LOCKBOX_SESSION", e->session);
        add_field(iov, strs, &n, "LOCKBOX_OPERATOR", e->operator_);
        add_field(iov, strs, &n, "LOCKBOX_DECISION", e->decision);
        add_field(iov, strs, &n, "LOCKBOX_REASON", reason);
        add_field(iov, strs, &n, "LOCKBOX_RHOST", c->rhost);
        add_field(iov, strs, &n, "PAM_SERVICE", c->service);
        r = sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < n; i++)
                free(strs[i]);
        /* sd_journal_sendv() says 0 when journald is not there: use syslog too then */
        if (r < 0 || !lb_journal_available())
                pam_syslog(c->pamh, e->priority, "%s", msg);
}

#define log_debug_ctx(c, ...) \
        log_event((c), &(struct event) { .priority = LOG_DEBUG }, __VA_ARGS__)

static void log_config(struct ctx *c, const char *reason, const char *fmt, ...) _printf_(3, 4);
static void log_config(struct ctx *c, const char *reason, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        log_event(c,
                  &(struct event) { .message_id = LB_MID_CONFIG_ERROR, .priority = LOG_ERR,
                                    .decision = "error", .reason = reason },
                  "%s", msg ? msg : "configuration error");
}

/* AUDIT_USER "op=lockbox-<what> ...": libpam writes USER_ACCT / USER_START
 * itself, so these carry only what lockbox adds. Without CAP_AUDIT_WRITE or
 * kernel audit this fails; journald has the same decision. */
static void audit_event(struct ctx *c, const char *op, bool ok, const char *decision,
                        const char *request, const char *session) {
        _cleanup_free_ char *acct = c->user ? lb_audit_value(c->user) : NULL,
                            *req = request ? lb_audit_value(request) : NULL,
                            *ses = session ? lb_audit_value(session) : NULL,
                            *host = c->host ? lb_audit_value(c->host) : NULL, *msg = NULL;
        int r;

        msg = lb_asprintf("op=%s acct=%s lockbox_host=%s lockbox_request=%s "
                          "lockbox_session=%s lockbox_decision=%s",
                          op, strna(acct), strna(host), req ? req : "?", ses ? ses : "?",
                          decision);
        if (!msg)
                return;
        r = lb_audit_user_message(AUDIT_USER, msg, c->rhost, NULL, c->tty, ok);
        if (r < 0)
                log_debug_ctx(c, "audit record not written: %s", strerror(-r));
}

/* ---- what the user sees ------------------------------------------------ */

static void say(struct ctx *c, int style, const char *text) {
        if (!text || (c->flags & PAM_SILENT))
                return;
        /* PAM_TEXT_INFO / PAM_ERROR_MSG expect no answer: never a prompt */
        (void) pam_prompt(c->pamh, style, NULL, "%s", text);
}

static void say_info(struct ctx *c, char *text) {
        say(c, PAM_TEXT_INFO, text);
        free(text);
}

static void say_error(struct ctx *c, char *text) {
        say(c, PAM_ERROR_MSG, text);
        free(text);
}

/* ---- configuration ----------------------------------------------------- */

static void on_conf_problem(void *userdata, const char *path, unsigned line, const char *key,
                            int error) {
        struct ctx *c = userdata;

        if (!key) {
                c->conf_file_broken = true;
                log_config(c, "malformed line", "%s:%u: malformed line: %s", path, line,
                           strerror(-error));
        } else if (error == -ENOENT) {
                log_event(c,
                          &(struct event) { .message_id = LB_MID_CONFIG_ERROR,
                                            .priority = LOG_WARNING, .reason = "unknown key" },
                          "%s:%u: unknown key '%s' ignored", path, line, key);
        } else {
                c->conf_value_bad = true;
                log_config(c, "bad value", "%s:%u: bad value for '%s': %s", path, line, key,
                           strerror(-error));
        }
}

static void load_config(struct ctx *c, int argc, const char **argv) {
        const char *path = NULL;
        int r;

        lb_host_conf_init(&c->conf);
        if (!c->conf.broker || !c->conf.state_dir || !c->conf.ssh_services) {
                c->conf_file_broken = true;
                return;
        }
        for (int i = 0; i < argc; i++) {
                if (strneq(argv[i], "config=", 7))
                        path = argv[i] + 7;
                else if (streq(argv[i], "debug"))
                        c->conf.debug = true;
        }
        if (path && path[0] != '/') {
                c->conf_file_broken = true;
                log_config(c, "bad argument", "config=%s: not an absolute path", path);
                return;
        }
        r = lb_host_conf_load(&c->conf, path, path != NULL, on_conf_problem, c);
        if (r < 0) {
                c->conf_file_broken = true;
                log_config(c, r == -ENOENT ? "missing file" : "unreadable file",
                           "configuration %s: %s", path ? path : LB_HOST_CONF_PATH,
                           strerror(-r));
                return;
        }
        /* arguments override the file */
        for (int i = 0; i < argc; i++) {
                _cleanup_free_ char *key = NULL;
                const char *eq;

                if (strneq(argv[i], "config=", 7) || streq(argv[i], "debug"))
                        continue;
                eq = strchr(argv[i], '=');
                if (!eq || eq == argv[i]) {
                        c->conf_value_bad = true;
                        log_config(c, "bad argument", "module argument '%s': not key=value",
                                   argv[i]);
                        continue;
                }
                key = strndup(argv[i], (size_t) (eq - argv[i]));
                if (!key) {
                        c->conf_value_bad = true;
                        continue;
                }
                r = lb_host_conf_set(&c->conf, key, eq + 1);
                if (r == -ENOENT)
                        log_event(c,
                                  &(struct event) { .message_id = LB_MID_CONFIG_ERROR,
                                                    .priority = LOG_WARNING,
                                                    .reason = "unknown key" },
                                  "module argument '%s': unknown key ignored", key);
                else if (r < 0) {
                        c->conf_value_bad = true;
                        log_config(c, "bad argument", "module argument '%s': %s", argv[i],
                                   strerror(-r));
                }
        }
}

/* The part every hook shares. Returns 1 with *ret set when the hook is done
 * (not managed, or an error), 0 when a managed user goes on. */
static int prelude(struct ctx *c, int argc, const char **argv, int *ret) {
        const void *item = NULL;
        int r;

        if (pam_get_item(c->pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
                c->service = item;
        if (pam_get_item(c->pamh, PAM_RHOST, &item) == PAM_SUCCESS)
                c->rhost = item;
        if (pam_get_item(c->pamh, PAM_TTY, &item) == PAM_SUCCESS)
                c->tty = item;
        /* pam_get_item, not pam_get_user: that one may prompt */
        item = NULL;
        if (pam_get_item(c->pamh, PAM_USER, &item) == PAM_SUCCESS)
                c->user = item;

        load_config(c, argc, argv);
        if (c->conf_file_broken) {
                /* we cannot tell who is managed: nobody passes */
                say_error(c, strdup("lockbox: host configuration error (see the journal); "
                                    "refusing login"));
                *ret = PAM_SERVICE_ERR;
                return 1;
        }
        if (isempty(c->user)) {
                log_config(c, "no user", "no PAM user set");
                *ret = PAM_USER_UNKNOWN;
                return 1;
        }

        r = lb_host_conf_is_managed(&c->conf, c->user);
        if (r < 0) {
                /* fail closed: an account we cannot look up is treated as managed */
                log_event(c,
                          &(struct event) { .priority = LOG_WARNING, .reason = strerror(-r) },
                          "lockbox: group lookup for %s failed (%s); treating as managed",
                          c->user, strerror(-r));
        } else if (r == 0) {
                log_debug_ctx(c, "lockbox: %s is not managed", c->user);
                *ret = PAM_IGNORE;
                return 1;
        }

        if (c->conf_value_bad) {
                say_error(c, strdup("lockbox: access could not be verified (host "
                                    "configuration error); refusing login"));
                *ret = PAM_SERVICE_ERR;
                return 1;
        }
        r = lb_host_conf_host_name(&c->conf, &c->host);
        if (r < 0) {
                log_config(c, "host name", "this host's name is not usable: %s",
                           strerror(-r));
                say_error(c, strdup("lockbox: access could not be verified (host "
                                    "configuration error); refusing login"));
                *ret = PAM_SERVICE_ERR;
                return 1;
        }
        r = lb_broker_init(&c->broker, &c->conf);
        if (r < 0) {
                log_config(c, "broker", "broker %s (token %s): %s", c->conf.broker,
                           strna(c->conf.token_file), strerror(-r));
                say_error(c, strdup("lockbox: access could not be verified (host "
                                    "configuration error); refusing login"));
                *ret = PAM_SERVICE_ERR;
                return 1;
        }
        c->broker_ready = true;
        return 0;
}

/* ---- the recorded ssh login is the only way in ---------------------------
 *
 * cron, atd, the systemd user manager, su, login... start work for an account
 * outside its recorded login. pam_lockbox sits in every service's stack (the
 * pam-auth-update profile puts it in common-account and common-session) and
 * lets a managed account through on two paths only:
 *   ssh     a service named in ssh_services: the sshd login, whose session
 *           open then needs the per-session key in SSH_AUTH_INFO_0;
 *   nested  a call made from inside this account's own recorded login (sudo
 *           or su typed in the recorded shell, every exec of which the
 *           recorder sees): the calling process's audit session has a
 *           session record for this account. The kernel hands out audit
 *           session ids; a process can get a fresh one, never join another,
 *           and the record is root's, written at sshd session open and
 *           removed at close.
 * Anything else (cron, atd and systemd-user run PAM in a daemon's process,
 * outside every recorded login) is refused at the account stage and again
 * at session open. */
enum login_path { PATH_OTHER, PATH_SSH, PATH_NESTED };

static bool on_ssh_service(const struct ctx *c) {
        return c->service && lb_strv_contains(c->conf.ssh_services, c->service);
}

static enum login_path login_path(const struct ctx *c) {
        _cleanup_free_ char *json = NULL, *owner = NULL;
        uint32_t ses;
        size_t len;

        if (on_ssh_service(c))
                return PATH_SSH;
        if (lb_pam_audit_session(&ses) < 0 ||
            lb_pam_record_read(c->conf.state_dir, ses, &json, &len) < 0 ||
            lb_pam_record_parse_user(json, len, ses, &owner) < 0 || !streq(owner, c->user))
                return PATH_OTHER;
        return PATH_NESTED;
}

/* Returns 1 with *ret set when the hook ends here (refused), 0 to go on. */
static int refuse_other_paths(struct ctx *c, enum login_path path, int *ret) {
        _cleanup_free_ char *safe = NULL;
        bool account = streq(c->stage, "account");

        if (path != PATH_OTHER)
                return 0;
        safe = lb_term_safe(strna(c->service));
        log_event(c,
                  &(struct event) { .message_id = LB_MID_SERVICE_REFUSED, .priority = LOG_WARNING,
                                    .decision = "deny",
                                    .reason = "not the recorded ssh login" },
                  "lockbox: refused %s on PAM service %s: a managed account is used only through "
                  "its recorded ssh login (ssh_services)",
                  c->user, strna(safe));
        audit_event(c, account ? "lockbox-account" : "lockbox-session-open", false, "deny", NULL,
                    NULL);
        say_error(c, lb_asprintf("lockbox: %s is a managed account: it is used only through its "
                                 "recorded ssh login, not through %s; refusing",
                                 c->user, strna(safe)));
        *ret = account ? PAM_PERM_DENIED : PAM_SESSION_ERR;
        return 1;
}

/* ---- account ----------------------------------------------------------- */

/* A managed account's login shell must be the recorder: sshd runs the
 * ForceCommand through the login shell, so any other shell (bash reads
 * ~/.bashrc when sshd starts it) runs the operator's own files before the
 * recorder, unrecorded. 0 when it is, -EPERM (and the refusal said) when not. */
static int check_login_shell(struct ctx *c) {
        struct passwd *pw = getpwnam(c->user);
        const char *shell = pw ? pw->pw_shell : NULL;

        if (shell && streq(shell, c->conf.recorder))
                return 0;
        log_event(c,
                  &(struct event) { .message_id = LB_MID_ACCOUNT_REFUSED, .priority = LOG_ERR,
                                    .decision = "deny", .reason = "login shell is not the recorder" },
                  "lockbox: refused %s: its login shell is %s, not the recorder %s "
                  "(usermod -s %s %s)", c->user, strna(shell), c->conf.recorder,
                  c->conf.recorder, c->user);
        audit_event(c, "lockbox-account", false, "deny", NULL, NULL);
        say_error(c, lb_asprintf("lockbox: this account is not set up for recorded access "
                                 "(its login shell must be %s); refusing login",
                                 c->conf.recorder));
        return -EPERM;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        struct ctx c = { .pamh = pamh, .flags = flags, .stage = "account" };
        struct lb_access a = {};
        int ret, r;

        if (prelude(&c, argc, argv, &ret) > 0)
                goto finish;
        if (refuse_other_paths(&c, login_path(&c), &ret) > 0)
                goto finish;

        r = lb_broker_access(&c.broker, c.host, c.user, &a);
        /* an answer about another host or account is not an answer */
        if (r >= 0 && ((a.host && !streq(a.host, c.host)) || (a.user && !streq(a.user, c.user))))
                r = -EBADMSG;
        if (r < 0) {
                log_event(&c,
                          &(struct event) { .message_id = LB_MID_BROKER_FAILED,
                                            .priority = LOG_ERR, .decision = "error",
                                            .reason = strerror(-r) },
                          "lockbox: refused %s@%s: access could not be verified: %s", c.user,
                          c.host, strerror(-r));
                audit_event(&c, "lockbox-account", false, "error", NULL, NULL);
                say_error(&c, lb_pam_msg_unverified(r, "login"));
                ret = PAM_PERM_DENIED;
                goto finish;
        }
        if (!a.allow) {
                log_event(&c,
                          &(struct event) { .message_id = LB_MID_ACCOUNT_REFUSED,
                                            .priority = LOG_NOTICE, .decision = "deny",
                                            .reason = a.reason ? a.reason : "no approved request" },
                          "lockbox: refused %s@%s: %s", c.user, c.host,
                          a.reason ? a.reason : "no approved request");
                audit_event(&c, "lockbox-account", false, "deny", NULL, NULL);
                say_error(&c, lb_pam_msg_refused(&a));
                say_error(&c, lb_pam_msg_hint(&a, c.host, c.user));
                ret = PAM_PERM_DENIED;
                goto finish;
        }
        if (check_login_shell(&c) < 0) {
                ret = PAM_PERM_DENIED;
                goto finish;
        }

        {
                char na[LB_TIME_LEN];
                log_event(&c,
                          &(struct event) { .message_id = LB_MID_ACCOUNT_ALLOWED,
                                            .priority = LOG_NOTICE, .decision = "allow",
                                            .request = a.request, .operator_ = a.operator_ },
                          "lockbox: allowed %s@%s by request %s until %s (%" PRIi64 "s left)",
                          c.user, c.host, a.request,
                          lb_time_format(a.not_after, na, sizeof(na)), a.remaining_s);
        }
        audit_event(&c, "lockbox-account", true, "allow", a.request, NULL);
        say_info(&c, lb_pam_msg_granted(&a));
        ret = PAM_SUCCESS;
finish:
        lb_access_done(&a);
        ctx_done(&c);
        return ret;
}

/* ---- session ----------------------------------------------------------- */

static void free_data(pam_handle_t *pamh, void *data, int error_status) {
        free(data);
}

static void refuse_session(struct ctx *c, const char *request, const char *session,
                           const char *reason, char *user_text) {
        log_event(c,
                  &(struct event) { .message_id = LB_MID_SESSION_REFUSED, .priority = LOG_ERR,
                                    .decision = "refuse", .request = request,
                                    .session = session, .reason = reason },
                  "lockbox: session of %s@%s refused: %s", c->user, strna(c->host), reason);
        audit_event(c, "lockbox-session-open", false, "refuse", request, session);
        say_error(c, user_text);
}

/* Undo a broker session we could not finish setting up, within what is left
 * of the deadline (and never less than a short grace for the one call). */
static void end_broker_session(struct ctx *c, const char *id, uint64_t start_ms,
                               const char *reason) {
        uint64_t spent = lb_mono_ms() - start_ms;
        unsigned budget = c->conf.timeout_ms > spent ? c->conf.timeout_ms - (unsigned) spent : 0;
        int r;

        c->broker.http.timeout_ms = MAX(budget, 250u);
        r = lb_broker_session_end(&c->broker, id, reason);
        if (r < 0)
                log_event(c,
                          &(struct event) { .message_id = LB_MID_BROKER_FAILED,
                                            .priority = LOG_ERR, .decision = "error",
                                            .session = id, .reason = strerror(-r) },
                          "lockbox: could not end broker session %s: %s", id, strerror(-r));
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        struct ctx c = { .pamh = pamh, .flags = flags, .stage = "session-open" };
        struct lb_session s = {};
        _cleanup_free_ char *key = NULL, *record = NULL, *broker_error = NULL, *id_copy = NULL;
        struct lb_pam_record rec = {};
        enum login_path path;
        const void *bound = NULL;
        uint32_t ses = 0, *ses_copy = NULL;
        uint64_t start = lb_mono_ms(), mono;
        bool opened = false, written = false;
        char na[LB_TIME_LEN];
        int ret, r;

        if (prelude(&c, argc, argv, &ret) > 0)
                goto finish;
        path = login_path(&c);
        if (refuse_other_paths(&c, path, &ret) > 0)
                goto finish;
        if (path == PATH_NESTED) {
                /* sudo/su inside the recorded login: already bound and recorded */
                log_debug_ctx(&c, "lockbox: %s on %s inside its recorded login", c.user,
                              strna(c.service));
                ret = PAM_IGNORE;
                goto finish;
        }
        if (pam_get_data(pamh, DATA_SESSION, &bound) == PAM_SUCCESS && bound) {
                /* listed twice in this stack: the first line bound the login */
                ret = PAM_SUCCESS;
                goto finish;
        }
        ret = PAM_SESSION_ERR;

        /* The recorder finds this session by its audit session id: without one
         * (no pam_loginuid before us) nothing could record it. */
        r = lb_pam_audit_session(&ses);
        if (r < 0) {
                refuse_session(&c, NULL, NULL, "no audit session id (pam_loginuid.so missing?)",
                               strdup("lockbox: this login has no audit session "
                                      "(pam_loginuid.so must come before pam_lockbox.so); "
                                      "refusing session"));
                goto finish;
        }

        /* Which key authenticated this login. Only the PAM environment, which
         * sshd fills; never the process environment. */
        r = lb_authinfo_parse(pam_getenv(pamh, "SSH_AUTH_INFO_0"), &key);
        if (r == -ENOENT) {
                /* no_key_login = deny (the only policy): a login we could not bind
                 * to a per-session key is a login nothing would record */
                refuse_session(&c, NULL, NULL, "no per-session key (no_key_login=deny)",
                               lb_asprintf("lockbox: %s is a managed account: log in with the "
                                           "per-session key of an approved request (lockboxctl "
                                           "connect); refusing session",
                                           c.user));
                goto finish;
        }
        if (r < 0) {
                refuse_session(&c, NULL, NULL, "unreadable SSH_AUTH_INFO_0",
                               strdup("lockbox: the key of this login could not be read; "
                                      "refusing session"));
                goto finish;
        }

        r = lb_broker_session_open(&c.broker,
                                   &(struct lb_session_open) {
                                           .host = c.host,
                                           .user = c.user,
                                           .public_key = key,
                                           .remote = c.rhost,
                                           .tty = c.tty,
                                           .pid = (int64_t) getpid(),
                                           .audit_session = (int64_t) ses,
                                   },
                                   &s, &broker_error);
        mono = lb_mono_ms();
        if (r >= 0) {
                opened = true;
                if (!s.allow || (s.host && !streq(s.host, c.host)) ||
                    (s.user && !streq(s.user, c.user)))
                        r = -EBADMSG;
        }
        if (r < 0) {
                bool refusal = !opened && (r == -ENOENT || r == -EBUSY || r == -EACCES ||
                                           r == -EINVAL);
                if (refusal) {
                        _cleanup_free_ char *safe = lb_term_safe(broker_error ? broker_error
                                                                               : strerror(-r));
                        refuse_session(&c, NULL, NULL, broker_error ? broker_error : strerror(-r),
                                       lb_asprintf("lockbox: session refused by the broker: %s",
                                                   strna(safe)));
                } else {
                        log_event(&c,
                                  &(struct event) { .message_id = LB_MID_BROKER_FAILED,
                                                    .priority = LOG_ERR, .decision = "error",
                                                    .reason = strerror(-r) },
                                  "lockbox: session of %s@%s could not be bound: %s", c.user,
                                  c.host, strerror(-r));
                        audit_event(&c, "lockbox-session-open", false, "error", NULL, NULL);
                        say_error(&c, lb_pam_msg_unverified(r, "session"));
                }
                if (opened)
                        end_broker_session(&c, s.session, start, "session_refused");
                goto finish;
        }

        rec = (struct lb_pam_record) {
                .session = &s,
                .user = c.user,
                .host = c.host,
                .audit_session = ses,
                .sshd_pid = (int64_t) getpid(),
                .mono_ms = mono,
                .created_at = lb_now_s(),
        };
        /* the kernel audit's lost counter now, compared at close (as root
         * both times; the recorder cannot ask once it dropped its
         * privileges): never a reason to refuse the login */
        {
                if (lb_pam_audit_lost(LB_AUDIT_STATUS_TIMEOUT_MS, &rec.audit_lost) >= 0)
                        rec.has_audit_lost = true;
        }
        r = lb_pam_record_format(&rec, &record);
        if (r >= 0)
                r = lb_pam_record_write(c.conf.state_dir, ses, record);
        if (r < 0) {
                refuse_session(&c, s.request, s.session, "session record not written",
                               lb_asprintf("lockbox: this session could not be recorded (%s); "
                                           "refusing session",
                                           strerror(-r)));
                end_broker_session(&c, s.session, start, "session_refused");
                goto finish;
        }
        written = true;

        r = 0;
        {
                _cleanup_free_ char *e1 = lb_asprintf("LOCKBOX_REQUEST=%s", s.request),
                                    *e2 = lb_asprintf("LOCKBOX_SESSION=%s", s.session),
                                    *e3 = lb_asprintf("LOCKBOX_NOT_AFTER=%s",
                                                      lb_time_format(s.not_after, na, sizeof(na)));
                if (!e1 || !e2 || !e3 || pam_putenv(pamh, e1) != PAM_SUCCESS ||
                    pam_putenv(pamh, e2) != PAM_SUCCESS || pam_putenv(pamh, e3) != PAM_SUCCESS)
                        r = -ENOMEM;
        }
        id_copy = strdup(s.session);
        ses_copy = malloc(sizeof(*ses_copy));
        if (r >= 0 && (!id_copy || !ses_copy))
                r = -ENOMEM;
        if (r >= 0) {
                *ses_copy = ses;
                if (pam_set_data(pamh, DATA_SESSION, id_copy, free_data) != PAM_SUCCESS) {
                        r = -ENOMEM;
                } else {
                        id_copy = NULL;
                        if (pam_set_data(pamh, DATA_AUDIT_SESSION, ses_copy, free_data) !=
                            PAM_SUCCESS)
                                r = -ENOMEM;
                        ses_copy = NULL;
                }
        }
        free(ses_copy);
        if (r < 0) {
                refuse_session(&c, s.request, s.session, "PAM environment not set",
                               strdup("lockbox: internal error; refusing session"));
                (void) pam_set_data(pamh, DATA_SESSION, NULL, NULL);
                (void) pam_putenv(pamh, "LOCKBOX_REQUEST");
                (void) pam_putenv(pamh, "LOCKBOX_SESSION");
                (void) pam_putenv(pamh, "LOCKBOX_NOT_AFTER");
                end_broker_session(&c, s.session, start, "session_refused");
                goto finish;
        }

        log_event(&c,
                  &(struct event) { .message_id = LB_MID_SESSION_OPENED, .priority = LOG_NOTICE,
                                    .decision = "open", .request = s.request,
                                    .session = s.session, .operator_ = s.operator_ },
                  "lockbox: session %s of %s@%s bound to request %s (audit session %" PRIu32
                  ", until %s)",
                  s.session, c.user, c.host, s.request, ses,
                  lb_time_format(s.not_after, na, sizeof(na)));
        audit_event(&c, "lockbox-session-open", true, "open", s.request, s.session);
        say_info(&c, lb_pam_msg_session_opened(&s));
        ret = PAM_SUCCESS;
        written = false; /* keep it */
finish:
        if (written)
                (void) lb_pam_record_remove(c.conf.state_dir, ses);
        lb_session_done(&s);
        ctx_done(&c);
        return ret;
}

/* Did the kernel audit lose records while the session was open? Its lost
 * counter at open (in the session record) against the counter now, after
 * the recorder ended: exec records dropped from the kernel's backlog are in
 * no sink, so the loss is said in journald (with LOCKBOX_SESSION) and
 * auditd. One bounded netlink round trip; nothing here fails the close. */
static void audit_lost_check(struct ctx *c, uint32_t ses, const char *id) {
        _cleanup_free_ char *json = NULL, *sid = NULL, *msg = NULL;
        uint64_t at_open, now;
        size_t len;
        int r;

        if (lb_pam_record_read(c->conf.state_dir, ses, &json, &len) < 0 ||
            lb_pam_record_parse_audit_lost(json, len, ses, &at_open) < 0)
                return;
        r = lb_pam_audit_lost(LB_AUDIT_STATUS_TIMEOUT_MS, &now);
        if (r < 0) {
                log_debug_ctx(c, "lockbox: the kernel audit's lost counter cannot be read: %s",
                              strerror(-r));
                return;
        }
        if (now <= at_open)
                return;
        log_event(c,
                  &(struct event) { .priority = LOG_WARNING, .decision = "close",
                                    .session = id, .reason = "audit_lost" },
                  "lockbox: session %s: the kernel's audit lost %" PRIu64 " records while it "
                  "was open (audit_lost=%" PRIu64 " at open, %" PRIu64 " at close): commands "
                  "may be missing from its recording",
                  id, now - at_open, at_open, now);
        sid = lb_audit_value(id);
        msg = sid ? lb_asprintf("op=lockbox-session-audit-lost lockbox_session=%s "
                                "audit_session=%" PRIu32 " audit_lost_open=%" PRIu64
                                " audit_lost_close=%" PRIu64 " audit_lost=%" PRIu64,
                                sid, ses, at_open, now, now - at_open)
                  : NULL;
        if (msg) {
                r = lb_audit_user_message(AUDIT_USER, msg, c->rhost, NULL, c->tty, false);
                if (r < 0)
                        log_debug_ctx(c, "audit record not written: %s", strerror(-r));
        }
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        struct ctx c = { .pamh = pamh, .flags = flags, .stage = "session-close" };
        _cleanup_free_ char *from_record = NULL, *json = NULL;
        const void *data = NULL;
        const char *id = NULL;
        uint32_t ses = 0;
        bool have_ses = false;
        size_t len;
        int ret, r, rm;

        if (prelude(&c, argc, argv, &ret) > 0)
                goto finish;
        /* Only the ssh login binds a session. A nested sudo or su must not end
         * (or kill) the recorded login it runs in. */
        if (!on_ssh_service(&c)) {
                ret = PAM_IGNORE;
                goto finish;
        }

        if (pam_get_data(pamh, DATA_AUDIT_SESSION, &data) == PAM_SUCCESS && data) {
                ses = *(const uint32_t *) data;
                have_ses = true;
        } else if (lb_pam_audit_session(&ses) >= 0)
                have_ses = true;
        data = NULL;
        if (pam_get_data(pamh, DATA_SESSION, &data) == PAM_SUCCESS && data)
                id = data;
        else if (have_ses && lb_pam_record_read(c.conf.state_dir, ses, &json, &len) >= 0 &&
                 lb_pam_record_parse_session(json, len, &from_record) >= 0)
                id = from_record;
        if (!id) {
                log_debug_ctx(&c, "lockbox: no bound session to close for %s", c.user);
                ret = PAM_IGNORE;
                goto finish;
        }

        /* The recorder ends every process of the session when it stops; if it
         * died instead, nothing the operator left running (nohup, setsid, a
         * double fork) outlives the login: they all share the audit session.
         * Spared: the recorder's service user, whose processes the operator
         * cannot run or reach (its verifier confirms the last entries with
         * journald after the login is gone). */
        if (have_ses && ses != LB_AUDIT_SESSION_UNSET) {
                struct passwd pwbuf, *rec = NULL;
                char buf[4096];
                uid_t spare = LB_UID_NONE;
                int left;

                /* the service user is looked up only when there is someone to
                 * spare: the usual close (an empty session) does no NSS lookup */
                if (lb_session_kill(ses, getpid(), LB_UID_NONE, 0) > 0 &&
                    getpwnam_r(c.conf.record_user, &pwbuf, buf, sizeof(buf), &rec) == 0 && rec &&
                    rec->pw_uid != 0)
                        spare = rec->pw_uid;
                left = lb_session_kill_all(ses, getpid(), spare, 500);
                if (left != 0)
                        log_debug_ctx(&c, "lockbox: ending processes of audit session %" PRIu32
                                      ": %d left", ses, left);
        }

        if (have_ses)
                audit_lost_check(&c, ses, id);

        /* one call, bounded by timeout_ms: close never waits longer */
        r = lb_broker_session_end(&c.broker, id, "exit");
        rm = have_ses ? lb_pam_record_remove(c.conf.state_dir, ses) : -ENOENT;
        log_event(&c,
                  &(struct event) { .message_id = r < 0 ? LB_MID_BROKER_FAILED
                                                        : LB_MID_SESSION_CLOSED,
                                    .priority = r < 0 ? LOG_ERR : LOG_NOTICE,
                                    .decision = "close", .session = id,
                                    .reason = r < 0 ? strerror(-r) : "exit" },
                  "lockbox: session %s of %s@%s closed (broker: %s, record: %s)", id, c.user,
                  c.host, r < 0 ? strerror(-r) : "ended", rm < 0 ? strerror(-rm) : "removed");
        audit_event(&c, "lockbox-session-close", r >= 0, "close", NULL, id);
        (void) pam_set_data(pamh, DATA_SESSION, NULL, NULL);
        ret = r < 0 ? PAM_SESSION_ERR : PAM_SUCCESS;
finish:
        ctx_done(&c);
        return ret;
}
