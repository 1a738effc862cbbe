/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What lockboxctl shows people: terminal-safe strings, times, aligned
 * tables. Pure (no I/O besides the FILE given); unit tested. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A copy of s that is safe on a terminal: lb_term_safe() (control
 * characters, ESC, C1 and invalid UTF-8 become \xNN) plus the invisible
 * characters that reorder or hide text (bidi controls, zero-width ones),
 * which become \u{NNNN}. NULL gives "". NULL only on ENOMEM. */
char *lb_ctl_safe(const char *s);

/* JSON text (as json_dumps writes it: control characters below 0x20 already
 * escaped) with DEL, C1 controls and the invisible characters above escaped
 * as \uXXXX too: the same JSON value, nothing a terminal would obey. */
char *lb_ctl_json_safe(const char *json);

/* Terminal columns of valid UTF-8 s (wide East Asian characters count 2,
 * combining marks 0). */
size_t lb_ctl_width(const char *s);
/* A copy of s cut at whole characters to at most width columns, ending with
 * "…" when cut (width >= 1). */
char *lb_ctl_truncate(const char *s, size_t width);

#define LB_CTL_TIME_LEN 40
/* "2026-11-22 10:00 UTC" (seconds when with_seconds). */
const char *lb_ctl_time(int64_t t, bool with_seconds, char *buf, size_t size);
/* A span with its two largest units, rounded down: "3d4h", "1h59m", "3m",
 * "45s", "0s". */
const char *lb_ctl_span(uint64_t seconds, char *buf, size_t size);
/* Relative to now: "in 1h59m", "3m ago", "now". */
const char *lb_ctl_relative(int64_t t, int64_t now, char *buf, size_t size);
/* Both: "2026-11-22 10:00 UTC (in 1h59m)". */
const char *lb_ctl_time_rel(int64_t t, int64_t now, char *buf, size_t size);

/* Aligned tables. Cells are copied through lb_ctl_safe(), so anything may be
 * added; columns are as wide as their widest cell (or their cap, where the
 * cell is cut with "…"); the last column is not padded. */
struct lb_table;
struct lb_table *lb_table_new(size_t ncols, const char *const *headers);
void lb_table_free(struct lb_table *t);
/* Cap a column's width (0: no cap). */
void lb_table_set_max(struct lb_table *t, size_t col, size_t width);
/* ncols cells; NULL cells show as "-". Returns 0 or -ENOMEM. */
int lb_table_add(struct lb_table *t, const char *const *cells);
size_t lb_table_rows(const struct lb_table *t);
int lb_table_print(const struct lb_table *t, FILE *f);
static inline void lb_table_freep(struct lb_table **t) { lb_table_free(*t); }
#define _cleanup_table_ __attribute__((cleanup(lb_table_freep)))
