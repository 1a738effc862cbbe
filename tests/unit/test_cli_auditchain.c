/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl audit --verify: the client-side hash chain check (docs/API.md). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "auditchain.h"
#include "chain.h"
#include "util.h"

/* A valid trail of n events made the way docs/API.md says the broker does. */
static json_t *make_trail(int n) {
        static const char *const omit[] = { "prev", "hash", NULL };
        json_t *events = json_array();
        char prev[LB_CHAIN_HEX_LEN + 1] = LB_CHAIN_ZERO, hash[LB_CHAIN_HEX_LEN + 1];

        for (int i = 1; i <= n; i++) {
                json_t *e = json_pack("{s:i, s:s, s:s, s:s, s:n, s:s, s:s, s:s, s:{s:s, s:i}}",
                                      "seq", i, "time", "2026-11-22T10:00:00Z",
                                      "type", i == 1 ? "Create" : "Approve", "request", "r-1a2b3c4d5e6f",
                                      "session", "actor", "alice", "role", "operator", "from", "unix:uid=1001",
                                      "detail", "reason", "'; DROP TABLE requests; -- é\x1b", "n", i);
                ck_assert_ptr_nonnull(e);
                json_object_set_new(e, "prev", json_string(prev));
                ck_assert_int_eq(lb_chain_hash(prev, e, omit, hash), 0);
                json_object_set_new(e, "hash", json_string(hash));
                json_array_append_new(events, e);
                memcpy(prev, hash, sizeof(prev));
        }
        return json_pack("{s:o, s:{s:i, s:s}}", "events", events, "head", "seq", n, "hash", prev);
}

static json_t *event(json_t *trail, size_t i) {
        return json_array_get(json_object_get(trail, "events"), i);
}

static const char *verify(json_t *trail, struct lb_audit_verifier *v) {
        lb_audit_verifier_init(v);
        if (lb_audit_verify_trail(v, trail) == 0)
                return NULL;
        ck_assert_ptr_nonnull(v->problem);
        return v->problem;
}

START_TEST(test_ok) {
        struct lb_audit_verifier v;
        json_t *t = make_trail(5);

        ck_assert_ptr_null(verify(t, &v));
        ck_assert_uint_eq(v.count, 5);
        ck_assert_uint_eq(v.last_seq, 5);
        ck_assert_str_eq(v.last_hash, json_string_value(json_object_get(json_object_get(t, "head"), "hash")));
        lb_audit_verifier_done(&v);
        json_decref(t);

        /* an empty trail with head seq 0 is fine */
        t = json_pack("{s:[], s:{s:i, s:s}}", "events", "head", "seq", 0, "hash", LB_CHAIN_ZERO);
        ck_assert_ptr_null(verify(t, &v));
        ck_assert_uint_eq(v.count, 0);
        lb_audit_verifier_done(&v);
        json_decref(t);
}
END_TEST

START_TEST(test_altered) {
        struct lb_audit_verifier v;
        json_t *t = make_trail(5);

        /* somebody edits the actor of event 3 in the store */
        json_object_set_new(event(t, 2), "actor", json_string("mallory"));
        ck_assert_str_eq(verify(t, &v), "break at seq 3: its hash does not match its content (altered)");
        ck_assert_uint_eq(v.problem_seq, 3);
        ck_assert_uint_eq(v.count, 2);
        lb_audit_verifier_done(&v);
        json_decref(t);

        /* ... and recomputes its hash: then seq 4 no longer links to it */
        t = make_trail(5);
        {
                static const char *const omit[] = { "prev", "hash", NULL };
                char h[LB_CHAIN_HEX_LEN + 1];
                json_t *e = event(t, 2);
                json_object_set_new(e, "actor", json_string("mallory"));
                ck_assert_int_eq(lb_chain_hash(json_string_value(json_object_get(e, "prev")), e, omit, h), 0);
                json_object_set_new(e, "hash", json_string(h));
        }
        ck_assert_str_eq(verify(t, &v), "break at seq 4: prev is not the hash of seq 3");
        lb_audit_verifier_done(&v);
        json_decref(t);

        /* nested detail counts too */
        t = make_trail(3);
        json_object_set_new(json_object_get(event(t, 0), "detail"), "n", json_integer(99));
        ck_assert_str_eq(verify(t, &v), "break at seq 1: its hash does not match its content (altered)");
        lb_audit_verifier_done(&v);
        json_decref(t);
}
END_TEST

START_TEST(test_gaps) {
        struct lb_audit_verifier v;
        json_t *t = make_trail(5);

        json_array_remove(json_object_get(t, "events"), 2);
        ck_assert_str_eq(verify(t, &v), "gap: seq 4 follows seq 2 (1 missing)");
        lb_audit_verifier_done(&v);
        json_decref(t);

        t = make_trail(3);
        json_array_remove(json_object_get(t, "events"), 0);
        ck_assert_str_eq(verify(t, &v), "gap: the trail starts at seq 2, not 1");
        lb_audit_verifier_done(&v);
        json_decref(t);

        /* the last events dropped: the head gives it away */
        t = make_trail(4);
        json_array_remove(json_object_get(t, "events"), 3);
        ck_assert_str_eq(verify(t, &v), "the head says seq 4 but the events end at seq 3");
        lb_audit_verifier_done(&v);
        json_decref(t);

        /* a repeated event */
        t = make_trail(3);
        json_array_insert(json_object_get(t, "events"), 2, event(t, 1));
        ck_assert_str_eq(verify(t, &v), "seq 2 comes again or out of order after seq 2");
        lb_audit_verifier_done(&v);
        json_decref(t);
}
END_TEST

START_TEST(test_bad_shapes) {
        struct lb_audit_verifier v;
        json_t *t = make_trail(2);

        json_object_set_new(event(t, 0), "prev", json_string("00"));
        ck_assert_str_eq(verify(t, &v), "break at seq 1: prev or hash is not 64 hex digits");
        lb_audit_verifier_done(&v);
        json_decref(t);

        t = make_trail(2);
        json_object_set_new(event(t, 0), "prev",
                            json_string("1111111111111111111111111111111111111111111111111111111111111111"));
        ck_assert_str_eq(verify(t, &v), "break at seq 1: prev is not 64 zeros");
        lb_audit_verifier_done(&v);
        json_decref(t);

        t = make_trail(2);
        json_object_set_new(event(t, 1), "seq", json_string("2"));
        ck_assert_str_eq(verify(t, &v), "the event after seq 1 has no valid seq");
        lb_audit_verifier_done(&v);
        json_decref(t);

        t = json_pack("{s:{}}", "events");
        ck_assert_str_eq(verify(t, &v), "the answer has no \"events\" list");
        lb_audit_verifier_done(&v);
        json_decref(t);

        t = make_trail(2);
        json_object_set_new(json_object_get(t, "head"), "hash", json_string(LB_CHAIN_ZERO));
        ck_assert_str_eq(verify(t, &v), "the head's hash is not the hash of seq 2");
        lb_audit_verifier_done(&v);
        json_decref(t);
}
END_TEST

START_TEST(test_pages) {
        /* fed page by page, the result is the same as all at once */
        struct lb_audit_verifier v;
        json_t *t = make_trail(7);

        lb_audit_verifier_init(&v);
        for (size_t i = 0; i < 7; i++)
                ck_assert_int_eq(lb_audit_verify_event(&v, event(t, i)), 0);
        ck_assert_int_eq(lb_audit_verify_head(&v, json_object_get(t, "head")), 0);
        ck_assert_uint_eq(v.count, 7);
        /* a problem sticks */
        ck_assert_int_eq(lb_audit_verify_event(&v, event(t, 0)), -EBADMSG);
        ck_assert_int_eq(lb_audit_verify_event(&v, event(t, 0)), -EBADMSG);
        ck_assert_str_eq(v.problem, "seq 1 comes again or out of order after seq 7");
        lb_audit_verifier_done(&v);
        json_decref(t);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("cli-auditchain");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_ok);
        tcase_add_test(tc, test_altered);
        tcase_add_test(tc, test_gaps);
        tcase_add_test(tc, test_bad_shapes);
        tcase_add_test(tc, test_pages);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
