/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared pieces of the libFuzzer harnesses (tests/fuzz/README.md). A harness
 * takes bytes from outside, hands them to the smallest public function that
 * parses them and then checks what must hold of the result: a property that
 * does not hold is reported with FUZZ_CHECK, which aborts, so libFuzzer
 * saves the input as a reproducer. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                            \
        do {                                                                             \
                if (!(cond)) {                                                           \
                        fprintf(stderr, "\n==fuzz== property broken at %s:%d: %s\n==fuzz== ", \
                                __FILE__, __LINE__, #cond);                              \
                        fprintf(stderr, __VA_ARGS__);                                    \
                        fputc('\n', stderr);                                             \
                        abort();                                                         \
                }                                                                        \
        } while (0)

/* Long runs may look past findings that are known and being fixed elsewhere:
 * LB_FUZZ_IGNORE_KNOWN="enq expiry-cap ..." (or "all") turns those checks off
 * (tests/fuzz/README.md lists the names). The short run in scripts/test.sh
 * never sets it: there every known finding fails until it is fixed. */
static inline bool fuzz_ignore_known(const char *name) {
        const char *e = getenv("LB_FUZZ_IGNORE_KNOWN");
        return e && (strcmp(e, "all") == 0 || strstr(e, name));
}

/* A NUL-terminated copy of the input (parsers of C strings). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* Splits the input at the first occurrence of sep (a byte): *a gets the part
 * before (NUL-terminated copy), the rest stays in *data and *size. Returns false
 * when there is no separator (then *a is a copy of everything). */
static inline bool fuzz_take(const uint8_t **data, size_t *size, uint8_t sep, char **a) {
        const uint8_t *p = memchr(*data, sep, *size);
        size_t n = p ? (size_t) (p - *data) : *size;
        *a = fuzz_strndup(*data, n);
        *data += p ? n + 1 : n;
        *size -= p ? n + 1 : n;
        return p != NULL;
}

/* Does s hold anything a terminal would act on? C0 controls other than
 * allowed (a string of them, e.g. "\n\t"), DEL, ESC, and (with c1) C1
 * controls as UTF-8 (U+0080..U+009F) or as raw bytes outside a UTF-8
 * sequence. Returns the offset of the first such byte, or -1. */
static inline long fuzz_unsafe(const char *s, size_t n, const char *allowed, bool c1) {
        const unsigned char *p = (const unsigned char *) s;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < 0x20 || p[i] == 0x7f) {
                        if (p[i] && allowed && strchr(allowed, p[i]))
                                continue;
                        return (long) i;
                }
                if (!c1)
                        continue;
                if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
                        return (long) i;
                if (p[i] >= 0x80 && p[i] <= 0x9f && (i == 0 || p[i - 1] < 0x80))
                        return (long) i;
        }
        return -1;
}

static inline long fuzz_term_unsafe(const char *s, size_t n, const char *allowed) {
        return fuzz_unsafe(s, n, allowed, true);
}

/* Is this valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)? An
 * independent reference for checking the project's own validator. */
static inline bool fuzz_utf8_valid(const unsigned char *p, size_t n) {
        size_t i = 0;
        while (i < n) {
                unsigned char c = p[i];
                size_t k;
                uint32_t cp;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        k = 1, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        k = 2, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        k = 3, cp = c & 0x07;
                else
                        return false;
                if (n - i < k + 1)
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if ((p[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i + j] & 0x3f);
                }
                if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += k + 1;
        }
        return true;
}

/* An in-memory file with these bytes, as a path ("/proc/self/fd/N") for
 * functions that take file names. Returns the fd (close it when done). */
static inline int fuzz_memfile(const void *data, size_t size, char path[static 32]) {
        int fd = memfd_create("fuzz", MFD_CLOEXEC);
        const char *p = data;
        if (fd < 0)
                abort();
        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k <= 0)
                        abort();
                p += k;
                size -= (size_t) k;
        }
        snprintf(path, 32, "/proc/self/fd/%d", fd);
        return fd;
}
