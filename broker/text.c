/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static bool cont(unsigned char c) {
        return (c & 0xC0) == 0x80;
}

size_t lb_utf8_seq(const char *s, size_t avail) {
        const unsigned char *p = (const unsigned char *) s;
        unsigned char lo = 0x80, hi = 0xBF;
        size_t n;

        if (avail == 0)
                return 0;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xC2 && p[0] <= 0xDF)
                n = 2;
        else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
                n = 3;
                if (p[0] == 0xE0)
                        lo = 0xA0; /* overlong */
                else if (p[0] == 0xED)
                        hi = 0x9F; /* surrogates */
        } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
                n = 4;
                if (p[0] == 0xF0)
                        lo = 0x90; /* overlong */
                else if (p[0] == 0xF4)
                        hi = 0x8F; /* past U+10FFFF */
        } else
                return 0;
        if (avail < n || p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (!cont(p[i]))
                        return 0;
        return n;
}

const char *lb_text_cut(const char *s, size_t max, char *buf, size_t size) {
        size_t len = strlen(s), i = 0;

        if (size < max + 4) { /* a caller's mistake: cut shorter rather than overflow */
                if (size < 4) {
                        if (size > 0)
                                buf[0] = '\0';
                        return buf;
                }
                max = size - 4;
        }
        while (i < len) {
                size_t n = lb_utf8_seq(s + i, len - i);
                if (n == 0)
                        n = 1; /* an invalid byte is a unit of its own */
                if (i + n > max)
                        break;
                i += n;
        }
        memcpy(buf, s, i);
        if (i < len)
                memcpy(buf + i, "...", 4);
        else
                buf[i] = '\0';
        return buf;
}

char *lb_text_clean(const char *s) {
        static const char hex[] = "0123456789abcdef";
        size_t len = strlen(s), o = 0;
        char *out;

        if (len > (SIZE_MAX - 1) / 4)
                return NULL;
        out = malloc(len * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char) s[i];
                size_t n = lb_utf8_seq(s + i, len - i);
                /* C1 controls (U+0080..U+009F, e.g. CSI) act on terminals too */
                bool c1 = n == 2 && c == 0xC2 && (unsigned char) s[i + 1] < 0xA0;
                if (n == 0 || c < 0x20 || c == 0x7F || c1) {
                        for (size_t k = 0; k < (c1 ? 2 : 1); k++) {
                                unsigned char b = (unsigned char) s[i + k];
                                out[o++] = '\\';
                                out[o++] = 'x';
                                out[o++] = hex[b >> 4];
                                out[o++] = hex[b & 15];
                        }
                        i += c1 ? 2 : 1;
                        continue;
                }
                memcpy(out + o, s + i, n);
                o += n;
                i += n;
        }
        out[o] = '\0';
        return out;
}
