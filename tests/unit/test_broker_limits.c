/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The broker's limits, pure: connections per peer with a reserve for hosts,
 * and requests per minute per key (tokens, uids). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "limits.h"

START_TEST(test_per_peer_and_reserve) {
        struct lb_limits l;
        unsigned n = 0;

        ck_assert_int_eq(lb_limits_init(&l, 10, 4, 3), 0);
        /* one peer: at most per_peer */
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(lb_limits_take(&l, 1001, false), 0);
        ck_assert_int_eq(lb_limits_take(&l, 1001, false), -EUSERS);
        ck_assert_uint_eq(lb_limits_held(&l, 1001), 3);
        /* others share what is left of max_total - reserved (6) */
        ck_assert_int_eq(lb_limits_take(&l, 1002, false), 0);
        ck_assert_int_eq(lb_limits_take(&l, 1002, false), 0);
        ck_assert_int_eq(lb_limits_take(&l, 1003, false), 0);
        ck_assert_int_eq(lb_limits_take(&l, 1004, false), -EAGAIN);
        /* the reserve is for privileged peers, and they get it */
        for (int i = 0; i < 4; i++)
                ck_assert_int_eq(lb_limits_take(&l, 0, true), 0);
        ck_assert_int_eq(lb_limits_take(&l, 0, true), -EAGAIN); /* all 10 taken */
        /* giving back makes room again, for the right kind */
        lb_limits_release(&l, 1001, false);
        ck_assert_uint_eq(lb_limits_held(&l, 1001), 2);
        ck_assert_int_eq(lb_limits_take(&l, 1004, false), 0);
        lb_limits_release(&l, 0, true);
        ck_assert_int_eq(lb_limits_take(&l, 1005, false), -EAGAIN); /* a reserved slot */
        ck_assert_int_eq(lb_limits_take(&l, 991, true), 0);
        /* privileged peers are not limited per peer, only by the total */
        lb_limits_done(&l);
        ck_assert_int_eq(lb_limits_init(&l, 10, 4, 3), 0);
        while (lb_limits_take(&l, 0, true) == 0)
                n++;
        ck_assert_uint_eq(n, 10);
        lb_limits_done(&l);
        /* nonsense limits are refused */
        ck_assert_int_eq(lb_limits_init(&l, 10, 10, 3), -EINVAL);
        ck_assert_int_eq(lb_limits_init(&l, 10, 4, 0), -EINVAL);
}
END_TEST

START_TEST(test_many_peers) {
        struct lb_limits l;

        /* every slot a different peer, then all given back: nothing left over */
        ck_assert_int_eq(lb_limits_init(&l, 256, 32, 16), 0);
        for (uint32_t u = 0; u < 224; u++)
                ck_assert_int_eq(lb_limits_take(&l, 2000 + u, false), 0);
        ck_assert_int_eq(lb_limits_take(&l, 5000, false), -EAGAIN);
        for (uint32_t u = 0; u < 224; u++)
                lb_limits_release(&l, 2000 + u, false);
        ck_assert_uint_eq(l.total, 0);
        ck_assert_uint_eq(l.shared, 0);
        ck_assert_uint_eq(l.n_peers, 0);
        for (int i = 0; i < 16; i++)
                ck_assert_int_eq(lb_limits_take(&l, 7, false), 0);
        ck_assert_int_eq(lb_limits_take(&l, 7, false), -EUSERS);
        lb_limits_done(&l);
}
END_TEST

START_TEST(test_rate) {
        struct lb_rate r;
        uint64_t t = 1000000;

        ck_assert_int_eq(lb_rate_init(&r, 60), 0);
        /* a burst of a minute's worth, then refused */
        for (int i = 0; i < 60; i++)
                ck_assert_int_eq(lb_rate_take(&r, "token:t-1", t), 0);
        ck_assert_int_eq(lb_rate_take(&r, "token:t-1", t), -EAGAIN);
        /* another key has its own bucket */
        ck_assert_int_eq(lb_rate_take(&r, "unix:uid=1001", t), 0);
        /* one a second comes back */
        ck_assert_int_eq(lb_rate_take(&r, "token:t-1", t + 999), -EAGAIN);
        ck_assert_int_eq(lb_rate_take(&r, "token:t-1", t + 1000), 0);
        ck_assert_int_eq(lb_rate_take(&r, "token:t-1", t + 1000), -EAGAIN);
        /* a long pause refills to the full minute, not more */
        t += 3600 * 1000;
        for (int i = 0; i < 60; i++)
                ck_assert_int_eq(lb_rate_take(&r, "token:t-1", t), 0);
        ck_assert_int_eq(lb_rate_take(&r, "token:t-1", t), -EAGAIN);
        /* a clock that goes back does not refill */
        ck_assert_int_eq(lb_rate_take(&r, "token:t-1", t - 5000), -EAGAIN);
        lb_rate_done(&r);
        /* 0: no limit */
        ck_assert_int_eq(lb_rate_init(&r, 0), 0);
        for (int i = 0; i < 10000; i++)
                ck_assert_int_eq(lb_rate_take(&r, "k", t), 0);
        lb_rate_done(&r);
}
END_TEST

START_TEST(test_rate_table_full) {
        struct lb_rate r;
        char key[32];

        ck_assert_int_eq(lb_rate_init(&r, 2), 0);
        for (int i = 0; i < LB_RATE_KEYS; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                ck_assert_int_eq(lb_rate_take(&r, key, 1000), 0);
        }
        /* every key busy: a new one is not refused for what the others did */
        ck_assert_int_eq(lb_rate_take(&r, "new", 1000), 0);
        /* once their buckets are full again, they are forgotten and it is kept */
        ck_assert_int_eq(lb_rate_take(&r, "new", 1000 + 60000), 0);
        ck_assert_int_eq(lb_rate_take(&r, "new", 1000 + 60000), 0);
        ck_assert_int_eq(lb_rate_take(&r, "new", 1000 + 60000), -EAGAIN);
        lb_rate_done(&r);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("broker_limits");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_per_peer_and_reserve);
        tcase_add_test(tc, test_many_peers);
        tcase_add_test(tc, test_rate);
        tcase_add_test(tc, test_rate_table_full);
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
