/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A request as the broker keeps it (docs/API.md "Request object"). Times are
 * seconds since the epoch, 0 meaning "not set" (null in JSON). */

enum lb_state {
        LB_STATE_PENDING,
        LB_STATE_APPROVED,
        LB_STATE_DENIED,
        LB_STATE_EXPIRED,
        LB_STATE_WITHDRAWN,
        LB_STATE_REVOKED,
        LB_STATE_COMPLETED,
        _LB_STATE_MAX,
        LB_STATE_INVALID = -1,
};

const char *lb_state_to_string(enum lb_state s);
enum lb_state lb_state_from_string(const char *s);
bool lb_state_terminal(enum lb_state s);

struct lb_approval {
        char *by;
        int64_t at;
        char *comment; /* may be NULL */
};

struct lb_request {
        char *id;
        enum lb_state state;
        char *operator_;
        char **hosts;          /* NULL-terminated */
        char *user;
        char *reason;
        char *ticket;
        uint64_t duration_s;
        unsigned approvals_required;
        char **approvers;      /* NULL-terminated, fixed at creation */
        struct lb_approval *approvals;
        size_t n_approvals;
        int64_t created_at;
        int64_t pending_expires_at;
        int64_t approved_at;
        int64_t not_after;
        int64_t ended_at;
        char *ended_by;
        char *end_reason;
};

void lb_request_free(struct lb_request *r);
static inline void lb_request_freep(struct lb_request **r) {
        lb_request_free(*r);
}
#define _cleanup_request_ __attribute__((cleanup(lb_request_freep)))

/* The API form. remaining_s is computed against now (null unless approved and
 * unexpired at now). The state is shown as lb_lc_effective_state(now). */
json_t *lb_request_to_json(const struct lb_request *r, int64_t now);
/* The stored form: the API form without remaining_s, state as stored. */
json_t *lb_request_to_store_json(const struct lb_request *r);
/* Parse the stored (or API) form. -EBADMSG if malformed. */
int lb_request_from_json(json_t *j, struct lb_request **ret);
int lb_request_dup(const struct lb_request *r, struct lb_request **ret);
bool lb_request_has_host(const struct lb_request *r, const char *host);
