/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "evidence.h"
#include "jsend.h"
#include "sink.h"
#include "util.h"

struct sink_journal {
        struct lb_sink sink;
        char *f_session, *f_request, *f_operator, *f_user, *f_host;
        char *operator_, *user, *host, *session;
        struct lb_jsend js;
        /* read-back: opened by the process that reads (a forked one opens
         * its own: sd-journal objects do not cross fork) */
        sd_journal *j;
        pid_t j_pid;
        char *cursor;        /* the last entry reported */
};

const char *lb_sink_message_id(const char *kind) {
        static const struct {
                const char *kind, *id;
        } t[] = {
                { "start", "2fb1b94404e04226bd17aa5adfaa9a65" },
                { "io", "5c67643dd735480685e8055ae4b6ac81" },
                { "cmd", "d644840aff6f4e298f91556904be4955" },
                { "warn", "2b156c56ae184363b354bb9cffa04d5c" },
                { "end", "c76eb49925e541db92b0019982f1e195" },
                { "note", "fa52885c31594338b07a7aedc5f2bef2" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (streq(kind, t[i].kind))
                        return t[i].id;
        return NULL;
}

#define IOV_STR(s) ((struct iovec) { .iov_base = (void *) (s), .iov_len = strlen(s) })

static int journal_send(struct lb_sink *s, const struct lb_sink_entry *e) {
        struct sink_journal *j = (struct sink_journal *) s;
        _cleanup_free_ char *mid = NULL, *msg = NULL, *kind = NULL, *first = NULL, *last = NULL,
                            *argv = NULL, *cwd = NULL, *exe = NULL, *pid = NULL, *records = NULL;
        const char *id = lb_sink_message_id(e->kind);
        bool notice = !streq(e->kind, "io") && !streq(e->kind, "cmd") && !streq(e->kind, "note");
        struct iovec iov[24];
        size_t n = 0;

        if (!id)
                return -EINVAL;
        mid = lb_asprintf("MESSAGE_ID=%s", id);
        if (streq(e->kind, "cmd")) {
                _cleanup_free_ char *safe = lb_term_safe(e->argv_text ? e->argv_text : "");
                msg = safe ? lb_asprintf("MESSAGE=lockbox: %s (%s@%s) ran %s", j->operator_,
                                         j->user, j->host, safe)
                           : NULL;
        } else if (streq(e->kind, "io"))
                msg = lb_asprintf("MESSAGE=lockbox: session %s input/output, %zu records, %zu bytes",
                                  j->session, e->n_records, e->records_len);
        else
                msg = lb_asprintf("MESSAGE=lockbox: session %s %s (%s as %s@%s)", j->session,
                                  e->kind, j->operator_, j->user, j->host);
        kind = lb_asprintf("LOCKBOX_KIND=%s", e->kind);
        first = lb_asprintf("LOCKBOX_SEQ_FIRST=%" PRIu64, e->seq_first);
        last = lb_asprintf("LOCKBOX_SEQ_LAST=%" PRIu64, e->seq_last);
        records = malloc(strlen("LOCKBOX_RECORDS=") + e->records_len);
        if (!mid || !msg || !kind || !first || !last || !records)
                return -ENOMEM;
        memcpy(records, "LOCKBOX_RECORDS=", 16);
        memcpy(records + 16, e->records, e->records_len);

        iov[n++] = IOV_STR(mid);
        iov[n++] = IOV_STR(msg);
        iov[n++] = IOV_STR(notice || e->unspooled ? "PRIORITY=5" : "PRIORITY=6");
        iov[n++] = IOV_STR("SYSLOG_IDENTIFIER=lockbox-record");
        iov[n++] = IOV_STR(j->f_session);
        iov[n++] = IOV_STR(j->f_request);
        iov[n++] = IOV_STR(j->f_operator);
        iov[n++] = IOV_STR(j->f_user);
        iov[n++] = IOV_STR(j->f_host);
        iov[n++] = IOV_STR(kind);
        iov[n++] = IOV_STR(first);
        iov[n++] = IOV_STR(last);
        iov[n++] = (struct iovec) { .iov_base = records, .iov_len = 16 + e->records_len };
        if (e->resent)
                iov[n++] = IOV_STR("LOCKBOX_RESENT=1");
        /* the spool refused it: journald (and, for commands, auditd) is
         * where it is kept */
        if (e->unspooled)
                iov[n++] = IOV_STR("LOCKBOX_UNSPOOLED=1");
        if (streq(e->kind, "cmd")) {
                argv = lb_asprintf("LOCKBOX_ARGV=%s", strna(e->argv_text));
                cwd = lb_asprintf("LOCKBOX_CWD=%s", strna(e->cwd));
                exe = lb_asprintf("LOCKBOX_EXE=%s", strna(e->exe));
                pid = lb_asprintf("LOCKBOX_PID=%" PRId64, e->pid);
                if (!argv || !cwd || !exe || !pid)
                        return -ENOMEM;
                iov[n++] = IOV_STR(argv);
                iov[n++] = IOV_STR(cwd);
                iov[n++] = IOV_STR(exe);
                iov[n++] = IOV_STR(pid);
        }
        return lb_jsend_sendv(&j->js, iov, n);
}

static int field_u64(sd_journal *j, const char *field, uint64_t *ret) {
        const void *d;
        size_t l, fl = strlen(field);
        char num[24];
        int k = sd_journal_get_data(j, field, &d, &l);

        if (k < 0)
                return k;
        if (l <= fl + 1 || l - fl - 1 >= sizeof(num))
                return -EBADMSG;
        memcpy(num, (const char *) d + fl + 1, l - fl - 1);
        num[l - fl - 1] = 0;
        return lb_parse_u64(num, UINT64_MAX, ret);
}

static int reader_open(struct sink_journal *s) {
        _cleanup_free_ char *m_uid = NULL;
        int k;

        if (s->j && s->j_pid == getpid())
                return 0;
        s->j = NULL; /* one from before a fork belongs to the parent */
        free(s->cursor);
        s->cursor = NULL;
        m_uid = lb_asprintf("_UID=%u", (unsigned) geteuid());
        if (!m_uid)
                return -ENOMEM;
        k = sd_journal_open(&s->j, SD_JOURNAL_LOCAL_ONLY);
        if (k < 0) {
                s->j = NULL;
                return k;
        }
        /* no journal file we may read (the journal's group missing): we
         * would wait for entries we can never see */
        if (sd_journal_has_runtime_files(s->j) <= 0 && sd_journal_has_persistent_files(s->j) <= 0) {
                sd_journal_close(s->j);
                s->j = NULL;
                return -EACCES;
        }
        /* inotify, so sd_journal_process() sees files journald adds (a
         * restart, a rotation) */
        (void) sd_journal_get_fd(s->j);
        k = sd_journal_add_match(s->j, s->f_session, 0);
        if (k >= 0)
                k = sd_journal_add_match(s->j, m_uid, 0);
        if (k < 0) {
                sd_journal_close(s->j);
                s->j = NULL;
                return k;
        }
        s->j_pid = getpid();
        return 0;
}

static int journal_read_back(struct lb_sink *sink, bool full, lb_sink_seen_fn seen,
                             void *userdata) {
        struct sink_journal *s = (struct sink_journal *) sink;
        bool skip_first = false;
        int k;

        k = reader_open(s);
        if (k < 0)
                return k;
        (void) sd_journal_process(s->j);
        if (!full && s->cursor) {
                k = sd_journal_seek_cursor(s->j, s->cursor);
                skip_first = true;
        } else
                k = sd_journal_seek_head(s->j);
        if (k < 0)
                return k;
        for (;;) {
                uint64_t first, last;

                k = sd_journal_next(s->j);
                if (k < 0)
                        return k;
                if (k == 0)
                        break;
                if (skip_first) {
                        skip_first = false;
                        if (sd_journal_test_cursor(s->j, s->cursor) > 0)
                                continue;
                }
                if (field_u64(s->j, "LOCKBOX_SEQ_FIRST", &first) >= 0 &&
                    field_u64(s->j, "LOCKBOX_SEQ_LAST", &last) >= 0 && first <= last)
                        seen(userdata, first, last);
                {
                        char *c = NULL;
                        if (sd_journal_get_cursor(s->j, &c) >= 0) {
                                free(s->cursor);
                                s->cursor = c;
                        }
                }
        }
        return 0;
}

static void journal_free(struct lb_sink *s) {
        struct sink_journal *j = (struct sink_journal *) s;
        free(j->f_session);
        free(j->f_request);
        free(j->f_operator);
        free(j->f_user);
        free(j->f_host);
        free(j->operator_);
        free(j->user);
        free(j->host);
        free(j->session);
        free(j->cursor);
        if (j->j && j->j_pid == getpid())
                sd_journal_close(j->j);
        lb_jsend_done(&j->js);
        free(j);
}

int lb_sink_journal_new(const struct lb_sink_ids *ids, unsigned send_timeout_ms,
                        struct lb_sink **ret) {
        struct sink_journal *j = calloc(1, sizeof(*j));

        if (!j)
                return -ENOMEM;
        j->sink = (struct lb_sink) { journal_send, journal_free, journal_read_back };
        lb_jsend_init(&j->js, send_timeout_ms);
        j->f_session = lb_asprintf("LOCKBOX_SESSION=%s", strna(ids->session));
        j->f_request = lb_asprintf("LOCKBOX_REQUEST=%s", strna(ids->request));
        j->f_operator = lb_asprintf("LOCKBOX_OPERATOR=%s", strna(ids->operator_));
        j->f_user = lb_asprintf("LOCKBOX_USER=%s", strna(ids->user));
        j->f_host = lb_asprintf("LOCKBOX_HOST=%s", strna(ids->host));
        j->operator_ = strdup(strna(ids->operator_));
        j->user = strdup(strna(ids->user));
        j->host = strdup(strna(ids->host));
        j->session = strdup(strna(ids->session));
        if (!j->f_session || !j->f_request || !j->f_operator || !j->f_user || !j->f_host ||
            !j->operator_ || !j->user || !j->host || !j->session) {
                journal_free(&j->sink);
                return -ENOMEM;
        }
        *ret = &j->sink;
        return 0;
}
