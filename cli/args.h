/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pure helpers for lockboxctl's arguments (no I/O; unit tested). */

#include <stdbool.h>
#include <stdint.h>

/* "unix:/absolute/path" or "https://HOST[:PORT][/]" with a non-empty host. */
bool lb_ctl_broker_valid(const char *url);

/* Append "key=value" (value percent-encoded) to a path with a query, using
 * '?' for the first parameter and '&' after. A NULL or empty value adds
 * nothing. *path is reallocated. Returns 0 or -ENOMEM. */
int lb_ctl_query_add(char **path, const char *key, const char *value);
/* Same with an unsigned number. */
int lb_ctl_query_add_u64(char **path, const char *key, uint64_t value);

/* A request's state name as the API spells it. */
bool lb_ctl_state_valid(const char *s);
/* A token role as the API spells it. */
bool lb_ctl_role_valid(const char *s);

/* --duration: "2h", "90m", "1h30m", "7200" (seconds), 1 s .. 366 days. */
int lb_ctl_parse_duration(const char *s, uint64_t *ret_seconds);
/* --approvals: 1..100. */
int lb_ctl_parse_approvals(const char *s, int *ret);
