/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request lifecycle (DESIGN §3) with an injected clock: every allowed and
 * every forbidden transition, eligibility fixed at creation, no self-approval,
 * quorum, pending and access expiry. Pure: no store, no clock, no network. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "lifecycle.h"
#include "util.h"

#define T0 1795341600 /* 2026-11-22T10:00:00Z */

static struct lb_policy policy;
static char *hosts[] = { "web1", NULL };
static char *members[] = { "alice", "bob", "carol", NULL };

static struct lb_request *make(unsigned approvals, uint64_t duration) {
        struct lb_create_input in = { .operator_ = "alice", .hosts = hosts, .user = "vendor",
                                      .reason = "disk full", .ticket = "INC-1",
                                      .duration_s = duration, .approvals_required = approvals };
        struct lb_request *r = NULL;
        char *detail = NULL;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-000000000001", members, T0, &r, &detail), 0);
        ck_assert_ptr_null(detail);
        return r;
}

static void setup(void) {
        lb_policy_init(&policy);
}

enum action { A_APPROVE, A_DENY, A_REVOKE, A_WITHDRAW, A_COMPLETE, A_KEY, _A_MAX };
static const char *const action_names[] = { "approve", "deny", "revoke", "withdraw", "complete",
                                            "key" };

/* A request in the given state, at time T0 + 100. */
static struct lb_request *in_state(enum lb_state s) {
        struct lb_request *r = make(1, 3600);
        char *d = NULL;
        switch (s) {
        case LB_STATE_PENDING:
                break;
        case LB_STATE_APPROVED:
                ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 10, &d), 1);
                break;
        case LB_STATE_DENIED:
                ck_assert_int_eq(lb_lc_deny(r, "bob", "no", T0 + 10, &d), 0);
                break;
        case LB_STATE_EXPIRED:
                ck_assert_int_eq(lb_lc_expire(r, T0 + (int64_t) policy.pending_ttl), 1);
                break;
        case LB_STATE_WITHDRAWN:
                ck_assert_int_eq(lb_lc_withdraw(r, "alice", T0 + 10, &d), 0);
                break;
        case LB_STATE_REVOKED:
                ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 10, &d), 1);
                ck_assert_int_eq(lb_lc_revoke(r, "carol", false, "stop", T0 + 20, &d), 0);
                break;
        case LB_STATE_COMPLETED:
                ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 10, &d), 1);
                ck_assert_int_eq(lb_lc_complete(r, "alice", T0 + 20, &d), 0);
                break;
        default:
                ck_abort();
        }
        free(d);
        ck_assert_int_eq(r->state, s);
        return r;
}

static int act(struct lb_request *r, enum action a, int64_t now, char **d) {
        switch (a) {
        case A_APPROVE:
                return lb_lc_approve(r, "carol", "fine", now, d);
        case A_DENY:
                return lb_lc_deny(r, "carol", "no", now, d);
        case A_REVOKE:
                return lb_lc_revoke(r, "carol", false, "stop", now, d);
        case A_WITHDRAW:
                return lb_lc_withdraw(r, "alice", now, d);
        case A_COMPLETE:
                return lb_lc_complete(r, "alice", now, d);
        case A_KEY:
                return lb_lc_can_register_key(r, "alice", now, d);
        default:
                return -EINVAL;
        }
}

/* Every (state, action) pair: allowed ones reach the right state, forbidden
 * ones answer -EBUSY (409) with a detail and leave the request unchanged. */
START_TEST(test_transition_table) {
        static const struct {
                enum lb_state from;
                enum action a;
                enum lb_state to; /* LB_STATE_INVALID: refused */
        } table[] = {
                { LB_STATE_PENDING, A_APPROVE, LB_STATE_APPROVED },
                { LB_STATE_PENDING, A_DENY, LB_STATE_DENIED },
                { LB_STATE_PENDING, A_REVOKE, LB_STATE_INVALID },
                { LB_STATE_PENDING, A_WITHDRAW, LB_STATE_WITHDRAWN },
                { LB_STATE_PENDING, A_COMPLETE, LB_STATE_INVALID },
                { LB_STATE_PENDING, A_KEY, LB_STATE_INVALID },
                { LB_STATE_APPROVED, A_APPROVE, LB_STATE_INVALID },
                { LB_STATE_APPROVED, A_DENY, LB_STATE_INVALID },
                { LB_STATE_APPROVED, A_REVOKE, LB_STATE_REVOKED },
                { LB_STATE_APPROVED, A_WITHDRAW, LB_STATE_INVALID },
                { LB_STATE_APPROVED, A_COMPLETE, LB_STATE_COMPLETED },
                { LB_STATE_APPROVED, A_KEY, LB_STATE_APPROVED },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                struct lb_request *r = in_state(table[i].from);
                char *d = NULL;
                int e = act(r, table[i].a, T0 + 100, &d);
                if (table[i].to == LB_STATE_INVALID) {
                        ck_assert_msg(e == -EBUSY, "%s on %s: got %d", action_names[table[i].a],
                                      lb_state_to_string(table[i].from), e);
                        ck_assert_ptr_nonnull(d);
                        ck_assert_int_eq(r->state, table[i].from);
                } else {
                        ck_assert_msg(e >= 0, "%s on %s refused: %s", action_names[table[i].a],
                                      lb_state_to_string(table[i].from), strna(d));
                        ck_assert_int_eq(r->state, table[i].to);
                }
                free(d);
                lb_request_free(r);
        }
        /* terminal states never change, whatever is asked */
        for (enum lb_state s = LB_STATE_DENIED; s < _LB_STATE_MAX; s++)
                for (enum action a = 0; a < _A_MAX; a++) {
                        struct lb_request *r = in_state(s);
                        char *d = NULL;
                        int64_t ended = r->ended_at;
                        ck_assert_msg(act(r, a, T0 + 100, &d) == -EBUSY, "%s on %s allowed",
                                      action_names[a], lb_state_to_string(s));
                        ck_assert_ptr_nonnull(d);
                        ck_assert_int_eq(r->state, s);
                        ck_assert_int_eq(r->ended_at, ended);
                        ck_assert_int_eq(lb_lc_expire(r, T0 + 100 * 86400), 0);
                        ck_assert_int_eq(r->state, s);
                        free(d);
                        lb_request_free(r);
                }
}
END_TEST

START_TEST(test_create_rules) {
        struct lb_create_input in = { .operator_ = "alice", .hosts = hosts, .user = "vendor",
                                      .reason = "x", .ticket = "T" };
        struct lb_request *r = NULL;
        char *d = NULL;

        /* default duration; the operator is never an approver */
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-1", members, T0, &r, &d), 0);
        ck_assert_uint_eq(r->duration_s, 4 * 3600);
        ck_assert_uint_eq(r->approvals_required, 1);
        ck_assert(!lb_strv_contains(r->approvers, "alice"));
        ck_assert(lb_strv_contains(r->approvers, "bob") && lb_strv_contains(r->approvers, "carol"));
        ck_assert_int_eq(r->pending_expires_at, T0 + 4 * 86400);
        ck_assert_int_eq(r->approved_at, 0);
        ck_assert_int_eq(r->not_after, 0);
        lb_request_free(r);

        /* capped by max_duration */
        in.duration_s = 24 * 3600;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-2", members, T0, &r, &d), 0);
        ck_assert_uint_eq(r->duration_s, 8 * 3600);
        lb_request_free(r);

        /* below min_duration: refused, naming the field */
        in.duration_s = 10;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-3", members, T0, &r, &d), -EINVAL);
        ck_assert_ptr_nonnull(strstr(d, "duration_s"));
        free(d);
        d = NULL;
        in.duration_s = 0;

        /* a request may raise approvals_required, never lower it */
        policy.approvals_required = 2;
        in.approvals_required = 1;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-4", members, T0, &r, &d), 0);
        ck_assert_uint_eq(r->approvals_required, 2);
        lb_request_free(r);
        policy.approvals_required = 1;
        in.approvals_required = 2;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-5", members, T0, &r, &d), 0);
        ck_assert_uint_eq(r->approvals_required, 2);
        lb_request_free(r);

        /* more approvals than eligible approvers: refused (it could never be approved) */
        in.approvals_required = 3;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-6", members, T0, &r, &d), -EBUSY);
        ck_assert_ptr_nonnull(d);
        free(d);
}
END_TEST

START_TEST(test_approvers_fixed_at_creation) {
        struct lb_request *r = make(1, 3600);
        char *d = NULL;

        /* dave joined the approver group after the request was made */
        ck_assert_int_eq(lb_lc_approve(r, "dave", NULL, T0 + 5, &d), -EPERM);
        ck_assert_ptr_nonnull(strstr(d, "not an eligible approver"));
        ck_assert_int_eq(r->state, LB_STATE_PENDING);
        ck_assert_uint_eq(r->n_approvals, 0);
        free(d);
        d = NULL;
        ck_assert_int_eq(lb_lc_deny(r, "dave", "no", T0 + 5, &d), -EPERM);
        free(d);
        d = NULL;
        ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 5, &d), 1);
        ck_assert_int_eq(lb_lc_revoke(r, "dave", false, "x", T0 + 6, &d), -EPERM);
        free(d);
        d = NULL;
        /* an admin may revoke without being an approver */
        ck_assert_int_eq(lb_lc_revoke(r, "root", true, "incident", T0 + 7, &d), 0);
        ck_assert_int_eq(r->state, LB_STATE_REVOKED);
        ck_assert_str_eq(r->ended_by, "root");
        lb_request_free(r);
}
END_TEST

START_TEST(test_self_approval) {
        struct lb_request *r = make(1, 3600);
        char *d = NULL;
        /* alice is in the approver group too, but is the requester */
        ck_assert_int_eq(lb_lc_approve(r, "alice", NULL, T0 + 1, &d), -EPERM);
        ck_assert_ptr_nonnull(strstr(d, "requester"));
        free(d);
        d = NULL;
        ck_assert_int_eq(lb_lc_deny(r, "alice", "x", T0 + 1, &d), -EPERM);
        free(d);
        d = NULL;
        ck_assert_int_eq(r->state, LB_STATE_PENDING);
        /* and nobody but the requester withdraws or completes */
        ck_assert_int_eq(lb_lc_withdraw(r, "bob", T0 + 1, &d), -EPERM);
        free(d);
        d = NULL;
        ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 1, &d), 1);
        ck_assert_int_eq(lb_lc_complete(r, "carol", T0 + 2, &d), -EPERM);
        free(d);
        d = NULL;
        ck_assert_int_eq(lb_lc_can_register_key(r, "bob", T0 + 2, &d), -EPERM);
        free(d);
        lb_request_free(r);
}
END_TEST

START_TEST(test_quorum_of_two) {
        struct lb_request *r = make(2, 3600);
        char *d = NULL;

        ck_assert_int_eq(lb_lc_approve(r, "bob", "one", T0 + 60, &d), 0);
        ck_assert_int_eq(r->state, LB_STATE_PENDING);
        ck_assert_int_eq(r->approved_at, 0);
        /* the same approver twice does not make two */
        ck_assert_int_eq(lb_lc_approve(r, "bob", "again", T0 + 61, &d), -EBUSY);
        free(d);
        d = NULL;
        ck_assert_int_eq(r->state, LB_STATE_PENDING);
        ck_assert_int_eq(lb_lc_approve(r, "carol", "two", T0 + 120, &d), 1);
        ck_assert_int_eq(r->state, LB_STATE_APPROVED);
        ck_assert_uint_eq(r->n_approvals, 2);
        /* the clock starts at the approval that reached the quorum */
        ck_assert_int_eq(r->approved_at, T0 + 120);
        ck_assert_int_eq(r->not_after, T0 + 120 + 3600);
        lb_request_free(r);
}
END_TEST

START_TEST(test_pending_expiry) {
        struct lb_request *r = make(1, 3600);
        int64_t ttl = (int64_t) policy.pending_ttl;
        char *d = NULL;

        ck_assert_int_eq(lb_lc_effective_state(r, T0 + ttl - 1), LB_STATE_PENDING);
        ck_assert_int_eq(lb_lc_expire(r, T0 + ttl - 1), 0);
        ck_assert_int_eq(lb_lc_effective_state(r, T0 + ttl), LB_STATE_EXPIRED);
        /* an approval after the deadline is refused even before the timer ran */
        ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + ttl, &d), -EBUSY);
        free(d);
        ck_assert_int_eq(r->state, LB_STATE_PENDING);
        ck_assert_int_eq(lb_lc_next_deadline(r), T0 + ttl);
        ck_assert_int_eq(lb_lc_expire(r, T0 + ttl + 5), 1);
        ck_assert_int_eq(r->state, LB_STATE_EXPIRED);
        ck_assert_str_eq(r->end_reason, "pending_ttl");
        ck_assert_str_eq(r->ended_by, "lockboxd");
        ck_assert_int_eq(r->ended_at, T0 + ttl);
        ck_assert_int_eq(lb_lc_next_deadline(r), 0);
        lb_request_free(r);
}
END_TEST

START_TEST(test_access_expiry) {
        struct lb_request *r = make(1, 600);
        char *d = NULL;

        ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 1000, &d), 1);
        ck_assert_int_eq(lb_lc_remaining(r, T0 + 1000), 600);
        ck_assert_int_eq(lb_lc_remaining(r, T0 + 1599), 1);
        ck_assert_int_eq(lb_lc_effective_state(r, T0 + 1599), LB_STATE_APPROVED);
        ck_assert_int_eq(lb_lc_effective_state(r, T0 + 1600), LB_STATE_EXPIRED);
        ck_assert_int_eq(lb_lc_remaining(r, T0 + 1600), 0);
        /* past not_after: no keys, no completion */
        ck_assert_int_eq(lb_lc_can_register_key(r, "alice", T0 + 1600, &d), -EBUSY);
        free(d);
        d = NULL;
        ck_assert_int_eq(lb_lc_revoke(r, "bob", false, "x", T0 + 1600, &d), -EBUSY);
        free(d);
        ck_assert_int_eq(lb_lc_expire(r, T0 + 1700), 1);
        ck_assert_str_eq(r->end_reason, "duration");
        ck_assert_int_eq(r->ended_at, T0 + 1600);
        lb_request_free(r);
}
END_TEST

START_TEST(test_deny_and_revoke_need_reason) {
        struct lb_request *r = make(2, 3600);
        char *d = NULL;
        ck_assert_int_eq(lb_lc_deny(r, "bob", "", T0 + 1, &d), -EINVAL);
        free(d);
        d = NULL;
        /* one approval does not stop a denial by another approver */
        ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 2, &d), 0);
        ck_assert_int_eq(lb_lc_deny(r, "carol", "not now", T0 + 3, &d), 0);
        ck_assert_int_eq(r->state, LB_STATE_DENIED);
        ck_assert_str_eq(r->end_reason, "not now");
        ck_assert_str_eq(r->ended_by, "carol");
        lb_request_free(r);
}
END_TEST

/* Fuzz finding: pending_ttl and durations had no upper bound and the
 * lifecycle added them to now with a signed add that overflowed. Every such
 * sum is checked: a time that does not fit is refused (-ERANGE), never
 * wrapped, and the request is left as it was. */
START_TEST(test_time_overflow) {
        struct lb_create_input in = { .operator_ = "alice", .hosts = hosts, .user = "vendor",
                                      .reason = "r", .ticket = "t" };
        struct lb_request *r = NULL;
        char *d = NULL;

        policy.pending_ttl = UINT64_MAX;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-000000000001", members, T0, &r, &d), -ERANGE);
        ck_assert_ptr_null(r);
        ck_assert_ptr_nonnull(d);
        free(d);
        d = NULL;
        policy.pending_ttl = LB_PENDING_TTL_LIMIT;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-000000000001", members, INT64_MAX - 10, &r, &d),
                         -ERANGE);
        ck_assert_ptr_null(r);
        free(d);
        d = NULL;
        policy.max_duration = UINT64_MAX;
        ck_assert_int_eq(lb_lc_create(&policy, &in, "r-000000000001", members, T0, &r, &d), -ERANGE);
        free(d);
        d = NULL;
        lb_policy_init(&policy);

        /* a duration from the store that does not fit: approval refused, unchanged */
        r = make(1, 3600);
        r->duration_s = UINT64_MAX;
        ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 10, &d), -ERANGE);
        ck_assert_ptr_nonnull(d);
        free(d);
        d = NULL;
        ck_assert_int_eq(r->state, LB_STATE_PENDING);
        ck_assert_uint_eq(r->n_approvals, 0);
        ck_assert_int_eq(r->not_after, 0);
        r->duration_s = (uint64_t) INT64_MAX;
        ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 10, &d), -ERANGE);
        free(d);
        d = NULL;
        ck_assert_int_eq(r->not_after, 0);
        /* the largest allowed duration fits */
        r->duration_s = LB_DURATION_LIMIT;
        ck_assert_int_eq(lb_lc_approve(r, "bob", NULL, T0 + 10, &d), 1);
        ck_assert_int_eq(r->not_after, T0 + 10 + LB_DURATION_LIMIT);
        lb_request_free(r);
}
END_TEST

START_TEST(test_json_round_trip) {
        struct lb_request *r = make(2, 3600), *back = NULL;
        char *d = NULL;
        json_t *j, *api;
        ck_assert_int_eq(lb_lc_approve(r, "bob", "ok \"quoted\"", T0 + 5, &d), 0);
        j = lb_request_to_store_json(r);
        ck_assert_int_eq(lb_request_from_json(j, &back), 0);
        ck_assert_str_eq(back->id, r->id);
        ck_assert_uint_eq(back->n_approvals, 1);
        ck_assert_str_eq(back->approvals[0].comment, "ok \"quoted\"");
        ck_assert_int_eq(back->approvals[0].at, T0 + 5);
        ck_assert_int_eq(back->pending_expires_at, r->pending_expires_at);
        api = lb_request_to_json(r, T0 + (int64_t) policy.pending_ttl);
        /* the answer is never stale: past the deadline it reads as expired */
        ck_assert_str_eq(json_string_value(json_object_get(api, "state")), "expired");
        ck_assert_str_eq(json_string_value(json_object_get(api, "end_reason")), "pending_ttl");
        json_decref(api);
        json_decref(j);
        lb_request_free(back);
        lb_request_free(r);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("broker_lifecycle");
        TCase *tc = tcase_create("lifecycle");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, test_transition_table);
        tcase_add_test(tc, test_create_rules);
        tcase_add_test(tc, test_approvers_fixed_at_creation);
        tcase_add_test(tc, test_self_approval);
        tcase_add_test(tc, test_quorum_of_two);
        tcase_add_test(tc, test_pending_expiry);
        tcase_add_test(tc, test_access_expiry);
        tcase_add_test(tc, test_deny_and_revoke_need_reason);
        tcase_add_test(tc, test_json_round_trip);
        tcase_add_test(tc, test_time_overflow);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(suite());
        int failed;
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
