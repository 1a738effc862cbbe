/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <jansson.h>

#include "record-session.h"
#include "util.h"

void lb_rec_session_done(struct lb_rec_session *s) {
        free(s->session);
        free(s->request);
        free(s->operator_);
        free(s->user);
        free(s->host);
        free(s->not_after);
        *s = (struct lb_rec_session) {};
}

static int get_name(json_t *j, const char *key, size_t max, char **ret) {
        const char *v = json_string_value(json_object_get(j, key));
        if (!v || !lb_name_valid(v, max))
                return -EBADMSG;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

int lb_rec_session_parse(const char *json, size_t len, struct lb_rec_session *ret) {
        json_auto_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
        struct lb_rec_session s = {};
        json_t *v;
        int r;

        if (!json_is_object(j))
                return -EBADMSG;
        if ((r = get_name(j, "session", 64, &s.session)) < 0 ||
            (r = get_name(j, "request", 64, &s.request)) < 0 ||
            (!json_is_null(json_object_get(j, "operator")) &&
             (r = get_name(j, "operator", 253, &s.operator_)) < 0) ||
            (r = get_name(j, "user", 253, &s.user)) < 0 ||
            (r = get_name(j, "host", 253, &s.host)) < 0)
                goto fail;
        v = json_object_get(j, "not_after");
        if (json_is_string(v) && !(s.not_after = strdup(json_string_value(v)))) {
                r = -ENOMEM;
                goto fail;
        }
        r = -EBADMSG;
        v = json_object_get(j, "remaining_s");
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                goto fail;
        s.remaining_s = json_integer_value(v);
        v = json_object_get(j, "mono_ms");
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                goto fail;
        s.mono_ms = (uint64_t) json_integer_value(v);
        v = json_object_get(j, "audit_session");
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) >= (json_int_t) UINT32_MAX)
                goto fail;
        s.audit_session = (uint32_t) json_integer_value(v);
        v = json_object_get(j, "sshd_pid");
        s.sshd_pid = json_is_integer(v) ? json_integer_value(v) : 0;
        *ret = s;
        return 0;
fail:
        lb_rec_session_done(&s);
        return r;
}

bool lb_rec_is_sftp(const char *command) {
        size_t n;
        const char *base, *end;

        if (!command)
                return false;
        while (*command == ' ' || *command == '\t')
                command++;
        end = command + strcspn(command, " \t");
        n = (size_t) (end - command);
        if (n == 13 && strneq(command, "internal-sftp", 13))
                return true;
        base = command;
        for (const char *p = command; p < end; p++)
                if (*p == '/')
                        base = p + 1;
        n = (size_t) (end - base);
        return n >= 11 && strneq(end - 11, "sftp-server", 11);
}

bool lb_rec_input_masked(const struct termios *t) {
        return !(t->c_lflag & ECHO) && (t->c_lflag & ICANON);
}

unsigned lb_rec_warning_due(uint64_t now_ms, uint64_t deadline_ms, unsigned *warned) {
        uint64_t left = deadline_ms > now_ms ? deadline_ms - now_ms : 0;

        if (left == 0)
                return 0;
        if (left <= 60 * 1000) {
                if (*warned & LB_REC_WARN_1)
                        return 0;
                *warned |= LB_REC_WARN_1 | LB_REC_WARN_10;
                return 1;
        }
        if (left <= 10 * 60 * 1000) {
                if (*warned & LB_REC_WARN_10)
                        return 0;
                *warned |= LB_REC_WARN_10;
                return 10;
        }
        return 0;
}

const char *lb_rec_reason_from_broker(const char *state, const char *reason) {
        if (reason && strneq(reason, "expired", 7))
                return "expired";
        (void) state;
        return "revoked";
}
