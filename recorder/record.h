/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chain.h"

/* Session records (docs/EVIDENCE.md §2): one JSON object per line, sorted
 * keys, compact, chained by SHA-256. Pure: no I/O here. */

struct lb_rec_chain {
        uint64_t seq;                    /* seq of the last record made, 0 before the first */
        char prev[LB_CHAIN_HEX_LEN + 1]; /* its hash */
};

/* A growing byte buffer. */
struct lb_buf {
        char *p;
        size_t len, cap;
};
void lb_buf_done(struct lb_buf *b);
int lb_buf_reserve(struct lb_buf *b, size_t more);
int lb_buf_append(struct lb_buf *b, const void *p, size_t n);

void lb_rec_chain_init(struct lb_rec_chain *c);

/* Give obj the next seq and its hash, and append it as one line ("...}\n") to
 * out. obj must already hold "t" and "kind". On failure the chain is unchanged. */
int lb_rec_finish(struct lb_rec_chain *c, json_t *obj, struct lb_buf *out);

/* The byte path: an "out" or "in" record of data in stream, at t ms. Appends
 * exactly the line lb_rec_finish would make, without building JSON objects.
 * masked: an "in" record with "masked":true and "len" only. */
int lb_rec_io(struct lb_rec_chain *c, const char *kind, const char *stream, uint64_t t,
              const void *data, size_t len, bool masked, struct lb_buf *out);

/* The line for people of a cmd record: argv shell-quoted and terminal-safe. */
char *lb_rec_argv_text(char *const *argv, const size_t *lens, size_t argc);
