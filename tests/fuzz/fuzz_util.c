/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The small parsers and encoders under everything (common/util.c,
 * timeutil.c, evidence.c): durations (configuration, lockboxctl), RFC 3339
 * times (broker answers, records), integers, UTF-8 checks, the terminal
 * escaping of strings from outside, base64 (keys, record payloads) and the
 * auditd value encoding. Checks round trips and promises:
 *  - parse_duration(format_duration(x)) == x; a parsed duration formats and
 *    parses back to itself;
 *  - time_parse(time_format(t)) == t for t in 1970..9999;
 *  - lb_utf8_valid agrees with an independent validator;
 *  - lb_term_safe output is valid UTF-8 with no control character;
 *  - base64 decode -> encode -> decode is stable;
 *  - an audit value is "plain" or hex, never a raw space, quote or control;
 *  - a query value escaped for the broker holds only unreserved bytes and
 *    %XX and decodes back. */
#include "config.h"

#include <ctype.h>

#include "evidence.h"
#include "http.h"
#include "fuzz.h"
#include "timeutil.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size), *safe = NULL, *av = NULL;
        _cleanup_free_ unsigned char *bin = NULL, *bin2 = NULL;
        _cleanup_free_ char *b64 = NULL;
        size_t binlen = 0, bin2len = 0;
        uint64_t u, u2;
        int64_t t, t2;
        char buf[64];
        int i;
        bool bo;

        if (lb_parse_duration(s, &u) >= 0) {
                lb_format_duration(u, buf, sizeof(buf));
                FUZZ_CHECK(lb_parse_duration(buf, &u2) >= 0 && u2 == u,
                           "duration %s -> %llu -> %s does not parse back", s, (unsigned long long) u, buf);
        }
        if (size >= 8) {
                uint64_t x;
                memcpy(&x, data, 8);
                lb_format_duration(x, buf, sizeof(buf));
                FUZZ_CHECK(lb_parse_duration(buf, &u2) >= 0 && u2 == x,
                           "%llu formats as %s, which parses as %llu", (unsigned long long) x, buf,
                           (unsigned long long) u2);
                int64_t st;
                memcpy(&st, data, 8);
                char tb[LB_TIME_LEN];
                const char *f = lb_time_format(st, tb, sizeof(tb));
                /* 1970..9999 (lb_time_parse takes timegm's -1 for an error) */
                if (f && *f && st >= 0 && st <= 253402300799LL)
                        FUZZ_CHECK(lb_time_parse(f, &t2) >= 0 && t2 == st,
                                   "time %lld formats as %s, which does not parse back", (long long) st, f);
                char sb[32];
                (void) lb_time_format_ssh(st, sb, sizeof(sb));
        }
        if (lb_time_parse(s, &t) >= 0 && t >= 0) {
                char tb[LB_TIME_LEN];
                const char *f = lb_time_format(t, tb, sizeof(tb));
                FUZZ_CHECK(f && *f && lb_time_parse(f, &t2) >= 0 && t2 == t, "time %s -> %lld", s, (long long) t);
        }
        (void) lb_parse_u64(s, UINT64_MAX, &u);
        (void) lb_parse_int(s, INT32_MIN, INT32_MAX, &i);
        (void) lb_parse_bool(s, &bo);
        (void) lb_name_valid(s, 253);

        FUZZ_CHECK(lb_utf8_valid((const char *) data, size) == fuzz_utf8_valid(data, size),
                   "lb_utf8_valid says %d", lb_utf8_valid((const char *) data, size));

        safe = lb_term_safe(s);
        FUZZ_CHECK(safe, "lb_term_safe failed");
        long bad = fuzz_term_unsafe(safe, strlen(safe), NULL);
        FUZZ_CHECK(bad < 0, "lb_term_safe left control byte 0x%02x", (unsigned char) safe[bad]);
        FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *) safe, strlen(safe)), "lb_term_safe output not UTF-8");

        if (lb_base64_decode((const char *) data, size, &bin, &binlen) >= 0) {
                b64 = lb_base64_encode(bin, binlen, true);
                FUZZ_CHECK(b64, "encode failed");
                FUZZ_CHECK(lb_base64_decode(b64, strlen(b64), &bin2, &bin2len) >= 0 && bin2len == binlen &&
                                   (binlen == 0 || memcmp(bin, bin2, binlen) == 0),
                           "base64 round trip differs");
        }

        {
                /* query escaping for the broker calls: only unreserved bytes and %XX, and back */
                _cleanup_free_ char *q = lb_http_escape(s);
                size_t k = 0;
                FUZZ_CHECK(q, "lb_http_escape failed");
                for (const char *p = q; *p; p++) {
                        if (*p == '%' && isxdigit((unsigned char) p[1]) && isxdigit((unsigned char) p[2])) {
                                char h[3] = { p[1], p[2], 0 };
                                FUZZ_CHECK((char) strtoul(h, NULL, 16) == s[k], "escape does not decode back");
                                p += 2;
                        } else
                                FUZZ_CHECK((isalnum((unsigned char) *p) || strchr("-_.~", *p)) && *p == s[k],
                                           "escape kept byte 0x%02x", (unsigned char) *p);
                        k++;
                }
                FUZZ_CHECK(k == strlen(s), "escape lost bytes");
        }

        av = lb_audit_value(s);
        FUZZ_CHECK(av, "no audit value");
        for (const char *p = av; *p; p++)
                FUZZ_CHECK((unsigned char) *p > 0x20 && (unsigned char) *p < 0x7f && *p != '\'' && *p != '=' &&
                                   (*p != '"' || p == av || !p[1]),
                           "audit value %s holds a byte auditd would split on", av);
        return 0;
}
