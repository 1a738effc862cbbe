/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockbox-keys: the authorized_keys line it prints and which keys it prints. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "keys_line.h"
#include "timeutil.h"
#include "util.h"

#define B64A "AAAAC3NzaC1lZDI1NTE5AAAAIMEOl5iMblBfhFYRC7WyTMr7xet5Iaeyez6YRphvL+pr"
#define KEYA "ssh-ed25519 " B64A
#define FPA "SHA256:CdY3Ql8SZICDYXIPnQIQfTwDdOqQhh7iVtNlo8vDCqc"
#define B64B "AAAAC3NzaC1lZDI1NTE5AAAAIBAdoA45wmafdJaDoZ0+mfYRfSc5Xu7LcooNqaZizD03"
#define KEYB "ssh-ed25519 " B64B
#define FPB "SHA256:Dg6UQkGqYVK2M0o+9vUVQY5Xgg0aQJHgxriMNzriE58"
#define REC "/usr/libexec/lockbox/lockbox-record"

/* 2026-11-22T10:00:00Z */
#define NOW INT64_C(1795341600)

static struct lb_key key(const char *request, const char *pk, int64_t not_after, int64_t remaining) {
        return (struct lb_key) {
                .request = (char *) request,
                .public_key = (char *) pk,
                .fingerprint = (char *) "SHA256:ignored",
                .not_after = not_after,
                .remaining_s = remaining,
        };
}

START_TEST(test_line_exact) {
        struct lb_key k = key("r-1a2b3c4d5e6f", KEYA, NOW + 7200, 7200);
        char *line = NULL;

        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), 0);
        ck_assert_str_eq(line, "restrict,pty,expiry-time=\"20261122120000Z\",command=\"" REC "\" " KEYA
                               " lockbox:r-1a2b3c4d5e6f");
        free(line);

        /* a comment from the broker is dropped; the comment is ours */
        k.public_key = (char *) KEYA " evil\" comment";
        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), 0);
        ck_assert_str_eq(line, "restrict,pty,expiry-time=\"20261122120000Z\",command=\"" REC "\" " KEYA
                               " lockbox:r-1a2b3c4d5e6f");
        free(line);
}
END_TEST

START_TEST(test_expiry) {
        struct lb_key k = key("r-1", KEYA, NOW + 600, 600);
        int64_t t;
        char *line = NULL;

        /* the broker's remaining_s counts on the local clock */
        ck_assert_int_eq(lb_keys_expiry(&k, NOW, &t), 0);
        ck_assert_int_eq(t, NOW + 600);
        /* local clock behind the broker by an hour: now + remaining, not not_after */
        ck_assert_int_eq(lb_keys_expiry(&k, NOW - 3600, &t), 0);
        ck_assert_int_eq(t, NOW - 3600 + 600);
        /* local clock ahead: never later than not_after */
        ck_assert_int_eq(lb_keys_expiry(&k, NOW + 300, &t), 0);
        ck_assert_int_eq(t, NOW + 600);
        /* clock ahead past not_after: nothing left */
        ck_assert_int_eq(lb_keys_expiry(&k, NOW + 600, &t), -ESTALE);
        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW + 900, &line), -ESTALE);
        ck_assert_ptr_null(line);
        /* no time left by the broker's clock */
        k.remaining_s = 0;
        ck_assert_int_eq(lb_keys_expiry(&k, NOW, &t), -ESTALE);
        k.remaining_s = -5;
        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), -ESTALE);
        /* a huge remaining_s does not wrap: not_after caps it */
        k.remaining_s = INT64_MAX;
        ck_assert_int_eq(lb_keys_expiry(&k, NOW, &t), 0);
        ck_assert_int_eq(t, NOW + 600);
}
END_TEST

/* Fuzz finding: a not_after <= 0 skipped the cap, so a broken answer gave a
 * key with a five-digit-year expiry-time. The cap is not optional: no usable
 * not_after, no key. */
START_TEST(test_expiry_needs_not_after) {
        static const int64_t bad[] = { 0, -1, -62167219200 /* 0000-01-01 */, INT64_MIN,
                                       INT64_C(253402300800) /* 10000-01-01 */, INT64_MAX };
        struct lb_key k = key("r-1", KEYA, 0, INT64_C(300000000000));
        char *line = NULL;
        int64_t t;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                k.not_after = bad[i];
                ck_assert_msg(lb_keys_expiry(&k, NOW, &t) == -EBADMSG, "not_after %lld accepted",
                              (long long) bad[i]);
                ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), -EBADMSG);
                ck_assert_ptr_null(line);
                k.remaining_s = 60;
                ck_assert_int_eq(lb_keys_expiry(&k, NOW, &t), -EBADMSG);
                k.remaining_s = INT64_C(300000000000);
        }
        /* the last second sshd can say is the latest a key can last */
        k.not_after = INT64_C(253402300799);
        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), 0);
        ck_assert_ptr_nonnull(strstr(line, "expiry-time=\"99991231235959Z\""));
        free(line);
        line = NULL;
        /* whatever the broker says, the line's time is a 4-digit year <= not_after */
        for (int64_t rem = 1; rem > 0 && rem < INT64_MAX / 8; rem *= 7) {
                k.remaining_s = rem;
                k.not_after = NOW + 3600;
                ck_assert_int_eq(lb_keys_expiry(&k, NOW, &t), 0);
                ck_assert(t <= k.not_after && t > NOW);
                ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), 0);
                ck_assert_ptr_nonnull(strstr(line, "expiry-time=\"2026112"));
                free(line);
                line = NULL;
        }
        /* a local clock past year 9999 is not a clock */
        k.not_after = NOW + 3600;
        ck_assert_int_eq(lb_keys_expiry(&k, INT64_C(253402300800), &t), -ERANGE);
}
END_TEST

START_TEST(test_recorder_quoting) {
        struct lb_key k = key("r-1", KEYA, NOW + 60, 60);
        char *line = NULL;
        static const char *const bad[] = {
                "lockbox-record",                  /* relative */
                "/usr/bin/rec\" ssh-ed25519 AAAA", /* closes the quote */
                "/usr/bin/rec\\",                  /* escapes the closing quote */
                "/usr/bin/rec;sh",                 /* shell */
                "/usr/bin/rec $(id)",
                "/usr/bin/rec`id`",
                "/usr/bin/rec\n",
                "/usr/bin/rec\t",
                "/usr/bin/r\xc3\xa9",
                "",
        };

        ck_assert(lb_keys_recorder_valid(REC));
        ck_assert(lb_keys_recorder_valid("/tmp/lbx-test.Ab12/bin/lockbox-record"));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ck_assert_msg(!lb_keys_recorder_valid(bad[i]), "accepted %s", bad[i]);
                ck_assert_int_eq(lb_keys_format_line(&k, bad[i], NOW, &line), -EINVAL);
                ck_assert_ptr_null(line);
        }
        ck_assert(!lb_keys_recorder_valid(NULL));
}
END_TEST

START_TEST(test_bad_key_or_request) {
        struct lb_key k = key("r-1", "ssh-ed25519 AAAA", NOW + 60, 60);
        char *line = NULL;

        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), -EINVAL);
        k.public_key = (char *) "from=\"*\" " KEYA;
        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), -EINVAL);
        k.public_key = (char *) KEYA;
        k.request = (char *) "r-1 ssh-rsa";
        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), -EINVAL);
        k.request = (char *) "r-1\nssh-ed25519";
        ck_assert_int_eq(lb_keys_format_line(&k, REC, NOW, &line), -EINVAL);
        ck_assert_ptr_null(line);
}
END_TEST

START_TEST(test_match) {
        struct lb_key a = key("r-1", KEYA, NOW + 60, 60), b = key("r-2", KEYB, NOW + 60, 60);

        /* nothing asked: everything matches */
        ck_assert(lb_keys_match(&a, NULL, NULL, NULL));
        ck_assert(lb_keys_match(&a, "", "", ""));
        /* %f: recomputed from the key, whatever the broker called it */
        ck_assert(lb_keys_match(&a, FPA, NULL, NULL));
        ck_assert(!lb_keys_match(&a, FPB, NULL, NULL));
        ck_assert(lb_keys_match(&b, FPB, NULL, NULL));
        ck_assert(!lb_keys_match(&b, FPA, NULL, NULL));
        ck_assert(!lb_keys_match(&a, "SHA256:ignored", NULL, NULL));
        /* %t and %k */
        ck_assert(lb_keys_match(&a, FPA, "ssh-ed25519", B64A));
        ck_assert(!lb_keys_match(&a, FPA, "ssh-rsa", B64A));
        ck_assert(!lb_keys_match(&a, FPA, "ssh-ed2551", B64A));
        ck_assert(!lb_keys_match(&a, FPA, "ssh-ed25519", B64B));
        ck_assert(!lb_keys_match(&a, NULL, NULL, B64B));
        /* a malformed key never matches */
        a.public_key = (char *) "ssh-ed25519 AAAA";
        ck_assert(!lb_keys_match(&a, NULL, NULL, NULL));
}
END_TEST

/* The answer lockbox-keys filters: parsed with the common parser, then matched. */
START_TEST(test_filter_answer) {
        static const char json[] =
                "{\"keys\":[{\"key\":\"k-1\",\"request\":\"r-1\",\"public_key\":\"" KEYA "\","
                "\"fingerprint\":\"" FPA "\",\"not_after\":\"2026-11-22T12:00:00Z\",\"remaining_s\":7200},"
                "{\"key\":\"k-2\",\"request\":\"r-2\",\"public_key\":\"" KEYB "\","
                "\"fingerprint\":\"" FPB "\",\"not_after\":\"2026-11-22T10:30:00Z\",\"remaining_s\":1800}]}";
        struct lb_keys ks = {};
        unsigned n = 0;
        char *line = NULL;

        ck_assert_int_eq(lb_keys_parse(json, strlen(json), &ks), 0);
        ck_assert_uint_eq(ks.n, 2);
        for (size_t i = 0; i < ks.n; i++)
                if (lb_keys_match(&ks.keys[i], FPB, NULL, NULL)) {
                        n++;
                        ck_assert_int_eq(lb_keys_format_line(&ks.keys[i], REC, NOW, &line), 0);
                }
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(line, "restrict,pty,expiry-time=\"20261122103000Z\",command=\"" REC "\" " KEYB
                               " lockbox:r-2");
        free(line);
        lb_keys_done(&ks);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("keys_line");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_line_exact);
        tcase_add_test(tc, test_expiry);
        tcase_add_test(tc, test_expiry_needs_not_after);
        tcase_add_test(tc, test_recorder_quoting);
        tcase_add_test(tc, test_bad_key_or_request);
        tcase_add_test(tc, test_match);
        tcase_add_test(tc, test_filter_answer);
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
