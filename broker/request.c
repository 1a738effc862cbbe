/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "request.h"
#include "lifecycle.h"
#include "timeutil.h"
#include "util.h"

static const char *const state_names[_LB_STATE_MAX] = {
        [LB_STATE_PENDING] = "pending",     [LB_STATE_APPROVED] = "approved",
        [LB_STATE_DENIED] = "denied",       [LB_STATE_EXPIRED] = "expired",
        [LB_STATE_WITHDRAWN] = "withdrawn", [LB_STATE_REVOKED] = "revoked",
        [LB_STATE_COMPLETED] = "completed",
};

const char *lb_state_to_string(enum lb_state s) {
        if (s < 0 || s >= _LB_STATE_MAX)
                return "invalid";
        return state_names[s];
}

enum lb_state lb_state_from_string(const char *s) {
        if (!s)
                return LB_STATE_INVALID;
        for (int i = 0; i < _LB_STATE_MAX; i++)
                if (streq(state_names[i], s))
                        return (enum lb_state) i;
        return LB_STATE_INVALID;
}

bool lb_state_terminal(enum lb_state s) {
        return s != LB_STATE_PENDING && s != LB_STATE_APPROVED;
}

void lb_request_free(struct lb_request *r) {
        if (!r)
                return;
        free(r->id);
        free(r->operator_);
        lb_strv_free(r->hosts);
        free(r->user);
        free(r->reason);
        free(r->ticket);
        lb_strv_free(r->approvers);
        for (size_t i = 0; i < r->n_approvals; i++) {
                free(r->approvals[i].by);
                free(r->approvals[i].comment);
        }
        free(r->approvals);
        free(r->ended_by);
        free(r->end_reason);
        free(r);
}

bool lb_request_has_host(const struct lb_request *r, const char *host) {
        return lb_strv_contains(r->hosts, host);
}

static json_t *time_or_null(int64_t t) {
        char buf[LB_TIME_LEN];
        if (t <= 0)
                return json_null();
        return json_string(lb_time_format(t, buf, sizeof(buf)));
}

static json_t *str_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

static json_t *strv_json(char *const *v) {
        json_t *a = json_array();
        for (char *const *p = v; p && *p; p++)
                json_array_append_new(a, json_string(*p));
        return a;
}

static json_t *request_json(const struct lb_request *r, enum lb_state shown, json_t *remaining) {
        json_t *approvals = json_array();
        for (size_t i = 0; i < r->n_approvals; i++)
                json_array_append_new(
                        approvals, json_pack("{s:s, s:o, s:o}", "by", r->approvals[i].by, "at",
                                             time_or_null(r->approvals[i].at), "comment",
                                             str_or_null(r->approvals[i].comment)));
        return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o,"
                         " s:o, s:o, s:o, s:o, s:o}",
                         "id", r->id, "state", lb_state_to_string(shown), "operator", r->operator_,
                         "hosts", strv_json(r->hosts), "user", r->user, "reason", r->reason,
                         "ticket", r->ticket, "duration_s", (json_int_t) r->duration_s,
                         "approvals_required", (json_int_t) r->approvals_required, "approvers",
                         strv_json(r->approvers), "approvals", approvals, "created_at",
                         time_or_null(r->created_at), "pending_expires_at",
                         time_or_null(r->pending_expires_at), "approved_at",
                         time_or_null(r->approved_at), "not_after", time_or_null(r->not_after),
                         "remaining_s", remaining, "ended_at", time_or_null(r->ended_at),
                         "ended_by", str_or_null(r->ended_by), "end_reason",
                         str_or_null(r->end_reason));
}

json_t *lb_request_to_json(const struct lb_request *r, int64_t now) {
        enum lb_state shown = lb_lc_effective_state(r, now);
        json_t *rem = shown == LB_STATE_APPROVED ? json_integer(lb_lc_remaining(r, now))
                                                 : json_null();
        json_t *j = request_json(r, shown, rem);
        /* an expiry the timer has not written yet: show it as it will be */
        if (j && shown == LB_STATE_EXPIRED && r->state != LB_STATE_EXPIRED) {
                int64_t at = r->state == LB_STATE_PENDING ? r->pending_expires_at : r->not_after;
                json_object_set_new(j, "ended_at", time_or_null(at));
                json_object_set_new(j, "ended_by", json_string("lockboxd"));
                json_object_set_new(j, "end_reason", json_string(r->state == LB_STATE_PENDING
                                                                         ? "pending_ttl"
                                                                         : "duration"));
        }
        return j;
}

json_t *lb_request_to_store_json(const struct lb_request *r) {
        json_t *j = request_json(r, r->state, json_null());
        if (j)
                json_object_del(j, "remaining_s");
        return j;
}

static int get_time(json_t *j, const char *key, int64_t *ret) {
        json_t *v = json_object_get(j, key);
        if (!v || json_is_null(v)) {
                *ret = 0;
                return 0;
        }
        if (!json_is_string(v))
                return -EBADMSG;
        return lb_time_parse(json_string_value(v), ret) < 0 ? -EBADMSG : 0;
}

static int get_str(json_t *j, const char *key, bool nullable, char **ret) {
        json_t *v = json_object_get(j, key);
        if (!v || json_is_null(v)) {
                if (!nullable)
                        return -EBADMSG;
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return -EBADMSG;
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

static int get_strv(json_t *j, const char *key, char ***ret) {
        json_t *a = json_object_get(j, key), *v;
        size_t i;
        char **out;

        if (!json_is_array(a))
                return -EBADMSG;
        out = calloc(json_array_size(a) + 1, sizeof(char *));
        if (!out)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v) || !(out[i] = strdup(json_string_value(v)))) {
                        lb_strv_free(out);
                        return -EBADMSG;
                }
        }
        *ret = out;
        return 0;
}

int lb_request_from_json(json_t *j, struct lb_request **ret) {
        struct lb_request *r;
        json_t *a, *v;
        size_t i;
        int rr;

        if (!json_is_object(j))
                return -EBADMSG;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->state = lb_state_from_string(json_string_value(json_object_get(j, "state")));
        if (r->state == LB_STATE_INVALID) {
                rr = -EBADMSG;
                goto fail;
        }
        if ((rr = get_str(j, "id", false, &r->id)) < 0 ||
            (rr = get_str(j, "operator", false, &r->operator_)) < 0 ||
            (rr = get_strv(j, "hosts", &r->hosts)) < 0 ||
            (rr = get_str(j, "user", false, &r->user)) < 0 ||
            (rr = get_str(j, "reason", false, &r->reason)) < 0 ||
            (rr = get_str(j, "ticket", false, &r->ticket)) < 0 ||
            (rr = get_strv(j, "approvers", &r->approvers)) < 0 ||
            (rr = get_time(j, "created_at", &r->created_at)) < 0 ||
            (rr = get_time(j, "pending_expires_at", &r->pending_expires_at)) < 0 ||
            (rr = get_time(j, "approved_at", &r->approved_at)) < 0 ||
            (rr = get_time(j, "not_after", &r->not_after)) < 0 ||
            (rr = get_time(j, "ended_at", &r->ended_at)) < 0 ||
            (rr = get_str(j, "ended_by", true, &r->ended_by)) < 0 ||
            (rr = get_str(j, "end_reason", true, &r->end_reason)) < 0)
                goto fail;
        v = json_object_get(j, "duration_s");
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
                rr = -EBADMSG;
                goto fail;
        }
        r->duration_s = (uint64_t) json_integer_value(v);
        v = json_object_get(j, "approvals_required");
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100) {
                rr = -EBADMSG;
                goto fail;
        }
        r->approvals_required = (unsigned) json_integer_value(v);
        a = json_object_get(j, "approvals");
        if (!json_is_array(a)) {
                rr = -EBADMSG;
                goto fail;
        }
        r->approvals = calloc(json_array_size(a) + 1, sizeof(struct lb_approval));
        if (!r->approvals) {
                rr = -ENOMEM;
                goto fail;
        }
        json_array_foreach(a, i, v) {
                struct lb_approval *ap = &r->approvals[r->n_approvals++];
                if ((rr = get_str(v, "by", false, &ap->by)) < 0 ||
                    (rr = get_time(v, "at", &ap->at)) < 0 ||
                    (rr = get_str(v, "comment", true, &ap->comment)) < 0)
                        goto fail;
        }
        *ret = r;
        return 0;
fail:
        lb_request_free(r);
        return rr;
}

int lb_request_dup(const struct lb_request *r, struct lb_request **ret) {
        json_auto_t *j = lb_request_to_store_json(r);
        if (!j)
                return -ENOMEM;
        return lb_request_from_json(j, ret);
}
