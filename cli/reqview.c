/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "display.h"
#include "reqview.h"
#include "timeutil.h"
#include "util.h"

static const char *str(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static bool get_time(json_t *o, const char *k, int64_t *ret) {
        const char *s = str(o, k);
        return s && lb_time_parse(s, ret) >= 0;
}

static bool get_int(json_t *o, const char *k, int64_t *ret) {
        json_t *v = json_object_get(o, k);

        if (!json_is_integer(v))
                return false;
        *ret = (int64_t) json_integer_value(v);
        return true;
}

/* "a, b, c" from an array of strings (non-strings skipped). */
static char *join(json_t *a) {
        char *out = strdup("");
        size_t i;
        json_t *v;

        if (!out)
                return NULL;
        json_array_foreach(a, i, v) {
                char *n;
                if (!json_is_string(v))
                        continue;
                n = lb_asprintf("%s%s%s", out, *out ? ", " : "", json_string_value(v));
                free(out);
                if (!n)
                        return NULL;
                out = n;
        }
        return out;
}

bool lb_reqview_approved_by(json_t *req, const char *who) {
        size_t i;
        json_t *a;

        if (!who)
                return false;
        json_array_foreach(json_object_get(req, "approvals"), i, a) {
                const char *by = str(a, "by");
                if (by && streq(by, who))
                        return true;
        }
        return false;
}

char *lb_reqview_when(json_t *req, int64_t now) {
        const char *state = str(req, "state");
        char rel[48];
        int64_t t, rem;

        if (!state)
                return strdup("-");
        if (streq(state, "pending") && get_time(req, "pending_expires_at", &t))
                return lb_asprintf("expires %s", lb_ctl_relative(t, now, rel, sizeof(rel)));
        if (streq(state, "approved")) {
                /* the broker is the clock: prefer its remaining_s */
                if (get_int(req, "remaining_s", &rem) && rem >= 0)
                        return lb_asprintf("ends %s", lb_ctl_relative(now + rem, now, rel, sizeof(rel)));
                if (get_time(req, "not_after", &t))
                        return lb_asprintf("ends %s", lb_ctl_relative(t, now, rel, sizeof(rel)));
        }
        if (get_time(req, "ended_at", &t))
                return lb_asprintf("ended %s", lb_ctl_relative(t, now, rel, sizeof(rel)));
        return strdup("-");
}

int lb_reqview_table(json_t *requests, int64_t now, FILE *f) {
        static const char *const headers[] = {
                "ID", "STATE", "OPERATOR", "HOSTS", "USER", "TICKET", "WHEN", "REASON"
        };
        _cleanup_table_ struct lb_table *t = lb_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        json_t *req;

        if (!t)
                return -ENOMEM;
        lb_table_set_max(t, 3, 40);
        lb_table_set_max(t, 5, 24);
        lb_table_set_max(t, 7, 60);
        json_array_foreach(requests, i, req) {
                _cleanup_free_ char *hosts = join(json_object_get(req, "hosts")), *when = lb_reqview_when(req, now);
                const char *cells[] = {
                        str(req, "id"), str(req, "state"), str(req, "operator"), hosts,
                        str(req, "user"), str(req, "ticket"), when, str(req, "reason"),
                };
                if (!hosts || !when || lb_table_add(t, cells) < 0)
                        return -ENOMEM;
        }
        return lb_table_print(t, f);
}

/* One "Label    value" line; value made safe here. */
static int line(FILE *f, const char *label, const char *value) {
        _cleanup_free_ char *v = lb_ctl_safe(value ? value : "-");

        if (!v)
                return -ENOMEM;
        fprintf(f, "%-13s %s\n", label, v);
        return 0;
}

static int time_line(FILE *f, const char *label, json_t *req, const char *key, int64_t now) {
        char buf[96], a[LB_CTL_TIME_LEN], b[48];
        int64_t t;

        if (!get_time(req, key, &t))
                return json_is_string(json_object_get(req, key)) ? line(f, label, str(req, key)) : 0;
        snprintf(buf, sizeof(buf), "%s (%s)", lb_ctl_time(t, true, a, sizeof(a)),
                 lb_ctl_relative(t, now, b, sizeof(b)));
        return line(f, label, buf);
}

int lb_reqview_show(json_t *req, int64_t now, FILE *f) {
        _cleanup_free_ char *hosts = join(json_object_get(req, "hosts")),
                            *approvers = join(json_object_get(req, "approvers")), *when = lb_reqview_when(req, now),
                            *state = NULL, *approvals = NULL, *duration = NULL;
        json_t *list = json_object_get(req, "approvals"), *a;
        char span[32];
        int64_t v, need = 0;
        size_t i;
        int r;

        if (!hosts || !approvers || !when)
                return -ENOMEM;
        state = lb_asprintf("%s (%s)", strna(str(req, "state")), when);
        if (get_int(req, "approvals_required", &need))
                approvals = lb_asprintf("%zu of %" PRId64 " required", json_array_size(list), need);
        else
                approvals = lb_asprintf("%zu", json_array_size(list));
        if (get_int(req, "duration_s", &v) && v >= 0)
                duration = strdup(lb_ctl_span((uint64_t) v, span, sizeof(span)));
        else
                duration = strdup("-");
        if (!state || !approvals || !duration)
                return -ENOMEM;

        if ((r = line(f, "Request", str(req, "id"))) < 0 || (r = line(f, "State", state)) < 0 ||
            (r = line(f, "Operator", str(req, "operator"))) < 0 || (r = line(f, "Hosts", hosts)) < 0 ||
            (r = line(f, "User", str(req, "user"))) < 0 || (r = line(f, "Ticket", str(req, "ticket"))) < 0 ||
            (r = line(f, "Reason", str(req, "reason"))) < 0 || (r = line(f, "Duration", duration)) < 0 ||
            (r = line(f, "Approvers", *approvers ? approvers : "(none eligible)")) < 0 ||
            (r = line(f, "Approvals", approvals)) < 0)
                return r;
        json_array_foreach(list, i, a) {
                _cleanup_free_ char *l = NULL;
                char at[LB_CTL_TIME_LEN], rel[48];
                int64_t t;
                bool has_t = get_time(a, "at", &t);
                const char *comment = str(a, "comment");

                l = lb_asprintf("%s at %s%s%s%s%s%s", strna(str(a, "by")),
                                has_t ? lb_ctl_time(t, true, at, sizeof(at)) : "?", has_t ? " (" : "",
                                has_t ? lb_ctl_relative(t, now, rel, sizeof(rel)) : "", has_t ? ")" : "",
                                isempty(comment) ? "" : ": ", isempty(comment) ? "" : comment);
                if (!l || (r = line(f, "", l)) < 0)
                        return l ? r : -ENOMEM;
        }
        if ((r = time_line(f, "Created", req, "created_at", now)) < 0)
                return r;
        if (streq(strna(str(req, "state")), "pending") &&
            (r = time_line(f, "Pending until", req, "pending_expires_at", now)) < 0)
                return r;
        if ((r = time_line(f, "Approved", req, "approved_at", now)) < 0 ||
            (r = time_line(f, "Not after", req, "not_after", now)) < 0)
                return r;
        if (get_int(req, "remaining_s", &v) && v >= 0 &&
            (r = line(f, "Remaining", lb_ctl_span((uint64_t) v, span, sizeof(span)))) < 0)
                return r;
        if ((r = time_line(f, "Ended", req, "ended_at", now)) < 0)
                return r;
        if (str(req, "ended_by") && (r = line(f, "Ended by", str(req, "ended_by"))) < 0)
                return r;
        if (str(req, "end_reason") && (r = line(f, "End reason", str(req, "end_reason"))) < 0)
                return r;
        return ferror(f) ? -EIO : 0;
}

int lb_reqview_created(json_t *req, int64_t now, FILE *f) {
        _cleanup_free_ char *id = lb_ctl_safe(str(req, "id")), *state = lb_ctl_safe(str(req, "state")),
                            *ap = join(json_object_get(req, "approvers")), *approvers = NULL;
        char when[96];
        int64_t need = 1, t;

        if (!id || !state || !ap)
                return -ENOMEM;
        approvers = lb_ctl_safe(ap);
        if (!approvers)
                return -ENOMEM;
        get_int(req, "approvals_required", &need);
        fprintf(f, "Request %s created (%s).\n", id, state);
        if (*approvers)
                fprintf(f, "Waiting for %" PRId64 " approval%s from: %s\n", need, need == 1 ? "" : "s",
                        approvers);
        else
                fprintf(f, "No approver is eligible for it: nobody can approve it.\n");
        if (get_time(req, "pending_expires_at", &t))
                fprintf(f, "Expires unanswered: %s\n", lb_ctl_time_rel(t, now, when, sizeof(when)));
        return ferror(f) ? -EIO : 0;
}

int lb_reqview_after(json_t *req, const char *action, int64_t now, FILE *f) {
        _cleanup_free_ char *id = lb_ctl_safe(str(req, "id")), *state = lb_ctl_safe(str(req, "state"));
        char when[96];
        int64_t t, need = 0, rem;

        if (!id || !state)
                return -ENOMEM;
        if (streq(state, "approved")) {
                if (get_int(req, "remaining_s", &rem) && rem >= 0)
                        t = now + rem;
                else if (!get_time(req, "not_after", &t))
                        t = 0;
                if (t > 0)
                        fprintf(f, "%s: approved; access until %s.\n", id,
                                lb_ctl_time_rel(t, now, when, sizeof(when)));
                else
                        fprintf(f, "%s: approved.\n", id);
        } else if (streq(state, "pending") && streq(action, "approve")) {
                get_int(req, "approvals_required", &need);
                fprintf(f, "%s: approval recorded (%zu of %" PRId64 "); still pending.\n", id,
                        json_array_size(json_object_get(req, "approvals")), need);
        } else
                fprintf(f, "%s: %s.\n", id, state);
        return ferror(f) ? -EIO : 0;
}
