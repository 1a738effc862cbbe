/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text from callers in the broker's answers: always valid UTF-8, never cut
 * inside a character, and a refusal quoting hostile bytes stays a 4xx with a
 * JSON body (fuzz findings: a key cut inside a multibyte character, and a raw
 * byte in a query name, made the answer fail to encode: 500). */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <stdlib.h>

#include "server.h"
#include "service.h"
#include "text.h"
#include "util.h"

START_TEST(test_utf8_seq) {
        ck_assert_uint_eq(lb_utf8_seq("a", 1), 1);
        ck_assert_uint_eq(lb_utf8_seq("\xc3\xa9", 2), 2);
        ck_assert_uint_eq(lb_utf8_seq("\xe2\x82\xac", 3), 3);
        ck_assert_uint_eq(lb_utf8_seq("\xf0\x9f\x98\x80", 4), 4);
        ck_assert_uint_eq(lb_utf8_seq("\xe2\x82\xac", 2), 0);   /* cut short */
        ck_assert_uint_eq(lb_utf8_seq("\xff", 1), 0);
        ck_assert_uint_eq(lb_utf8_seq("\xc0\xaf", 2), 0);       /* overlong */
        ck_assert_uint_eq(lb_utf8_seq("\xe0\x80\xaf", 3), 0);   /* overlong */
        ck_assert_uint_eq(lb_utf8_seq("\xed\xa0\x80", 3), 0);   /* surrogate */
        ck_assert_uint_eq(lb_utf8_seq("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
        ck_assert_uint_eq(lb_utf8_seq("\x80", 1), 0);
}
END_TEST

START_TEST(test_cut_and_clean) {
        /* 40 two-byte characters: a cut at 64 bytes ends on a boundary */
        char key[81] = "";
        for (int i = 0; i < 40; i++)
                strcat(key, "\xc3\xa9");
        ck_assert_uint_eq(strlen(LB_TEXT_CUT(key, 63)), 62 + 3);
        ck_assert_str_eq(LB_TEXT_CUT("abc", 64), "abc");
        ck_assert_str_eq(LB_TEXT_CUT("abcdef", 3), "abc...");
        /* one, then a three-byte character across the cut */
        ck_assert_str_eq(LB_TEXT_CUT("a\xe2\x82\xac", 3), "a...");
        {
                json_t *j = json_string(LB_TEXT_CUT(key, 63));
                ck_assert_ptr_nonnull(j);
                json_decref(j);
        }
        {
                _cleanup_free_ char *c = lb_text_clean("ok \xff\xfe \x1b[2J \xc3\xa9 \xc2\x9b\x7f \xe2\x82");
                ck_assert_str_eq(c, "ok \\xff\\xfe \\x1b[2J \xc3\xa9 \\xc2\\x9b\\x7f \\xe2\\x82");
        }
}
END_TEST

static void want_4xx_json(int st, json_t *out, int status, const char *has) {
        const char *detail;
        ck_assert_int_eq(st, status);
        ck_assert_ptr_nonnull(out);
        detail = json_string_value(json_object_get(out, "detail"));
        ck_assert_ptr_nonnull(detail);
        ck_assert_ptr_nonnull(json_string_value(json_object_get(out, "error")));
        if (has)
                ck_assert_msg(strstr(detail, has), "detail %s lacks %s", detail, has);
}

/* Every error detail built from input: a refusal, valid UTF-8, never NULL. */
START_TEST(test_errors_quote_safely) {
        char key[200] = "{\"";
        json_t *out = NULL;
        int st;

        for (int i = 0; i < 40; i++)
                strcat(key, "\xc3\xa9");
        strcat(key, "\":1}");
        st = lb_error(&out, 400, "unknown field \"%s\"", LB_TEXT_CUT(key + 2, 63));
        want_4xx_json(st, out, 400, "unknown field");
        json_decref(out);
        /* lb_error itself makes raw bytes safe, whatever the caller did */
        st = lb_error(&out, 400, "unknown query parameter \"%.4s\"", "\xe2\x82\xac\xff");
        want_4xx_json(st, out, 400, "\\xff");
        json_decref(out);
        st = lb_error(&out, 404, "no request %.1s", "\xc3\xa9");
        want_4xx_json(st, out, 404, "\\xc3");
        json_decref(out);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("broker_text");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_utf8_seq);
        tcase_add_test(tc, test_cut_and_clean);
        tcase_add_test(tc, test_errors_quote_safely);
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
