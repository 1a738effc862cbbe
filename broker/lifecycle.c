/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>

#include "lifecycle.h"
#include "util.h"

#define LB_MAX_APPROVALS 100

void lb_policy_init(struct lb_policy *p) {
        *p = (struct lb_policy) {
                .pending_ttl = 4 * 24 * 3600,
                .default_duration = 4 * 3600,
                .max_duration = 8 * 3600,
                .min_duration = 60,
                .approvals_required = 1,
        };
}

_printf_(3, 4) static int refuse(char **ret_detail, int error, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (ret_detail) {
                free(*ret_detail);
                *ret_detail = s;
        } else
                free(s);
        return error;
}

int lb_lc_create(const struct lb_policy *p, const struct lb_create_input *in, const char *id,
                 char *const *group_members, int64_t now, struct lb_request **ret,
                 char **ret_detail) {
        struct lb_request *r;
        uint64_t duration = in->duration_s ? in->duration_s : p->default_duration;
        unsigned need = MAX(in->approvals_required, p->approvals_required);
        size_t n = 0;

        if (isempty(in->operator_))
                return refuse(ret_detail, -EINVAL, "operator missing");
        if (!in->hosts || !in->hosts[0])
                return refuse(ret_detail, -EINVAL, "hosts: at least one host is required");
        if (p->max_duration > LB_DURATION_LIMIT || duration == 0)
                return refuse(ret_detail, -ERANGE, "max_duration or default_duration is out of range");
        if (in->duration_s && in->duration_s < p->min_duration)
                return refuse(ret_detail, -EINVAL,
                              "duration_s: %" PRIu64 " is below min_duration (%" PRIu64 ")",
                              in->duration_s, p->min_duration);
        /* asked, capped by max_duration */
        duration = MIN(duration, p->max_duration);
        if (in->approvals_required > LB_MAX_APPROVALS)
                return refuse(ret_detail, -EINVAL, "approvals_required: at most %d",
                              LB_MAX_APPROVALS);
        if (need < 1)
                need = 1;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->approvers = calloc(lb_strv_length(group_members) + 1, sizeof(char *));
        r->hosts = calloc(lb_strv_length(in->hosts) + 1, sizeof(char *));
        r->approvals = calloc(1, sizeof(struct lb_approval));
        if (!r->approvers || !r->hosts || !r->approvals)
                goto oom;
        for (char *const *m = group_members; m && *m; m++) {
                if (streq(*m, in->operator_) || lb_strv_contains(r->approvers, *m))
                        continue; /* never the operator; no duplicates */
                if (!(r->approvers[n++] = strdup(*m)))
                        goto oom;
        }
        n = 0;
        for (char *const *h = in->hosts; *h; h++)
                if (!lb_strv_contains(r->hosts, *h) && !(r->hosts[n++] = strdup(*h)))
                        goto oom;
        if (lb_strv_length(r->approvers) < need) {
                int e = refuse(ret_detail, -EBUSY,
                               "approvals_required is %u but only %zu eligible approver(s) "
                               "exist besides the operator",
                               need, lb_strv_length(r->approvers));
                lb_request_free(r);
                return e;
        }
        r->id = strdup(id);
        r->operator_ = strdup(in->operator_);
        r->user = strdup(in->user);
        r->reason = strdup(in->reason);
        r->ticket = strdup(in->ticket);
        if (!r->id || !r->operator_ || !r->user || !r->reason || !r->ticket)
                goto oom;
        r->state = LB_STATE_PENDING;
        r->duration_s = duration;
        r->approvals_required = need;
        r->created_at = now;
        if (p->pending_ttl > LB_PENDING_TTL_LIMIT ||
            __builtin_add_overflow(now, (int64_t) p->pending_ttl, &r->pending_expires_at)) {
                lb_request_free(r);
                return refuse(ret_detail, -ERANGE, "pending_ttl %" PRIu64 "s from now is out of range",
                              p->pending_ttl);
        }
        *ret = r;
        return 0;
oom:
        lb_request_free(r);
        return -ENOMEM;
}

enum lb_state lb_lc_effective_state(const struct lb_request *r, int64_t now) {
        if (r->state == LB_STATE_PENDING && now >= r->pending_expires_at)
                return LB_STATE_EXPIRED;
        if (r->state == LB_STATE_APPROVED && now >= r->not_after)
                return LB_STATE_EXPIRED;
        return r->state;
}

int64_t lb_lc_remaining(const struct lb_request *r, int64_t now) {
        if (lb_lc_effective_state(r, now) != LB_STATE_APPROVED)
                return 0;
        return r->not_after - now;
}

static int end(struct lb_request *r, enum lb_state to, const char *by, const char *why,
               int64_t now) {
        char *b = strdup(by), *w = why ? strdup(why) : NULL;
        if (!b || (why && !w)) {
                free(b);
                free(w);
                return -ENOMEM;
        }
        free(r->ended_by);
        free(r->end_reason);
        r->ended_by = b;
        r->end_reason = w;
        r->ended_at = now;
        r->state = to;
        return 0;
}

int lb_lc_expire(struct lb_request *r, int64_t now) {
        int e;
        if (r->state == LB_STATE_PENDING && now >= r->pending_expires_at) {
                e = end(r, LB_STATE_EXPIRED, "lockboxd", "pending_ttl", r->pending_expires_at);
                return e < 0 ? e : 1;
        }
        if (r->state == LB_STATE_APPROVED && now >= r->not_after) {
                e = end(r, LB_STATE_EXPIRED, "lockboxd", "duration", r->not_after);
                return e < 0 ? e : 1;
        }
        return 0;
}

int64_t lb_lc_next_deadline(const struct lb_request *r) {
        if (r->state == LB_STATE_PENDING)
                return r->pending_expires_at;
        if (r->state == LB_STATE_APPROVED)
                return r->not_after;
        return 0;
}

/* Common checks: not expired (by time), in the wanted state. */
static int need_state(const struct lb_request *r, enum lb_state want, const char *what,
                      int64_t now, char **ret_detail) {
        enum lb_state s = lb_lc_effective_state(r, now);
        if (s != want)
                return refuse(ret_detail, -EBUSY,
                              "request %s is %s; only a%s %s request can be %s", r->id,
                              lb_state_to_string(s), want == LB_STATE_APPROVED ? "n" : "",
                              lb_state_to_string(want), what);
        return 0;
}

static bool eligible(const struct lb_request *r, const char *actor) {
        return lb_strv_contains(r->approvers, actor) && !streq(actor, r->operator_);
}

int lb_lc_approve(struct lb_request *r, const char *actor, const char *comment, int64_t now,
                  char **ret_detail) {
        struct lb_approval *a;
        int64_t not_after = 0;
        int e;

        if (streq(actor, r->operator_))
                return refuse(ret_detail, -EPERM,
                              "%s is the requester of %s and cannot approve it", actor, r->id);
        if (!eligible(r, actor))
                return refuse(ret_detail, -EPERM,
                              "%s is not an eligible approver of %s (approvers are fixed "
                              "when the request is created)",
                              actor, r->id);
        if ((e = need_state(r, LB_STATE_PENDING, "approved", now, ret_detail)) < 0)
                return e;
        for (size_t i = 0; i < r->n_approvals; i++)
                if (streq(r->approvals[i].by, actor))
                        return refuse(ret_detail, -EBUSY, "%s already approved %s", actor,
                                      r->id);
        /* the quorum's approval starts the clock: not_after must fit */
        if (r->n_approvals + 1 >= r->approvals_required &&
            (r->duration_s > LB_DURATION_LIMIT ||
             __builtin_add_overflow(now, (int64_t) r->duration_s, &not_after)))
                return refuse(ret_detail, -ERANGE,
                              "request %s: a duration of %" PRIu64 "s from now is out of range",
                              r->id, r->duration_s);
        a = realloc(r->approvals, (r->n_approvals + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        r->approvals = a;
        a = &r->approvals[r->n_approvals];
        *a = (struct lb_approval) { .by = strdup(actor), .at = now,
                                    .comment = comment ? strdup(comment) : NULL };
        if (!a->by || (comment && !a->comment)) {
                free(a->by);
                free(a->comment);
                return -ENOMEM;
        }
        r->n_approvals++;
        if (r->n_approvals < r->approvals_required)
                return 0;
        /* the access clock starts now, at approval */
        r->state = LB_STATE_APPROVED;
        r->approved_at = now;
        r->not_after = not_after;
        return 1;
}

int lb_lc_deny(struct lb_request *r, const char *actor, const char *reason, int64_t now,
               char **ret_detail) {
        int e;
        if (streq(actor, r->operator_))
                return refuse(ret_detail, -EPERM, "%s is the requester of %s and cannot deny it",
                              actor, r->id);
        if (!eligible(r, actor))
                return refuse(ret_detail, -EPERM, "%s is not an eligible approver of %s", actor,
                              r->id);
        if (isempty(reason))
                return refuse(ret_detail, -EINVAL, "reason: required");
        if ((e = need_state(r, LB_STATE_PENDING, "denied", now, ret_detail)) < 0)
                return e;
        return end(r, LB_STATE_DENIED, actor, reason, now);
}

int lb_lc_revoke(struct lb_request *r, const char *actor, bool is_admin, const char *reason,
                 int64_t now, char **ret_detail) {
        int e;
        if (!is_admin && !eligible(r, actor))
                return refuse(ret_detail, -EPERM,
                              "%s is neither an eligible approver of %s nor an admin", actor,
                              r->id);
        if (isempty(reason))
                return refuse(ret_detail, -EINVAL, "reason: required");
        if ((e = need_state(r, LB_STATE_APPROVED, "revoked", now, ret_detail)) < 0)
                return e;
        return end(r, LB_STATE_REVOKED, actor, reason, now);
}

int lb_lc_withdraw(struct lb_request *r, const char *actor, int64_t now, char **ret_detail) {
        int e;
        if (!streq(actor, r->operator_))
                return refuse(ret_detail, -EPERM, "only the requester can withdraw %s", r->id);
        if ((e = need_state(r, LB_STATE_PENDING, "withdrawn", now, ret_detail)) < 0)
                return e;
        return end(r, LB_STATE_WITHDRAWN, actor, "withdrawn", now);
}

int lb_lc_complete(struct lb_request *r, const char *actor, int64_t now, char **ret_detail) {
        int e;
        if (!streq(actor, r->operator_))
                return refuse(ret_detail, -EPERM, "only the requester can complete %s", r->id);
        if ((e = need_state(r, LB_STATE_APPROVED, "completed", now, ret_detail)) < 0)
                return e;
        return end(r, LB_STATE_COMPLETED, actor, "completed", now);
}

int lb_lc_can_register_key(const struct lb_request *r, const char *actor, int64_t now,
                           char **ret_detail) {
        if (!streq(actor, r->operator_))
                return refuse(ret_detail, -EPERM, "only the requester can register keys on %s",
                              r->id);
        return need_state(r, LB_STATE_APPROVED, "given keys", now, ret_detail);
}
