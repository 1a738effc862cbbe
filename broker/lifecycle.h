/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "request.h"

/* The request lifecycle of DESIGN §3, pure: no I/O, no clock of its own. Every
 * function takes `now` (seconds since the epoch) from the caller, so tests
 * drive time by hand. On refusal a function returns
 *   -EINVAL   bad input (HTTP 400)
 *   -EPERM    the actor may not do this (HTTP 403)
 *   -EBUSY    wrong state (HTTP 409)
 *   -ERANGE   a time that does not fit (the clock or a stored duration is
 *             out of range; never wrapped)
 * and sets *ret_detail (malloc'd) to a sentence naming the problem. The
 * request is changed only on success. */

/* Upper bounds of the policy (lockboxd.conf refuses more): access for at most
 * a week, a request left pending for at most 30 days. */
#define LB_DURATION_LIMIT (7 * 24 * 3600)
#define LB_PENDING_TTL_LIMIT (30 * 24 * 3600)

struct lb_policy {
        uint64_t pending_ttl;        /* seconds */
        uint64_t default_duration;
        uint64_t max_duration;
        uint64_t min_duration;
        unsigned approvals_required; /* the floor */
};

void lb_policy_init(struct lb_policy *p);

struct lb_create_input {
        const char *operator_;
        char *const *hosts;          /* NULL-terminated, >= 1 */
        const char *user;
        const char *reason;
        const char *ticket;
        uint64_t duration_s;         /* 0: default */
        unsigned approvals_required; /* 0: the floor */
};

/* Make a pending request. `group_members` are the members of approver_group
 * now; the operator is left out. */
int lb_lc_create(const struct lb_policy *p, const struct lb_create_input *in, const char *id,
                 char *const *group_members, int64_t now, struct lb_request **ret,
                 char **ret_detail);

/* The state as it is at `now`: a pending request past pending_expires_at or an
 * approved one past not_after reads as expired even before the timer wrote it. */
enum lb_state lb_lc_effective_state(const struct lb_request *r, int64_t now);
/* Seconds of access left at now (0 when not approved or past not_after). */
int64_t lb_lc_remaining(const struct lb_request *r, int64_t now);
/* Is it due to expire at now? Returns 1 and moves it to expired (end_reason
 * "pending_ttl" or "duration", ended_by "lockboxd"), 0 when nothing is due. */
int lb_lc_expire(struct lb_request *r, int64_t now);
/* The next time this request needs the timer, or 0. */
int64_t lb_lc_next_deadline(const struct lb_request *r);

/* Returns 0 when an approval was recorded and the request stays pending, 1
 * when the quorum was reached (now approved). */
int lb_lc_approve(struct lb_request *r, const char *actor, const char *comment, int64_t now,
                  char **ret_detail);
int lb_lc_deny(struct lb_request *r, const char *actor, const char *reason, int64_t now,
               char **ret_detail);
/* is_admin: admins may revoke without being eligible approvers. */
int lb_lc_revoke(struct lb_request *r, const char *actor, bool is_admin, const char *reason,
                 int64_t now, char **ret_detail);
int lb_lc_withdraw(struct lb_request *r, const char *actor, int64_t now, char **ret_detail);
int lb_lc_complete(struct lb_request *r, const char *actor, int64_t now, char **ret_detail);
/* May actor register a key on r at now? (the operator, approved, unexpired) */
int lb_lc_can_register_key(const struct lb_request *r, const char *actor, int64_t now,
                           char **ret_detail);
