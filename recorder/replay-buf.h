/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A growable byte buffer for lockbox-replay's encoders (asciicast, export). */

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

struct lb_buf {
        char *p;
        size_t n, cap;
};

static inline int lb_buf_reserve(struct lb_buf *b, size_t more) {
        size_t want, cap;
        char *q;

        if (more > SIZE_MAX / 2 - b->n)
                return -ENOMEM;
        want = b->n + more + 1;
        if (want <= b->cap)
                return 0;
        cap = MAX(want, b->cap * 2);
        cap = MAX(cap, (size_t) 256);
        q = realloc(b->p, cap);
        if (!q)
                return -ENOMEM;
        b->p = q;
        b->cap = cap;
        return 0;
}

static inline int lb_buf_put(struct lb_buf *b, const void *p, size_t n) {
        int r = lb_buf_reserve(b, n);
        if (r < 0)
                return r;
        if (n > 0)
                memcpy(b->p + b->n, p, n);
        b->n += n;
        b->p[b->n] = '\0';
        return 0;
}

static inline int lb_buf_puts(struct lb_buf *b, const char *s) {
        return lb_buf_put(b, s, strlen(s));
}

static inline void lb_buf_done(struct lb_buf *b) {
        free(b->p);
        *b = (struct lb_buf) {};
}
