/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The terminal sanitizer of lockbox-replay: hostile sequences vanish, the
 * screen-drawing ones stay, whatever the chunking. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "replay-sanitize.h"

/* Runs s through the sanitizer in chunks of `chunk` bytes (0: whole). */
static char *san(const char *s, size_t len, size_t chunk) {
        struct lb_sanitizer st;
        char *out = malloc(len + LB_SANITIZE_SLACK * (len + 2) + 1);
        size_t k = 0;

        lb_sanitize_init(&st);
        if (chunk == 0)
                chunk = len ? len : 1;
        for (size_t off = 0; off < len; off += chunk)
                k += lb_sanitize(&st, s + off, len - off < chunk ? len - off : chunk, out + k);
        k += lb_sanitize_finish(&st, out + k);
        out[k] = '\0';
        return out;
}

/* Same result for every chunk size from 1 to len. */
static void check_all_chunks(const char *in, size_t len, const char *want) {
        for (size_t c = 0; c <= len; c++) {
                char *got = san(in, len, c);
                ck_assert_msg(strcmp(got, want) == 0, "chunk %zu: got \"%s\"", c, got);
                free(got);
        }
}
#define CHECK(in, want) check_all_chunks(in, sizeof(in) - 1, want)

START_TEST(test_plain_and_sgr_kept) {
        CHECK("hello\r\n", "hello\r\n");
        CHECK("\033[1;31mred\033[0m", "\033[1;31mred\033[0m");
        CHECK("\033[38;5;208mx\033[38;2;1;2;3my", "\033[38;5;208mx\033[38;2;1;2;3my");
        CHECK("\033[H\033[2J\033[10;5H\033[K\033[3A\033[?25l\033[?1049h\033[1;24r",
              "\033[H\033[2J\033[10;5H\033[K\033[3A\033[?25l\033[?1049h\033[1;24r");
        CHECK("\033(B\033)0\0337\0338\033M\033=", "\033(B\033)0\0337\0338\033M\033=");
        CHECK("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        CHECK("\xc2\xa0nbsp", "\xc2\xa0nbsp");
        CHECK("tab\there\bbell\a", "tab\there\bbell\a");
}
END_TEST

/* Fuzz finding: ENQ (answerback) passed inside ESC, ESC-intermediate and CSI
 * states. The class: every C0 control inside every escape state follows the
 * rule of ground (ENQ dropped, others executed, i.e. kept), whatever the
 * chunking. */
START_TEST(test_enq_inside_sequences) {
        CHECK("\033\005", "");
        CHECK("\033[\005m", "\033[m");
        CHECK("\033(\005B", "\033(B");
        CHECK("a\033[1;\0052m\005b", "a\033[1;2mb");
        CHECK("\033#\0058", "\033#8");
        CHECK("\033( \005B", "\033( B");
        CHECK("\xc2\x9b\005m", "\033[m");
}
END_TEST

START_TEST(test_c0_in_every_escape_state) {
        /* prefix, the final that completes it, and what stays of the sequence */
        static const struct { const char *pre, *fin, *kept; } states[] = {
                { "\033", "7", "\0337" },            /* ESC */
                { "\033(", "B", "\033(B" },          /* ESC intermediate */
                { "\033(%", "5", "\033(%5" },        /* two intermediates */
                { "\033[", "m", "\033[m" },          /* CSI entry */
                { "\033[1;2", "m", "\033[1;2m" },    /* CSI parameters */
                { "\033[?", "h", "\033[?h" },        /* CSI private marker */
                { "\033[1 ", "q", "\033[1 q" },      /* CSI intermediate */
                { "\xc2\x9b", "m", "\033[m" },       /* CSI as UTF-8 C1 */
                { "\033[", "n", "" },                /* CSI dropped (DSR) */
        };
        for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
                for (int c = 0; c < 0x20; c++) {
                        char in[32], want[32];
                        size_t pl = strlen(states[i].pre), len;

                        if (c == 0x1b || c == 0x18 || c == 0x1a)
                                continue; /* they end or restart a sequence */
                        memcpy(in, states[i].pre, pl);
                        in[pl] = (char) c;
                        strcpy(in + pl + 1, states[i].fin);
                        len = pl + 1 + strlen(states[i].fin);
                        /* a C0 executes where it is met: it comes out first */
                        want[0] = (char) c;
                        strcpy(want + (c == 0x05 ? 0 : 1), states[i].kept);
                        for (size_t ch = 0; ch <= len; ch++) {
                                char *got = san(in, len, ch);
                                size_t gl = c == 0 ? 1 + strlen(got + 1) : strlen(got);
                                ck_assert_msg(!memchr(got, 0x05, gl),
                                              "state %zu, byte 0x%02x, chunk %zu: ENQ passed", i, c, ch);
                                if (c != 0) /* NUL: compared by length below */
                                        ck_assert_msg(strcmp(got, want) == 0,
                                                      "state %zu, byte 0x%02x, chunk %zu: got \"%s\"", i,
                                                      c, ch, got);
                                free(got);
                        }
                }
}
END_TEST

START_TEST(test_osc52_dropped) {
        CHECK("a\033]52;c;ZWNobyBwd25lZA==\007b", "ab");
        CHECK("a\033]52;c;ZWNobyBwd25lZA==\033\\b", "ab");
        CHECK("a\033]52;c;?\007b", "ab"); /* clipboard read request */
        CHECK("a\033]0;title\007b", "ab");
        CHECK("a\033]8;;http://x/\033\\link\033]8;;\033\\b", "alinkb");
        CHECK("a\033]11;?\007b", "ab"); /* background colour query */
        CHECK("a\xc2\x9d" "52;c;eA==\xc2\x9c" "b", "ab"); /* UTF-8 C1 OSC and ST */
}
END_TEST

START_TEST(test_dcs_and_strings_dropped) {
        CHECK("a\033P$qm\033\\b", "ab");                /* DECRQSS */
        CHECK("a\033P+q544e\033\\b", "ab");             /* XTGETTCAP */
        CHECK("a\033Ptmux;\033\033]52;c;eA==\007\033\\b", "ab");
        CHECK("a\033_Gf=100;AAAA\033\\b", "ab");        /* APC (kitty graphics) */
        CHECK("a\033^pm\033\\b\033Xsos\033\\c", "abc"); /* PM, SOS */
        CHECK("a\xc2\x90$qm\xc2\x9c" "b", "ab");        /* UTF-8 C1 DCS */
        CHECK("a\033]52;c;eA==\030b", "ab");            /* CAN aborts */
}
END_TEST

START_TEST(test_reports_dropped) {
        CHECK("a\033[6nb", "ab");
        CHECK("a\033[5nb", "ab");
        CHECK("a\033[?6nb", "ab");
        CHECK("a\033[cb", "ab");
        CHECK("a\033[0cb", "ab");
        CHECK("a\033[>cb", "ab");
        CHECK("a\033[=cb", "ab");
        CHECK("a\033[21tb\033[14t\033[8;1;1tc", "abc");
        CHECK("a\033[?2026$pb", "ab");
        CHECK("a\033[>qb", "ab");
        CHECK("a\033[?ub", "ab");
        CHECK("a\033Zb", "ab");
        CHECK("a\005b", "ab");
        CHECK("a\033[5ib", "ab");
        CHECK("a\xc2\x9b" "6nb", "ab");
        CHECK("a\xc2\x9b" "31mb", "a\033[31mb");
        CHECK("a\xc2\x9a" "b", "ab");
        CHECK("a\x9b" "6nb", "a6nb"); /* a stray 8-bit CSI is dropped */
}
END_TEST

START_TEST(test_input_modes_dropped) {
        CHECK("a\033[?1000hb", "ab");
        CHECK("a\033[?1049;1006hb", "ab");
        CHECK("a\033[?2004hb\033[?2004l", "ab");
        CHECK("a\033[?1004hb", "ab");
        CHECK("a\033[?1049hb", "a\033[?1049hb");
        CHECK("a\033[?7;25hb", "a\033[?7;25hb");
}
END_TEST

START_TEST(test_split_chunks) {
        /* explicit two-chunk splits at every point, with state carried */
        const char in[] = "x\033]52;c;QUJD\007y\033[6nz\033P1$r0m\033\\w\033[32mg";
        const char want[] = "xyzw\033[32mg";
        check_all_chunks(in, sizeof(in) - 1, want);
        for (size_t cut = 0; cut <= sizeof(in) - 1; cut++) {
                struct lb_sanitizer st;
                char out[256];
                size_t k;
                lb_sanitize_init(&st);
                k = lb_sanitize(&st, in, cut, out);
                k += lb_sanitize(&st, in + cut, sizeof(in) - 1 - cut, out + k);
                k += lb_sanitize_finish(&st, out + k);
                out[k] = '\0';
                ck_assert_str_eq(out, want);
        }
        /* a UTF-8 character split between chunks stays whole */
        CHECK("\xc2\xa9 ok", "\xc2\xa9 ok");
}
END_TEST

START_TEST(test_overlong_csi) {
        char in[300], want[8];
        size_t n = 0;
        in[n++] = '\033';
        in[n++] = '[';
        for (int i = 0; i < 200; i++)
                in[n++] = '1';
        in[n++] = 'm';
        in[n++] = 'z';
        strcpy(want, "z");
        check_all_chunks(in, n, want);
}
END_TEST

START_TEST(test_binary_passes) {
        /* invalid UTF-8 that is not a C1 control is left to the terminal */
        CHECK("\xff\xfe" "ab\xc3", "\xff\xfe" "ab\xc3");
}
END_TEST

int main(void) {
        Suite *s = suite_create("replay-sanitize");
        TCase *tc = tcase_create("core");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_plain_and_sgr_kept);
        tcase_add_test(tc, test_osc52_dropped);
        tcase_add_test(tc, test_enq_inside_sequences);
        tcase_add_test(tc, test_c0_in_every_escape_state);
        tcase_add_test(tc, test_dcs_and_strings_dropped);
        tcase_add_test(tc, test_reports_dropped);
        tcase_add_test(tc, test_input_modes_dropped);
        tcase_add_test(tc, test_split_chunks);
        tcase_add_test(tc, test_overlong_csi);
        tcase_add_test(tc, test_binary_passes);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
