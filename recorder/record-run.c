/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <grp.h>
#include <pwd.h>
#include <inttypes.h>
#include <libaudit.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "audit_cmd_netlink.h"
#include "evidence.h"
#include "http.h"
#include "log.h"
#include "proc.h"
#include "record-confine.h"
#include "record-priv.h"
#include "record-run.h"
#include "timeutil.h"
#include "util.h"

#define IO_BUF (64 * 1024)

void lb_rec_init(struct lb_recorder *r) {
        *r = (struct lb_recorder) {
                .audit_fd = -1, .proc_fd = -1, .pty = -1, .in_w = -1, .out_r = -1,
                .err_r = -1, .pty_slave = -1, .sigfd = -1, .control_wake = -1, .poll_ms = 5000,
                .child_pidfd = -1,
                .broker_grace_ms = 60000,
                .journal_grace_ms = 30000, .verify_ms = LB_REC_VERIFY_MS,
        };
        lb_rec_chain_init(&r->chain);
}

static uint64_t rel_ms(struct lb_recorder *r) {
        return lb_now_ms() - r->t0;
}

static void set_reason(struct lb_recorder *r, const char *reason) {
        const char *expected = NULL;
        atomic_compare_exchange_strong(&r->reason, &expected, reason);
}

static void kill_session_init(struct lb_recorder *r);
static void audit_user(const char *op_and_fields, bool ok);
static int emit_text(struct lb_recorder *r, const char *kind, const char *text);

/* Where the records go that the spool refused (its disk full, an I/O
 * error): journald by a sink of their own (the writer's belongs to its
 * thread), and for commands auditd too (on_cmd). One recorder per process:
 * file scope. */
static struct lb_sink *unspooled_sink;
static bool spool_failure_said;

static void spool_failed(struct lb_recorder *r, int error) {
        bool first = !spool_failure_said;

        if (first) {
                _cleanup_free_ char *op = lb_audit_value(r->rs.operator_), *m = NULL;
                struct lb_sink_ids ids = { r->rs.session, r->rs.request, r->rs.operator_,
                                           r->rs.user, r->rs.host };

                spool_failure_said = true;
                if (r->sink && lb_sink_journal_new(&ids, 2000, &unspooled_sink) < 0)
                        unspooled_sink = NULL;
                log_error("session %s: the spool %s cannot be written (%s): the session is "
                          "ended; the records it refused are in journald (LOCKBOX_UNSPOOLED=1) "
                          "and auditd only", r->rs.session, strna(r->spool.path),
                          strerror(-error));
                m = op ? lb_asprintf("op=lockbox-record-spool-failed lockbox_request=%s "
                                     "lockbox_session=%s lockbox_operator=%s error=%d",
                                     r->rs.request, r->rs.session, op, -error)
                       : NULL;
                if (m)
                        audit_user(m, false);
        }
        if (unspooled_sink) {
                int k = lb_writer_send_unspooled(unspooled_sink, r->line.p, r->line.len);
                if (k < 0)
                        log_error("session %s: a record the spool refused could not be sent "
                                  "to journald either: %s", r->rs.session, strerror(-k));
        }
        r->line.len = 0;
        if (first) {
                _cleanup_free_ char *t = lb_asprintf(
                        "the spool cannot be written (%s): the session is ended; the records "
                        "from here on are in journald and auditd only", strerror(-error));
                if (t)
                        (void) emit_text(r, "note", t);
        }
}

/* Append what r->line holds to the spool. A spool that cannot be written
 * ends the session at once, evidence first: its processes are killed
 * before they do more (SIGKILL to its PID 1), and what the spool refused
 * goes to journald and auditd, whose disks are not the spool's. */
static int spool_flush(struct lb_recorder *r) {
        int k;

        if (r->line.len == 0)
                return 0;
        k = lb_spool_append(&r->spool, r->line.p, r->line.len);
        if (k < 0) {
                set_reason(r, "evidence_failure");
                kill_session_init(r);
                spool_failed(r, k);
                return k;
        }
        r->line.len = 0;
        return 0;
}

static int emit(struct lb_recorder *r, json_t *o) {
        int k;

        if (!o)
                return -ENOMEM;
        k = lb_rec_finish(&r->chain, o, &r->line);
        if (k < 0)
                return k;
        return spool_flush(r);
}

static json_t *rec_new(struct lb_recorder *r, const char *kind) {
        return json_pack("{s:I, s:s}", "t", (json_int_t) rel_ms(r), "kind", kind);
}

static char *time_ms_now(void) {
        struct timespec ts;
        char buf[LB_TIME_LEN];
        size_t n;

        clock_gettime(CLOCK_REALTIME, &ts);
        lb_time_format(ts.tv_sec, buf, sizeof(buf));
        n = strlen(buf);
        if (n > 0 && buf[n - 1] == 'Z')
                buf[n - 1] = 0;
        return lb_asprintf("%s.%03ldZ", buf, ts.tv_nsec / 1000000);
}

static int emit_text(struct lb_recorder *r, const char *kind, const char *text) {
        json_t *o = rec_new(r, kind);
        int k;

        if (o && json_object_set_new(o, "text", json_string(text)) < 0) {
                json_decref(o);
                return -ENOMEM;
        }
        k = emit(r, o);
        json_decref(o);
        return k;
}

static int emit_io(struct lb_recorder *r, const char *kind, const char *stream, const void *p,
                   size_t n, bool masked) {
        int k = lb_rec_io(&r->chain, kind, stream, rel_ms(r), p, n, masked, &r->line);
        if (k < 0) {
                set_reason(r, "recorder_failure");
                return k;
        }
        return spool_flush(r);
}

/* The foreground process group of the session's terminal (the pty master
 * answers TIOCGPGRP for its slave): its leader's pid and comm. */
static json_t *foreground(struct lb_recorder *r) {
        _cleanup_free_ char *path = NULL, *comm = NULL;
        pid_t pg = tcgetpgrp(r->pty);
        size_t len = 0;

        if (pg <= 0)
                return json_pack("{s:n, s:n}", "pid", "comm");
        path = lb_asprintf("/proc/%d/comm", (int) pg);
        if (path && lb_read_file(path, 64, &comm, &len) >= 0) {
                while (len > 0 && (comm[len - 1] == '\n' || comm[len - 1] == '\0'))
                        comm[--len] = '\0';
                if (!lb_utf8_valid(comm, len)) {
                        char *safe = lb_term_safe(comm);
                        free(comm);
                        comm = safe;
                }
        }
        return json_pack("{s:i, s:s?}", "pid", (int) pg, "comm", comm);
}

/* Input typed while the terminal does not echo it: recorded whole, marked
 * "echo": false with who was in the foreground ("fg": pid, comm). Turning
 * echo off hides nothing from the evidence; readers mask such input unless
 * an auditor asks (docs/EVIDENCE.md §2). */
static int emit_in_no_echo(struct lb_recorder *r, const void *p, size_t n) {
        _cleanup_free_ char *b64 = lb_base64_encode(p, n, true);
        json_t *o = rec_new(r, "in");
        int k = -ENOMEM;

        if (o && b64 && json_object_set_new(o, "data", json_string(b64)) == 0 &&
            json_object_set_new(o, "len", json_integer((json_int_t) n)) == 0 &&
            json_object_set_new(o, "stream", json_string("tty")) == 0 &&
            json_object_set_new(o, "echo", json_false()) == 0 &&
            json_object_set_new(o, "fg", foreground(r)) == 0)
                k = emit(r, o);
        json_decref(o);
        if (k < 0)
                set_reason(r, "recorder_failure");
        return k;
}

/* Record the part of a non-interactive stream under the cap. */
static int emit_capped(struct lb_recorder *r, int stream, const char *kind, const char *name,
                       const void *p, size_t n) {
        uint64_t cap = r->conf->output_cap, room;

        room = r->recorded[stream] >= cap ? 0 : cap - r->recorded[stream];
        if (n > room)
                r->truncated[stream] = true;
        n = (size_t) MIN((uint64_t) n, room);
        r->recorded[stream] += n;
        return n > 0 ? emit_io(r, kind, name, p, n, false) : 0;
}

static void audit_user(const char *op_and_fields, bool ok) {
        int k = lb_audit_user_message(AUDIT_USER, op_and_fields, NULL, NULL, NULL, ok);
        if (k < 0 && k != -EPROTONOSUPPORT)
                log_debug("audit message failed: %s", strerror(-k));
}

/* The end reason of a session that did what this host does not allow. */
static const char reason_refused[] = "refused";

static bool refused(struct lb_recorder *r) {
        return atomic_load(&r->reason) == reason_refused;
}

static void tell_operator(struct lb_recorder *r, const char *text);
static void audit_loss_check(struct lb_recorder *r);

/* The session did what this host does not allow (what: "sftp",
 * "input_cap"): it ends now. The reason goes into the evidence (a note,
 * then the end record's reason "refused"), the journal, auditd and the
 * operator's terminal; nothing more is relayed either way. */
static void refuse(struct lb_recorder *r, const char *what, const char *text) {
        _cleanup_free_ char *op = NULL, *m = NULL;

        set_reason(r, reason_refused);
        if (!refused(r))
                return; /* already ending for another reason */
        (void) emit_text(r, "note", text);
        log_warning("session %s: %s", r->rs.session, text);
        op = lb_audit_value(r->rs.operator_);
        m = op ? lb_asprintf("op=lockbox-record-refused lockbox_request=%s lockbox_session=%s "
                             "lockbox_operator=%s refused=%s",
                             r->rs.request, r->rs.session, op, what)
               : NULL;
        if (m)
                audit_user(m, false);
        tell_operator(r, text);
}


static int on_cmd(void *userdata, const struct lb_cmd *c) {
        struct lb_recorder *r = userdata;
        json_t *o = rec_new(r, "cmd"), *argv = json_array();
        _cleanup_free_ char *text = NULL, *joined = NULL, *hex = NULL, *msg = NULL, *cwd = NULL,
                            *op = NULL;
        struct lb_buf j = {};
        bool sftp;
        int k = -ENOMEM;

        if (!o || !argv)
                goto out;
        for (size_t i = 0; i < c->argc; i++) {
                _cleanup_free_ char *b = lb_base64_encode(c->argv[i], c->argv_len[i], true);
                if (!b || json_array_append_new(argv, json_string(b)) < 0)
                        goto out;
                if ((i > 0 && lb_buf_append(&j, " ", 1) < 0) ||
                    lb_buf_append(&j, c->argv[i], c->argv_len[i]) < 0)
                        goto out;
        }
        text = lb_rec_argv_text(c->argv, c->argv_len, c->argc);
        if (!text)
                goto out;
        json_object_set_new(o, "pid", json_integer(c->pid));
        json_object_set_new(o, "ppid", json_integer(c->ppid));
        json_object_set_new(o, "uid", json_integer(c->uid));
        json_object_set_new(o, "exe", c->exe ? json_stringn(c->exe, strlen(c->exe)) : json_null());
        json_object_set_new(o, "cwd", c->cwd ? json_stringn(c->cwd, strlen(c->cwd)) : json_null());
        /* json_stringn refuses invalid UTF-8: keep a readable copy then */
        if (c->exe && !json_object_get(o, "exe")) {
                _cleanup_free_ char *s = lb_term_safe(c->exe);
                json_object_set_new(o, "exe", json_string(s));
        }
        if (c->cwd && !json_object_get(o, "cwd")) {
                _cleanup_free_ char *s = lb_term_safe(c->cwd);
                json_object_set_new(o, "cwd", json_string(s));
        }
        json_object_set_new(o, "argv", argv);
        argv = NULL;
        json_object_set_new(o, "argv_text", json_string(text));
        json_object_set_new(o, "source", json_string(c->source));
        /* What ran, by what the kernel executed: an sftp server where the
         * host does not allow sftp is killed before anything else is done
         * and ends the session, however it was started (`sftp -s "env
         * .../sftp-server"`, through a shell, a link to it). */
        sftp = !r->conf->allow_sftp && lb_cmd_is_sftp_server(c, lb_sftp_server_paths);
        if (sftp && c->pid > 0)
                (void) kill((pid_t) c->pid, SIGKILL);
        /* a command the spool refused is in journald (spool_failed) and
         * auditd all the same: the session is ending, not the evidence */
        k = emit(r, o);
        if (k < 0 && atomic_load(&r->spool.error) == 0)
                goto out;
        r->commands++;
        audit_loss_check(r);
        if (sftp)
                refuse(r, "sftp", "sftp is not allowed on this host (allow_sftp = no): an sftp "
                                  "server was started, the session is ended");

        /* auditd: AUDIT_USER_CMD, as sudo does */
        if (lb_buf_append(&j, "", 1) < 0)
                goto out;
        hex = lb_hexencode(j.p, j.len - 1);
        cwd = lb_audit_value(c->cwd ? c->cwd : "?");
        op = lb_audit_value(r->rs.operator_);
        if (!hex || !cwd || !op)
                goto out;
        msg = lb_asprintf("op=lockbox-cmd lockbox_request=%s lockbox_session=%s "
                          "lockbox_operator=%s cwd=%s cmd=%s",
                          r->rs.request, r->rs.session, op, cwd, hex);
        if (msg) {
                int a = lb_audit_user_message(AUDIT_USER_CMD, msg, NULL, NULL, NULL, true);
                if (a < 0 && a != -EPROTONOSUPPORT)
                        log_debug("AUDIT_USER_CMD failed: %s", strerror(-a));
        }
        k = 0;
out:
        json_decref(argv);
        json_decref(o);
        lb_buf_done(&j);
        return k;
}

/* ---- setup ---------------------------------------------------------------- */

static void proc_rcvbuf(int fd, int size) {
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}


static int cmd_source_open(struct lb_recorder *r) {
        int fd, k, enabled = 0;

        fd = audit_open();
        if (fd >= 0) {
                enabled = audit_is_enabled(fd);
                audit_close(fd);
        }
        if (enabled > 0 && lb_audit_nl_open(&r->audit_fd) == 0) {
                k = lb_audit_parser_new(r->ses, &r->ap);
                if (k < 0)
                        return k;
                r->cmd_source = "audit";
                r->audit_on = true;
                /* standing by, should audit be turned off in mid-session (it
                 * can be subscribed to only now, as root); a small buffer
                 * while unused */
                if (lb_proc_cmd_open(&r->proc_fd) == 0) {
                        r->proc_standby = true;
                        proc_rcvbuf(r->proc_fd, 16 * 1024);
                }
                return 0;
        }
        k = lb_proc_cmd_open(&r->proc_fd);
        if (k < 0)
                return k;
        r->cmd_source = "proc";
        return 0;
}

/* The kernel's log, opened as root at the start (reading it needs
 * CAP_SYSLOG at open when dmesg_restrict is set) and kept: the kernel says
 * there when audit loses records ("audit: audit_lost=N ..."), which is
 * the only sign of it the recorder can see without CAP_AUDIT_CONTROL
 * (docs/EVIDENCE.md §5). One recorder per process: file scope. */
static int kmsg_fd = -1;
static uint64_t kmsg_checked_ms, audit_lost_start, audit_lost_noted, audit_lost_note_ms;
static bool audit_lost_known;

static void kmsg_open(void) {
        kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (kmsg_fd >= 0 && lseek(kmsg_fd, 0, SEEK_END) < 0) {
                close(kmsg_fd);
                kmsg_fd = -1;
        }
}

/* auditd gone: with no auditd registered, the kernel prints each audit
 * record to its own log instead ("audit: type=1123 audit(...): ..."), rate
 * limited, and (unless booted with audit=1) drops it: the recorder's
 * AUDIT_USER_CMD records are then in no auditd log. Such a line starts an
 * outage, said once; it is over when a probe of ours, sent once the kernel
 * has printed nothing for a while (its rate limit has room again), is not
 * printed. */
static bool auditd_out;
static uint64_t auditd_print_ms, auditd_probe_ms;
static int64_t auditd_out_since;

static void auditd_gap_note(struct lb_recorder *r, bool out) {
        char when[LB_TIME_LEN];
        _cleanup_free_ char *t = NULL, *op = NULL, *m = NULL;

        lb_time_format(auditd_out_since, when, sizeof(when));
        t = out ? lb_asprintf("auditd is not receiving audit records since %s; they reach "
                              "only the kernel log (rate limited): this session's "
                              "AUDIT_USER_CMD records from then on are missing from auditd's "
                              "log; the spool and journald have the commands", when)
                : lb_asprintf("auditd receives audit records again (it did not since %s; "
                              "the records in between reached only the kernel log)", when);
        if (!t)
                return;
        (void) emit_text(r, "note", t);
        if (out)
                log_warning("session %s: %s", r->rs.session, t);
        else
                log_notice("session %s: %s", r->rs.session, t);
        op = lb_audit_value(r->rs.operator_);
        m = op ? lb_asprintf("op=lockbox-record-auditd-%s lockbox_request=%s lockbox_session=%s "
                             "lockbox_operator=%s since=%s", out ? "gone" : "back",
                             r->rs.request, r->rs.session, op, when)
               : NULL;
        if (m)
                audit_user(m, !out);
}

/* One kmsg line (after "pri,seq,usec,flags;") about audit printed by the
 * kernel instead of sent to auditd: its record's time, or now. */
static bool kmsg_audit_printed(const char *p, int64_t *ret_when) {
        const char *a;
        uint64_t secs;

        if (!strneq(p, "type=", 5))
                return false;
        a = strstr(p, " audit(");
        secs = a ? strtoull(a + 7, NULL, 10) : 0;
        *ret_when = secs > 0 && secs < INT64_MAX ? (int64_t) secs : lb_now_s();
        return true;
}

static void auditd_gap_check(struct lb_recorder *r, uint64_t now, bool printed, int64_t when) {
        if (printed) {
                auditd_print_ms = now;
                auditd_probe_ms = 0;
                if (!auditd_out) {
                        auditd_out = true;
                        auditd_out_since = when;
                        auditd_gap_note(r, true);
                }
                return;
        }
        if (!auditd_out || now - auditd_print_ms < 6000)
                return;
        if (auditd_probe_ms == 0) {
                _cleanup_free_ char *m = lb_asprintf("op=lockbox-record-probe lockbox_session=%s",
                                                     r->rs.session);
                if (m && lb_audit_user_message(AUDIT_USER, m, NULL, NULL, NULL, true) == 0)
                        auditd_probe_ms = now;
                return;
        }
        if (now - auditd_probe_ms >= 1000) {
                auditd_out = false;
                auditd_probe_ms = 0;
                auditd_gap_note(r, false);
        }
}

/* Reads what the kernel logged since the last look (at most every 250 ms)
 * and notes audit losses (a note record, the journal, auditd) and an
 * auditd that is not receiving (auditd_gap_check). */
static void audit_loss_check(struct lb_recorder *r) {
        uint64_t now = lb_mono_ms(), lost = 0;
        bool any = false, printed = false;
        int64_t printed_when = 0;
        char buf[2048];

        if (kmsg_fd < 0 || now - kmsg_checked_ms < 250)
                return;
        kmsg_checked_ms = now;
        for (int i = 0; i < 4096; i++) {
                ssize_t n = read(kmsg_fd, buf, sizeof(buf) - 1);
                const char *p;
                if (n < 0 && errno == EPIPE)
                        continue; /* overwritten before we read it: go on */
                if (n <= 0)
                        break;
                buf[n] = '\0';
                /* the kernel's printk rate limit (shared by all of audit's
                 * messages) swallowed loss messages: a loss all the same */
                if (strstr(buf, ";audit_log_lost: ") || strstr(buf, ";audit_log_start: ") ||
                    strstr(buf, ";audit_panic: ")) {
                        any = true;
                        continue;
                }
                /* ... or printed records */
                if (strstr(buf, ";kauditd_printk_skb: ")) {
                        printed = true;
                        if (!printed_when)
                                printed_when = lb_now_s();
                        continue;
                }
                p = strstr(buf, ";audit: ");
                if (!p)
                        continue;
                p += 8;
                if (kmsg_audit_printed(p, printed ? &(int64_t) { 0 } : &printed_when)) {
                        printed = true;
                        continue;
                }
                if (strneq(p, "audit_lost=", 11)) {
                        uint64_t v = strtoull(p + 11, NULL, 10);
                        any = true;
                        lost = MAX(lost, v);
                } else if (strneq(p, "backlog limit exceeded", 22) ||
                           strneq(p, "rate limit exceeded", 19) || strneq(p, "audit_backlog=", 14))
                        any = true;
        }
        auditd_gap_check(r, now, printed, printed_when);
        if (!any || (lost > 0 && lost <= audit_lost_noted))
                return;
        if (lost == 0 && now - audit_lost_note_ms < 5000)
                return;
        {
                uint64_t since = audit_lost_known && lost > audit_lost_start ? lost - audit_lost_start : 0;
                _cleanup_free_ char *t = NULL, *op = NULL, *m = NULL;

                t = lost > 0 ? lb_asprintf("the kernel's audit lost records during this session "
                                           "(audit_lost=%" PRIu64 "%s%" PRIu64 " since it started): "
                                           "commands may be missing from this recording",
                                           lost, audit_lost_known ? ", " : "", since)
                             : strdup("the kernel's audit lost records during this session "
                                      "(backlog or rate limit): commands may be missing from "
                                      "this recording");
                if (lost > 0)
                        audit_lost_noted = lost;
                audit_lost_note_ms = now;
                if (!t)
                        return;
                (void) emit_text(r, "note", t);
                log_warning("session %s: %s", r->rs.session, t);
                op = lb_audit_value(r->rs.operator_);
                m = op ? lb_asprintf("op=lockbox-record-audit-lost lockbox_request=%s "
                                     "lockbox_session=%s lockbox_operator=%s audit_lost=%" PRIu64,
                                     r->rs.request, r->rs.session, op, lost)
                       : NULL;
                if (m)
                        audit_user(m, false);
        }
}

/* The kernel audit's count of records it lost (backlog full, rate limit,
 * no memory) and its backlog settings, read while the recorder is still
 * root: AUDIT_GET needs CAP_AUDIT_CONTROL, which the recorder gives up (a
 * recorder that could change audit rules or disable audit would be too much
 * to leave in a process that parses the operator's bytes). It goes into the
 * start record as the anchor a privileged reader compares with the counter
 * at the end (docs/EVIDENCE.md §5). NULL when it cannot be read. */
static json_t *audit_status_json(void) {
        struct audit_reply rep = {};
        json_t *o = NULL;
        int fd = audit_open();

        if (fd < 0)
                return NULL;
        if (audit_request_status(fd) > 0)
                for (int i = 0; i < 8 && !o; i++) {
                        int k = audit_get_reply(fd, &rep, GET_REPLY_BLOCKING, 0);
                        if (k <= 0 || rep.type == NLMSG_ERROR)
                                break;
                        if (rep.type == AUDIT_GET && rep.status) {
                                audit_lost_start = audit_lost_noted = rep.status->lost;
                                audit_lost_known = true;
                        }
                        if (rep.type == AUDIT_GET && rep.status)
                                o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "lost",
                                              (json_int_t) rep.status->lost, "backlog",
                                              (json_int_t) rep.status->backlog, "backlog_limit",
                                              (json_int_t) rep.status->backlog_limit,
                                              "backlog_wait_time",
                                              (json_int_t) rep.status->backlog_wait_time,
                                              "enabled", (json_int_t) rep.status->enabled);
                }
        audit_close(fd);
        return o;
}

static int emit_start(struct lb_recorder *r, unsigned short cols, unsigned short rows) {
        _cleanup_free_ char *now = time_ms_now();
        const char *term = r->term;
        json_t *o = rec_new(r, "start");
        int k;

        if (!o || !now)
                return -ENOMEM;
        json_object_set_new(o, "session", json_string(r->rs.session));
        json_object_set_new(o, "request", json_string(r->rs.request));
        json_object_set_new(o, "operator", json_string(r->rs.operator_));
        json_object_set_new(o, "user", json_string(r->rs.user));
        json_object_set_new(o, "host", json_string(r->rs.host));
        json_object_set_new(o, "time", json_string(now));
        json_object_set_new(o, "not_after", r->rs.not_after ? json_string(r->rs.not_after)
                                                            : json_null());
        json_object_set_new(o, "mode", json_string(r->interactive ? "interactive" : "command"));
        json_object_set_new(o, "command", r->command ? json_string(r->command) : json_null());
        if (r->command && !json_is_string(json_object_get(o, "command"))) {
                _cleanup_free_ char *s = lb_term_safe(r->command);
                json_object_set_new(o, "command", json_string(s));
        }
        json_object_set_new(o, "cols", json_integer(cols));
        json_object_set_new(o, "rows", json_integer(rows));
        json_object_set_new(o, "term", term && lb_utf8_valid(term, strlen(term))
                                               ? json_string(term) : json_null());
        json_object_set_new(o, "recorder", json_string(PACKAGE_VERSION));
        json_object_set_new(o, "cmd_source", json_string(r->cmd_source));
        {
                json_t *a = audit_status_json();
                json_object_set_new(o, "audit", a ? a : json_null());
                kmsg_open(); /* as root, with the status: losses are counted from here */
        }
        k = emit(r, o);
        json_decref(o);
        return k;
}

/* The operator's shell (or command), in the session's own process group and
 * terminal, with the operator's environment and limits. */
static _Noreturn void shell_exec(struct lb_recorder *r, const char *slave, int in_r, int out_w,
                                 int err_w) {
        const char *shell = isempty(r->op_shell) ? "/bin/sh" : r->op_shell;
        const char *base = strrchr(shell, '/');
        _cleanup_free_ char *argv0 = NULL;
        char *const empty[] = { NULL };
        char *const *env = r->env ? r->env : empty;

        for (int s = 1; s < NSIG; s++)
                signal(s, SIG_DFL);
        if (setsid() < 0)
                _exit(127);
        if (slave) {
                int fd = open(slave, O_RDWR); /* becomes the controlling terminal */
                if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
                        _exit(127);
                if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(127);
                if (fd > 2)
                        close(fd);
        } else {
                if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
                        _exit(127);
        }
        base = base ? base + 1 : shell;
        if (r->command) {
                execle(shell, base, "-c", r->command, (char *) NULL, env);
        } else {
                argv0 = lb_asprintf("-%s", base);
                execle(shell, argv0 ? argv0 : base, (char *) NULL, env);
        }
        _exit(127);
}

/* PID 1 of the session's PID namespace, as the operator: starts the shell,
 * reaps what the namespace leaves to it, and exits with the shell's status.
 * When it exits (the shell ended, or the recorder killed it) the kernel kills
 * every process left in the namespace, and no process can leave one: the
 * session's processes end with it, however they fork. */
static _Noreturn void session_init(struct lb_recorder *r, const char *slave, int in_r,
                                   int out_w, int err_w, int sync_r) {
        sigset_t all;
        pid_t shell;
        char c;

        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
                signal(s, SIG_DFL);
        if (r->inherited)
                lb_rec_restore_limits(r->inherited);
        /* while still root: no byte reaches the shell as typed unless it came
         * through the recorder's master (TIOCSTI) */
        if (lb_rec_confine_terminal_injection() < 0)
                _exit(127);
        if (lb_rec_drop_to_operator(r->op_name, r->op_uid, r->op_gid) < 0)
                _exit(127);
        /* the recorder gone, the session goes (the credential change above
         * cleared any earlier setting) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(127);
        /* wait until the recorder is out of the operator's reach */
        if (read(sync_r, &c, 1) != 1)
                _exit(127);
        close(sync_r);
        /* hangups are for the shell; init ends when the shell does, or by
         * the recorder's SIGKILL */
        signal(SIGHUP, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        signal(SIGTSTP, SIG_IGN);
        signal(SIGTTIN, SIG_IGN);
        signal(SIGTTOU, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        shell = fork();
        if (shell < 0)
                _exit(127);
        if (shell == 0)
                shell_exec(r, slave, in_r, out_w, err_w);
        /* init holds nothing of the session: no terminal, no pipe, no fd of
         * the recorder's */
        if (close_range(0, ~0U, 0) < 0)
                for (int fd = 0; fd < 4096; fd++)
                        (void) close(fd);
        for (;;) {
                int st;
                pid_t w = waitpid(-1, &st, 0);
                if (w == shell)
                        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                if (w < 0 && errno != EINTR)
                        _exit(127);
        }
}

/* The operator's side: a child in a new PID namespace (the recorder itself
 * stays outside, and so do its later children, the verifier). */
static pid_t clone_session(int *ret_pidfd) {
        struct clone_args a = {
                .flags = CLONE_NEWPID | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        long pid = syscall(SYS_clone3, &a, sizeof(a));

        if (pid < 0 && (errno == ENOSYS || errno == EPERM)) {
                /* no clone3 (an old kernel, a seccomp filter): clone, then a
                 * pidfd for the child */
                pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
                if (pid > 0) {
                        *ret_pidfd = (int) syscall(SYS_pidfd_open, (pid_t) pid, 0);
                        if (*ret_pidfd >= 0)
                                (void) fcntl(*ret_pidfd, F_SETFD, FD_CLOEXEC);
                }
        }
        return (pid_t) pid;
}

/* SIGKILL to PID 1 of the session: the kernel kills the whole namespace. */
static void kill_session_init(struct lb_recorder *r) {
        if (r->child_pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, r->child_pidfd, SIGKILL, NULL, 0);
        else if (r->child > 0 && !r->child_done)
                (void) kill(r->child, SIGKILL);
}

static int tty_gid(gid_t fallback) {
        struct group *g = getgrnam("tty");
        return g ? (int) g->gr_gid : (int) fallback;
}

static void *control_thread(void *userdata);

int lb_rec_setup(struct lb_recorder *r) {
        struct winsize ws = { .ws_col = 80, .ws_row = 24 };
        int sync_p[2] = { -1, -1 }, in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 },
            err_p[2] = { -1, -1 };
        _cleanup_free_ char *slave = NULL;
        sigset_t mask;
        pid_t pid;
        int k;

        r->t0 = lb_now_ms();
        atomic_store(&r->deadline, r->rs.mono_ms + (uint64_t) r->rs.remaining_s * 1000);
        r->interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

        k = lb_spool_open(&r->spool, r->conf->spool_dir, r->rs.session, r->rec_uid, r->rec_gid);
        if (k < 0)
                return lb_log_errno(k, LOG_ERR, "cannot create the spool in %s",
                                    r->conf->spool_dir);
        k = cmd_source_open(r);
        if (k < 0)
                return lb_log_errno(k, LOG_ERR, "neither audit nor the proc connector");

        if (r->interactive) {
                (void) ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
                r->pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (r->pty < 0 || grantpt(r->pty) < 0 || unlockpt(r->pty) < 0)
                        return lb_log_errno(-errno, LOG_ERR, "cannot open a pty");
                slave = strdup(ptsname(r->pty));
                if (!slave)
                        return -ENOMEM;
                if (chown(slave, r->op_uid, (gid_t) tty_gid(r->op_gid)) < 0 ||
                    chmod(slave, 0620) < 0)
                        return lb_log_errno(-errno, LOG_ERR, "cannot give %s to the operator",
                                            slave);
                (void) ioctl(r->pty, TIOCSWINSZ, &ws);
                /* held open until the shell is gone: a master whose slave is
                 * not open yet reads as hung up */
                r->pty_slave = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (r->pty_slave < 0)
                        return lb_log_errno(-errno, LOG_ERR, "cannot open %s", slave);
                if (tcgetattr(STDIN_FILENO, &r->saved_tio) == 0) {
                        struct termios raw = r->saved_tio, inner = r->saved_tio;
                        /* the inner terminal starts as the outer one was */
                        (void) tcsetattr(r->pty_slave, TCSANOW, &inner);
                        cfmakeraw(&raw);
                        r->tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
                }
        } else {
                if (pipe2(in_p, O_CLOEXEC) < 0 || pipe2(out_p, O_CLOEXEC) < 0 ||
                    pipe2(err_p, O_CLOEXEC) < 0)
                        return -errno;
        }
        if (pipe2(sync_p, O_CLOEXEC) < 0)
                return -errno;

        k = emit_start(r, ws.ws_col, ws.ws_row);
        if (k < 0)
                return lb_log_errno(k, LOG_ERR, "cannot write the start record");

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGQUIT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        r->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (r->sigfd < 0)
                return -errno;

        pid = clone_session(&r->child_pidfd);
        if (pid < 0)
                return lb_log_errno(-errno, LOG_ERR, "cannot start the session's PID namespace");
        if (pid == 0)
                session_init(r, slave, in_p[0], out_p[1], err_p[1], sync_p[0]);
        r->child = pid;
        close(sync_p[0]);
        if (!r->interactive) {
                close(in_p[0]);
                close(out_p[1]);
                close(err_p[1]);
                r->in_w = in_p[1];
                r->out_r = out_p[0];
                r->err_r = err_p[0];
                (void) fcntl(r->in_w, F_SETFL, O_NONBLOCK);
        } else
                (void) fcntl(r->pty, F_SETFL, O_NONBLOCK);

        k = lb_rec_drop_to_service(r->rec_uid, r->rec_gid, r->rec_groups, r->n_rec_groups);
        if (k < 0) {
                close(sync_p[1]); /* the child exits without running anything */
                return lb_log_errno(k, LOG_ERR, "cannot drop privileges");
        }
        /* network code only now, as the service user, with the environment
         * long cleared (libcurl and its TLS library read variables) */
        k = lb_http_global_init();
        if (k < 0) {
                close(sync_p[1]);
                return lb_log_errno(k, LOG_ERR, "cannot initialise libcurl");
        }
        {
                _cleanup_free_ char *op = lb_audit_value(r->rs.operator_);
                _cleanup_free_ char *m = op ? lb_asprintf(
                        "op=lockbox-record-start lockbox_request=%s lockbox_session=%s "
                        "lockbox_operator=%s", r->rs.request, r->rs.session, op) : NULL;
                if (m)
                        audit_user(m, true);
        }

        /* threads only now: they run with the dropped credentials */
        k = lb_spool_start_sync(&r->spool, 200);
        if (k < 0)
                return k;
        lb_writer_init(&r->writer, &r->spool, r->sink);
        k = lb_writer_start(&r->writer);
        if (k < 0)
                return k;
        r->writer_started = true;
        r->control_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->control_wake < 0)
                return -errno;
        k = pthread_create(&r->control, NULL, control_thread, r);
        if (k != 0)
                return -k;
        r->control_started = true;

        if (write(sync_p[1], "x", 1) != 1)
                return -errno;
        close(sync_p[1]);
        return 0;
}

/* ---- enforcement ------------------------------------------------------------ */

/* Sleep ms, or less when the session ends (control_wake). */
static void control_sleep(struct lb_recorder *r, unsigned ms) {
        struct pollfd p = { .fd = r->control_wake, .events = POLLIN };
        if (!atomic_load(&r->control_stop))
                (void) poll(&p, 1, (int) ms);
}

static void control_end(struct lb_recorder *r) {
        atomic_store(&r->control_stop, true);
        if (r->control_wake >= 0)
                (void) eventfd_write(r->control_wake, 1);
}

/* Deadline, revocation and an unreachable broker, off the byte path: even a
 * recorder blocked writing to a stalled client ends the session on time. */
static void *control_thread(void *userdata) {
        struct lb_recorder *r = userdata;
        uint64_t last_poll = 0, last_ok = lb_now_ms();

        while (!atomic_load(&r->control_stop)) {
                uint64_t now = lb_now_ms();

                if (now >= atomic_load(&r->deadline))
                        set_reason(r, "expired");
                else if (now - last_poll >= r->poll_ms || last_poll == 0) {
                        struct lb_session s = {};
                        uint64_t asked = lb_now_ms();
                        int k = lb_broker_session_get(&r->broker, r->rs.session, &s);

                        last_poll = lb_now_ms();
                        if (k == 0) {
                                last_ok = last_poll;
                                if (!s.allow)
                                        set_reason(r, lb_rec_reason_from_broker(s.state,
                                                                                s.reason));
                                else {
                                        uint64_t d = asked + (uint64_t) s.remaining_s * 1000;
                                        if (d < atomic_load(&r->deadline))
                                                atomic_store(&r->deadline, d);
                                }
                        } else if (k == -ENOENT || k == -EACCES) {
                                set_reason(r, "revoked");
                        } else if (last_poll - last_ok > r->broker_grace_ms) {
                                /* fail closed: access can no longer be verified */
                                atomic_store(&r->broker_lost, true);
                                set_reason(r, "revoked");
                        }
                        lb_session_done(&s);
                }
                if (atomic_load(&r->reason)) {
                        (void) lb_session_kill_all(r->ses, getpid(), LB_UID_NONE, 2000);
                        kill_session_init(r);
                        break;
                }
                control_sleep(r, 250);
        }
        return NULL;
}

/* ---- relay ------------------------------------------------------------------ */

/* Write everything to the operator's side, waiting when it is full (its fd
 * may be non-blocking: sshd's pty is shared by our stdin and stdout). */
static int write_wait(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pf = { fd, POLLOUT, 0 };
                                (void) poll(&pf, 1, 1000);
                                continue;
                        }
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static void tell_operator(struct lb_recorder *r, const char *text) {
        _cleanup_free_ char *s = lb_asprintf("\r\n[lockbox] %s\r\n", text);
        if (s)
                (void) write_wait(r->interactive ? STDOUT_FILENO : STDERR_FILENO, s,
                                  strlen(s));
}

static void tick(struct lb_recorder *r) {
        unsigned m = lb_rec_warning_due(lb_now_ms(), atomic_load(&r->deadline), &r->warned);
        uint64_t down;

        audit_loss_check(r); /* also in a quiet session */

        if (m > 0) {
                /* the 10-minute warning of a session that started later says
                 * how long is really left */
                uint64_t d = atomic_load(&r->deadline), now = lb_now_ms();
                unsigned left = d > now ? (unsigned) ((d - now + 59999) / 60000) : 0;
                _cleanup_free_ char *t = NULL;
                if (m == 10 && left < 10 && left > 1)
                        m = left;
                t = lb_asprintf("access ends in %u minute%s", m, m == 1 ? "" : "s");
                if (t) {
                        (void) emit_text(r, "warn", t);
                        tell_operator(r, t);
                }
        }
        down = atomic_load(&r->writer.down_since);
        if (down > 0 && !r->journal_noted && lb_now_ms() - down > r->journal_grace_ms) {
                r->journal_noted = true;
                (void) emit_text(r, "note", "journald unreachable; records kept in the spool "
                                            "and re-sent when it is back");
        }
        if (down == 0)
                r->journal_noted = false;
        {
                /* what the read-back found: at most one note per 5 s */
                uint64_t dropped = atomic_load(&r->writer.dropped), now = lb_now_ms();
                int rb = atomic_load(&r->writer.read_back);

                if (dropped > r->dropped_noted && now - r->last_drop_note >= 5000) {
                        _cleanup_free_ char *t = lb_asprintf(
                                "journald lost %" PRIu64 " entr%s it had taken; re-sent from "
                                "the spool", dropped - r->dropped_noted,
                                dropped - r->dropped_noted == 1 ? "y" : "ies");
                        if (t)
                                (void) emit_text(r, "note", t);
                        r->dropped_noted = dropped;
                        r->last_drop_note = now;
                }
                if (rb < 0 && !r->read_back_noted) {
                        _cleanup_free_ char *t = lb_asprintf(
                                "journald's entries cannot be read back (%s): entries it takes "
                                "and then loses are not re-sent; the spool has them all",
                                rb == -ENODATA ? "none of ours ever appeared" : strerror(-rb));
                        r->read_back_noted = true;
                        if (t)
                                (void) emit_text(r, "note", t);
                }
        }
        if (atomic_load(&r->spool.error) < 0) {
                /* the group commit failed: the session stops now */
                set_reason(r, "evidence_failure");
                kill_session_init(r);
        }
}

static int relay_out(struct lb_recorder *r, int fd, int stream, const char *name, int to,
                     bool *eof) {
        static char buf[IO_BUF];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                *eof = true; /* EIO: the last holder of the pty closed it */
                return 0;
        }
        if (n == 0) {
                *eof = true;
                return 0;
        }
        /* A pty hands out a few KiB per read: take what else is there
         * already (the pty is non-blocking), one record and two writes for
         * all of it. */
        if (r->interactive)
                while ((size_t) n < sizeof(buf) - 4096) {
                        ssize_t m = read(fd, buf + n, sizeof(buf) - (size_t) n);
                        if (m <= 0)
                                break;
                        n += m;
                }
        /* evidence first, then the operator sees it (not after a refusal) */
        if ((r->interactive ? emit_io(r, "out", "tty", buf, (size_t) n, false)
                            : emit_capped(r, stream, "out", name, buf, (size_t) n)) < 0)
                return -EIO;
        if (!refused(r))
                (void) write_wait(to, buf, (size_t) n);
        audit_loss_check(r);
        return 1;
}

struct pending {
        char *p;
        size_t len, off;
};

/* Records a non-interactive command's stdin and says how much of it may
 * reach the command: what is recorded, nothing past the cap (a session
 * whose input is past output_cap ends), and nothing when the first bytes
 * are an sftp client's and the host does not allow sftp. -EIO when the
 * evidence cannot be written. */
static ssize_t stdin_allowed(struct lb_recorder *r, const char *buf, size_t n) {
        uint64_t cap = r->conf->output_cap, done = r->recorded[LB_STREAM_STDIN];
        uint64_t room = done >= cap ? 0 : cap - done;

        if (!r->conf->allow_sftp && done == 0 && lb_sftp_init_seen(buf, n)) {
                if (emit_capped(r, LB_STREAM_STDIN, "in", "stdin", buf, n) < 0)
                        return -EIO;
                refuse(r, "sftp", "sftp is not allowed on this host (allow_sftp = no): an sftp "
                                  "client spoke, the session is ended");
                return 0;
        }
        if ((uint64_t) n > room) {
                _cleanup_free_ char *t = NULL;
                if (room > 0 && emit_capped(r, LB_STREAM_STDIN, "in", "stdin", buf, (size_t) room) < 0)
                        return -EIO;
                r->truncated[LB_STREAM_STDIN] = true;
                t = lb_asprintf("the command's input passed the recording cap (output_cap = %" PRIu64
                                " bytes): input that cannot be recorded is not passed on, the "
                                "session is ended", cap);
                refuse(r, "input_cap", t ? t : "input past the recording cap: the session is ended");
                return (ssize_t) room;
        }
        if (emit_capped(r, LB_STREAM_STDIN, "in", "stdin", buf, n) < 0)
                return -EIO;
        return (ssize_t) n;
}

static int relay_in(struct lb_recorder *r, struct pending *pend, bool *eof) {
        static char buf[IO_BUF];
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                *eof = true;
                return 0;
        }
        if (n == 0) {
                *eof = true;
                return 0;
        }
        if (r->interactive) {
                struct termios t;
                bool no_echo = false;
                if (tcgetattr(r->pty, &t) == 0)
                        no_echo = lb_rec_input_masked(&t);
                if ((no_echo ? emit_in_no_echo(r, buf, (size_t) n)
                             : emit_io(r, "in", "tty", buf, (size_t) n, false)) < 0)
                        return -EIO;
        } else {
                n = (ssize_t) stdin_allowed(r, buf, (size_t) n);
                if (n < 0)
                        return -EIO;
        }
        if (n == 0 || refused(r))
                return 0; /* nothing reaches the command past a refusal */
        pend->p = malloc((size_t) n);
        if (!pend->p)
                return -ENOMEM;
        memcpy(pend->p, buf, (size_t) n);
        pend->len = (size_t) n;
        pend->off = 0;
        return 1;
}

static void on_winch(struct lb_recorder *r) {
        struct winsize ws;
        json_t *o;

        if (!r->interactive || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return;
        (void) ioctl(r->pty, TIOCSWINSZ, &ws);
        o = rec_new(r, "resize");
        if (o) {
                json_object_set_new(o, "cols", json_integer(ws.ws_col));
                json_object_set_new(o, "rows", json_integer(ws.ws_row));
                (void) emit(r, o);
                json_decref(o);
        }
}

static void reap(struct lb_recorder *r) {
        int st;
        if (r->child_done)
                return;
        if (waitpid(r->child, &st, WNOHANG) == r->child) {
                r->child_done = true;
                r->child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
}

static void read_cmds_marker(struct lb_recorder *r, const char *marker, bool *seen) {
        if (r->audit_fd >= 0) {
                struct lb_audit_nl_state st = { .lost = r->audit_lost, .marker = marker,
                                                .off_serial = r->audit_off_serial };
                uint64_t before = r->audit_lost;

                (void) lb_audit_nl_read_state(r->audit_fd, r->ap, on_cmd, r, &st);
                r->audit_lost = st.lost;
                r->audit_off_serial = st.off_serial;
                if (seen && st.marker_seen)
                        *seen = true;
                if (r->audit_lost > before)
                        (void) emit_text(r, "note", "the kernel dropped audit records for the "
                                                    "recorder (receive buffer full)");
                if (st.turned_off && r->audit_on) {
                        /* journald's Audit=no at its start, an admin's auditctl -e 0:
                         * no more exec records; the proc connector stands in */
                        r->audit_on = false;
                        if (r->proc_fd >= 0)
                                proc_rcvbuf(r->proc_fd, 4 * 1024 * 1024);
                        (void) emit_text(r, "note",
                                         r->proc_fd >= 0
                                                 ? "kernel audit was turned off: commands now "
                                                   "come from the proc connector (source proc), "
                                                   "which can miss short-lived processes"
                                                 : "kernel audit was turned off: commands are "
                                                   "not recorded until it is on again");
                } else if (st.records_flow && !r->audit_on) {
                        r->audit_on = true;
                        if (r->proc_fd >= 0 && r->proc_standby)
                                proc_rcvbuf(r->proc_fd, 16 * 1024);
                        (void) emit_text(r, "note", "kernel audit is on again: commands come "
                                                    "from audit");
                }
        }
        /* on a switch, what the standby queue still holds is read too: an
         * exec between audit going off and our noticing is there */
        if (r->proc_fd >= 0 && (!r->audit_on || r->audit_fd < 0))
                (void) lb_proc_cmd_read(r->proc_fd, r->ses, on_cmd, r);
}

static void read_cmds(struct lb_recorder *r) {
        read_cmds_marker(r, NULL, NULL);
}

static bool audit_readable(int fd, uint64_t ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int w = poll(&p, 1, (int) ms);
        return w > 0 || (w < 0 && errno == EINTR);
}

/* The last commands, once no process of the session is left: kauditd
 * delivers records asynchronously and may be behind (a busy auditd, a
 * loaded machine). We send an audit record of our own and read until it
 * comes back: kauditd keeps order, so every exec record of the session is
 * read then. Without it (no CAP_AUDIT_WRITE, a full backlog), read until
 * the socket stays quiet for 150 ms, at most 1 s, and note it when the
 * marker never came. */
static void drain_commands(struct lb_recorder *r) {
        _cleanup_free_ char *nonce = NULL, *marker = NULL, *msg = NULL;
        bool seen = false;
        uint64_t until;
        int k;

        read_cmds(r);
        if (r->audit_fd < 0 || !r->audit_on)
                return;
        k = lb_random_id(NULL, 8, &nonce);
        if (k == 0) {
                marker = lb_asprintf("lockbox_drain=%s", nonce);
                msg = lb_asprintf("op=lockbox-record-drain lockbox_session=%s lockbox_drain=%s",
                                  r->rs.session, nonce);
        }
        if (marker && msg &&
            lb_audit_user_message(AUDIT_USER, msg, NULL, NULL, NULL, true) == 0) {
                until = lb_mono_ms() + 2000;
                while (!seen) {
                        uint64_t now = lb_mono_ms();
                        if (now >= until)
                                break;
                        if (audit_readable(r->audit_fd, MIN(100u, until - now)))
                                read_cmds_marker(r, marker, &seen);
                }
                if (seen)
                        return;
                (void) emit_text(r, "note", "the recorder's audit marker did not come back "
                                            "within 2 s: the last commands of the session "
                                            "may be missing from this recording");
                return;
        }
        until = lb_mono_ms() + 1000;
        for (;;) {
                uint64_t now = lb_mono_ms();
                if (now >= until || !audit_readable(r->audit_fd, MIN(150u, until - now)))
                        break;
                read_cmds(r);
        }
}

int lb_rec_relay(struct lb_recorder *r) {
        struct pending pend = {};
        bool in_eof = false, out_eof = false, err_eof = !!r->interactive;
        int k = 0;

        while (!atomic_load(&r->reason)) {
                struct pollfd p[7];
                int np = 0, i_sig, i_in = -1, i_out = -1, i_err = -1, i_cmd = -1, i_proc = -1,
                    i_w = -1;
                int to_child = r->interactive ? r->pty : r->in_w;

                i_sig = np;
                p[np++] = (struct pollfd) { r->sigfd, POLLIN, 0 };
                if (!in_eof && !pend.p) {
                        i_in = np;
                        p[np++] = (struct pollfd) { STDIN_FILENO, POLLIN, 0 };
                }
                if (pend.p && to_child >= 0) {
                        i_w = np;
                        p[np++] = (struct pollfd) { to_child, POLLOUT, 0 };
                }
                if (!out_eof) {
                        i_out = np;
                        p[np++] = (struct pollfd) { r->interactive ? r->pty : r->out_r, POLLIN,
                                                    0 };
                }
                if (!err_eof) {
                        i_err = np;
                        p[np++] = (struct pollfd) { r->err_r, POLLIN, 0 };
                }
                if (r->audit_fd >= 0) {
                        i_cmd = np;
                        p[np++] = (struct pollfd) { r->audit_fd, POLLIN, 0 };
                }
                /* the proc connector, when it is the source (standing by,
                 * it is not read: its small queue just overflows) */
                if (r->proc_fd >= 0 && (!r->audit_on || r->audit_fd < 0)) {
                        i_proc = np;
                        p[np++] = (struct pollfd) { r->proc_fd, POLLIN, 0 };
                }
                if (poll(p, (nfds_t) np, 200) < 0 && errno != EINTR) {
                        set_reason(r, "recorder_failure");
                        break;
                }
                /* commands first: an exec's record lands before its output */
                if ((i_cmd >= 0 && p[i_cmd].revents) || (i_proc >= 0 && p[i_proc].revents))
                        read_cmds(r);
                if (p[i_sig].revents) {
                        struct signalfd_siginfo si;
                        while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH)
                                        on_winch(r);
                                else if (si.ssi_signo == SIGCHLD)
                                        reap(r);
                                else if (si.ssi_signo == SIGHUP)
                                        set_reason(r, "hangup");
                                else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT ||
                                         si.ssi_signo == SIGQUIT)
                                        set_reason(r, "hangup");
                        }
                }
                if (i_out >= 0 && p[i_out].revents) {
                        k = relay_out(r, r->interactive ? r->pty : r->out_r,
                                      r->interactive ? LB_STREAM_TTY_OUT : LB_STREAM_STDOUT,
                                      "stdout", STDOUT_FILENO, &out_eof);
                        if (k < 0)
                                break;
                }
                if (i_err >= 0 && p[i_err].revents) {
                        k = relay_out(r, r->err_r, LB_STREAM_STDERR, "stderr", STDERR_FILENO,
                                      &err_eof);
                        if (k < 0)
                                break;
                }
                if (i_in >= 0 && p[i_in].revents) {
                        k = relay_in(r, &pend, &in_eof);
                        if (k < 0)
                                break;
                        if (in_eof && r->interactive)
                                set_reason(r, "hangup");
                }
                if (pend.p && to_child >= 0) {
                        ssize_t n = write(to_child, pend.p + pend.off, pend.len - pend.off);
                        if (n > 0)
                                pend.off += (size_t) n;
                        else if (n < 0 && errno != EAGAIN && errno != EINTR)
                                pend.off = pend.len; /* the reader is gone */
                        if (pend.off == pend.len) {
                                free(pend.p);
                                pend = (struct pending) {};
                        }
                }
                (void) i_w;
                if (!r->interactive && in_eof && !pend.p && r->in_w >= 0) {
                        close(r->in_w); /* the command sees EOF on its stdin */
                        r->in_w = -1;
                }
                if (r->interactive && r->child_done && r->pty_slave >= 0) {
                        close(r->pty_slave);
                        r->pty_slave = -1;
                }
                if (r->interactive && (out_eof || r->child_done)) {
                        /* the shell is gone: take what it left in the pty */
                        bool e = out_eof;
                        while (!e && relay_out(r, r->pty, LB_STREAM_TTY_OUT, "tty",
                                               STDOUT_FILENO, &e) > 0)
                                ;
                        break;
                }
                if (!r->interactive && out_eof && err_eof && r->child_done)
                        break;
                tick(r);
        }
        read_cmds(r);
        free(pend.p);
        set_reason(r, k < 0 ? "evidence_failure" : "exit");
        return 0;
}

/* ---- end -------------------------------------------------------------------- */

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* The verifier: the recorder's own process, forked at the end, out of the
 * operator's terminal and sshd's pipes. It sends what journald has not taken
 * and re-sends what journald shows it lost, until journald shows every entry
 * or verify_ms pass. It runs as the service user (pam_lockbox's close spares
 * that user's processes) with CAP_AUDIT_WRITE only, and says in auditd when
 * it gives up. */
static _Noreturn void verifier(struct lb_recorder *r) {
        sigset_t none;
        int fd, k;

        sigemptyset(&none);
        for (int s = 1; s < NSIG; s++)
                signal(s, SIG_DFL);
        signal(SIGHUP, SIG_IGN);
        sigprocmask(SIG_SETMASK, &none, NULL);
        (void) setsid();
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
                (void) dup2(fd, STDIN_FILENO);
                (void) dup2(fd, STDOUT_FILENO);
                (void) dup2(fd, STDERR_FILENO);
                if (fd > STDERR_FILENO)
                        close(fd);
        }
        close_fd(&r->pty);
        close_fd(&r->pty_slave);
        close_fd(&r->in_w);
        close_fd(&r->out_r);
        close_fd(&r->err_r);
        close_fd(&r->sigfd);
        close_fd(&r->audit_fd);
        close_fd(&r->proc_fd);
        close_fd(&r->control_wake);
        close_fd(&r->child_pidfd);
        /* it reads no audit stream and ends no process any more */
        k = lb_rec_keep_audit_write_only();
        if (k < 0)
                log_warning("verifier: cannot drop CAP_KILL and CAP_AUDIT_READ: %s", strerror(-k));

        k = lb_writer_drain(&r->writer, r->verify_ms);
        if (k < 0) {
                _cleanup_free_ char *op = lb_audit_value(r->rs.operator_);
                uint64_t unsent = atomic_load(&r->spool.size) - atomic_load(&r->writer.sent_off);
                _cleanup_free_ char *m = op ? lb_asprintf(
                        "op=lockbox-record-unconfirmed lockbox_request=%s lockbox_session=%s "
                        "lockbox_operator=%s unconfirmed_entries=%zu unsent_bytes=%" PRIu64,
                        r->rs.request, r->rs.session, op, r->writer.n_inflight, unsent) : NULL;
                if (m)
                        audit_user(m, false);
                log_error("journald does not show every entry of session %s after %" PRIu64
                          " s; the spool %s has them all", r->rs.session,
                          r->verify_ms / 1000, strna(r->spool.path));
        } else if (atomic_load(&r->writer.dropped) > 0)
                log_notice("session %s: journald lost %" PRIu64 " entries it had taken; "
                           "re-sent from the spool and seen", r->rs.session,
                           atomic_load(&r->writer.dropped));
        _exit(k < 0 ? 1 : 0);
}

static void verify_after_end(struct lb_recorder *r) {
        pid_t pid;

        /* no thread may be running at the fork: the child would lack it */
        (void) lb_spool_stop_sync(&r->spool);
        pid = fork();
        if (pid == 0)
                verifier(r);
        if (pid < 0) {
                log_error("cannot start the verifier: %s; confirming now", strerror(errno));
                (void) lb_writer_drain(&r->writer, r->journal_grace_ms);
                return;
        }
        r->verifier = pid;
}

int lb_rec_end(struct lb_recorder *r) {
        const char *reason = atomic_load(&r->reason);
        _cleanup_free_ char *now = time_ms_now(), *op = NULL, *msg = NULL;
        json_t *o, *tr;
        int status = 1, k;

        if (!reason)
                reason = "recorder_failure";
        /* every process of the session ends with it */
        control_end(r);
        if (r->control_started)
                pthread_join(r->control, NULL);
        r->control_started = false;
        (void) lb_session_kill_all(r->ses, getpid(), LB_UID_NONE, 2000);
        kill_session_init(r);
        reap(r);
        if (!r->child_done) {
                int st;
                if (waitpid(r->child, &st, 0) == r->child) {
                        r->child_done = true;
                        r->child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                }
        }
        if (streq(reason, "exit"))
                status = r->child_status;
        drain_commands(r);
        /* a last look at the kernel's log, whatever the last one's time:
         * losses, and an auditd that did not get the last commands (their
         * records came back through the audit stream, so the kernel has
         * printed them by now if no auditd took them) */
        kmsg_checked_ms = 0;
        audit_loss_check(r);

        if (atomic_load(&r->broker_lost))
                (void) emit_text(r, "note", "the broker was unreachable for too long: access "
                                            "could not be verified, the session was ended");
        o = rec_new(r, "end");
        tr = json_array();
        if (o && tr) {
                static const char *const names[] = { "stdin", "stdout", "stderr", "tty" };
                for (int s = 0; s < _LB_STREAM_MAX; s++)
                        if (r->truncated[s])
                                json_array_append_new(tr, json_string(names[s]));
                json_object_set_new(o, "reason", json_string(reason));
                json_object_set_new(o, "status", json_integer(status));
                json_object_set_new(o, "time", json_string(now ? now : ""));
                json_object_set_new(o, "truncated", tr);
                tr = NULL;
                k = emit(r, o);
                if (k < 0)
                        log_error("cannot write the end record: %s", strerror(-k));
        }
        json_decref(o);
        json_decref(tr);

        if (r->tio_saved)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &r->saved_tio);
        if (streq(reason, "expired"))
                tell_operator(r, "access has expired: the session is closed");
        else if (streq(reason, "revoked") && atomic_load(&r->broker_lost))
                tell_operator(r, "access could not be verified: the broker cannot be "
                                 "reached; the session is closed");
        else if (streq(reason, "revoked"))
                tell_operator(r, "access was revoked: the session is closed");
        else if (streq(reason, "evidence_failure"))
                tell_operator(r, "the session could not be recorded: it is closed");
        else if (streq(reason, "recorder_failure"))
                tell_operator(r, "the recorder failed: the session is closed");

        op = lb_audit_value(r->rs.operator_);
        msg = op ? lb_asprintf("op=lockbox-record-end lockbox_request=%s lockbox_session=%s "
                               "lockbox_operator=%s reason=%s commands=%" PRIu64,
                               r->rs.request, r->rs.session, op, reason, r->commands)
                 : NULL;
        if (msg)
                audit_user(msg, streq(reason, "exit"));

        /* evidence out: the spool synced, journald given what it lacks; a
         * healthy journald shows the last entries within milliseconds */
        k = lb_spool_sync(&r->spool);
        if (k < 0)
                log_error("cannot sync the spool: %s", strerror(-k));
        if (r->writer_started) {
                (void) lb_writer_stop(&r->writer, 300);
                r->writer_started = false;
        }
        k = lb_broker_session_end(&r->broker, r->rs.session, reason);
        if (k < 0)
                log_debug("ending the session at the broker failed: %s", strerror(-k));
        if (r->sink && !lb_writer_settled(&r->writer))
                verify_after_end(r);
        return streq(reason, "exit") ? status : 1;
}

void lb_rec_done(struct lb_recorder *r) {
        if (r->tio_saved)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &r->saved_tio);
        if (r->control_started) {
                control_end(r);
                pthread_join(r->control, NULL);
        }
        if (r->control_wake >= 0)
                close(r->control_wake);
        if (r->writer_started)
                (void) lb_writer_stop(&r->writer, 0);
        lb_writer_done(&r->writer);
        if (r->spool.path)
                (void) lb_spool_close(&r->spool);
        lb_sink_free(r->sink);
        lb_sink_free(unspooled_sink);
        unspooled_sink = NULL;
        lb_audit_parser_free(r->ap);
        lb_buf_done(&r->line);
        if (r->audit_fd >= 0)
                close(r->audit_fd);
        if (r->proc_fd >= 0)
                close(r->proc_fd);
        if (r->pty >= 0)
                close(r->pty);
        if (r->pty_slave >= 0)
                close(r->pty_slave);
        if (r->sigfd >= 0)
                close(r->sigfd);
        if (r->child_pidfd >= 0)
                close(r->child_pidfd);
        lb_rec_session_done(&r->rs);
        lb_broker_done(&r->broker);
        free(r->op_name);
        free(r->op_shell);
        free(r->rec_groups);
        free(r->command);
}
