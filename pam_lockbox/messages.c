/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the user sees. Every string that came from the broker goes through
 * lb_term_safe(): a broker (or whoever answers on its socket) must not be
 * able to drive the user's terminal. */
#include "config.h"

#include <time.h>

#include "pam_lockbox.h"
#include "util.h"

const char *lb_pam_format_left(int64_t remaining_s, char *buf, size_t size) {
        uint64_t s = remaining_s > 0 ? (uint64_t) remaining_s : 0;

        if (s >= 60)
                s -= s % 60; /* whole minutes: "1h59m", not "1h59m59s" */
        return lb_format_duration(s, buf, size);
}

const char *lb_pam_format_end(int64_t t, char *buf, size_t size) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
                snprintf(buf, size, "?");
        return buf;
}

char *lb_pam_msg_granted(const struct lb_access *a) {
        _cleanup_free_ char *req = lb_term_safe(a->request), *op = NULL;
        char end[64], left[32];

        if (!req)
                return NULL;
        if (a->operator_) {
                op = lb_term_safe(a->operator_);
                if (!op)
                        return NULL;
        }
        return lb_asprintf("lockbox: access granted by request %s%s%s%s, until %s (%s left)", req,
                           op ? " (" : "", op ? op : "", op ? ")" : "",
                           lb_pam_format_end(a->not_after, end, sizeof(end)),
                           lb_pam_format_left(a->remaining_s, left, sizeof(left)));
}

char *lb_pam_msg_refused(const struct lb_access *a) {
        _cleanup_free_ char *reason =
                lb_term_safe(isempty(a->reason) ? "no approved request" : a->reason);

        if (!reason)
                return NULL;
        return lb_asprintf("lockbox: access refused: %s", reason);
}

char *lb_pam_msg_hint(const struct lb_access *a, const char *host, const char *user) {
        _cleanup_free_ char *hint = NULL;

        if (!isempty(a->hint)) {
                hint = lb_term_safe(a->hint);
                return hint ? lb_asprintf("lockbox: %s", hint) : NULL;
        }
        /* host and user are names we checked ([A-Za-z0-9._@+-]) */
        return lb_asprintf("lockbox: ask for access: lockboxctl request --host %s --user %s "
                           "--reason TEXT --ticket T",
                           host, user);
}

char *lb_pam_msg_unverified(int error, const char *what) {
        const char *why;

        switch (error) {
        case -ECONNREFUSED:
        case -ENOENT:
        case -ECONNRESET:
                why = "broker unreachable";
                break;
        case -ETIMEDOUT:
                why = "broker did not answer in time";
                break;
        case -EBADMSG:
        case -EPROTO:
        case -EFBIG:
                why = "broker answer unreadable";
                break;
        case -EACCES:
                why = "broker refused to answer this host";
                break;
        default:
                why = "broker error";
                break;
        }
        return lb_asprintf("lockbox: access could not be verified (%s); refusing %s", why,
                           what ? what : "login");
}

char *lb_pam_msg_session_opened(const struct lb_session *s) {
        _cleanup_free_ char *ses = lb_term_safe(s->session), *req = lb_term_safe(s->request),
                            *op = NULL;
        char end[64], left[32];

        if (!ses || !req)
                return NULL;
        if (s->operator_) {
                op = lb_term_safe(s->operator_);
                if (!op)
                        return NULL;
        }
        return lb_asprintf("lockbox: session %s bound to request %s%s%s%s; access ends %s "
                           "(%s left); this session is recorded",
                           ses, req, op ? " (" : "", op ? op : "", op ? ")" : "",
                           lb_pam_format_end(s->not_after, end, sizeof(end)),
                           lb_pam_format_left(s->remaining_s, left, sizeof(left)));
}
