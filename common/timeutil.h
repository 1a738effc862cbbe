/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Wall clock seconds and monotonic milliseconds. */
int64_t lb_now_s(void);
uint64_t lb_mono_ms(void);

/* RFC 3339 in UTC with a Z: "2026-11-22T10:00:00Z". buf >= LB_TIME_LEN. */
#define LB_TIME_LEN 32
const char *lb_time_format(int64_t t, char *buf, size_t size);
/* Accepts "YYYY-MM-DDTHH:MM:SSZ" (optionally with .fraction before the Z) and
 * "+00:00", for a day that exists (no 2026-02-31, 2026-04-31). Returns
 * seconds since the epoch. */
int lb_time_parse(const char *s, int64_t *ret);
/* sshd's expiry-time format: "YYYYMMDDHHMMSSZ". buf >= 17. */
const char *lb_time_format_ssh(int64_t t, char *buf, size_t size);
