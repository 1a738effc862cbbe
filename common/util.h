/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Checked integer parsing: whole string, base 10, no sign for unsigned, range. */
int lb_parse_u64(const char *s, uint64_t max, uint64_t *ret);
int lb_parse_int(const char *s, int min, int max, int *ret);
int lb_parse_bool(const char *s, bool *ret);

/* Durations: "90", "90s", "15m", "2h", "4d", "1h30m". Returns seconds. */
int lb_parse_duration(const char *s, uint64_t *ret_seconds);
/* "2h", "1h30m", "45s": the shortest exact rendering. buf >= 32 bytes. */
const char *lb_format_duration(uint64_t seconds, char *buf, size_t size);

/* Strings */
bool lb_utf8_valid(const char *s, size_t len);
/* A copy of s safe for a terminal: control characters (C0, DEL, C1), ESC and
 * invalid UTF-8 become \xNN; valid printable UTF-8 is kept. */
char *lb_term_safe(const char *s);
/* True if s is made only of [A-Za-z0-9._@+-] and is 1..max bytes long. */
bool lb_name_valid(const char *s, size_t max);
char *lb_strjoin(const char *a, const char *b); /* a+b, NULL on ENOMEM */
char *lb_asprintf(const char *fmt, ...) _printf_(1, 2);
/* Split a comma/space separated list; returns NULL-terminated vector. */
char **lb_strv_split(const char *s, const char *sep);
void lb_strv_free(char **v);
bool lb_strv_contains(char *const *v, const char *s);
size_t lb_strv_length(char *const *v);
static inline void lb_strv_freep(char ***v) { lb_strv_free(*v); }
#define _cleanup_strv_free_ _cleanup_(lb_strv_freep)

/* Hex and base64 (standard alphabet). */
char *lb_hexencode(const void *p, size_t n);
int lb_base64_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len);
char *lb_base64_encode(const void *p, size_t n, bool pad);

/* SHA-256 (OpenSSL). out is 32 bytes. */
#define LB_SHA256_LEN 32
void lb_sha256(const void *p, size_t n, unsigned char out[LB_SHA256_LEN]);
char *lb_sha256_hex(const void *p, size_t n);

/* Random identifiers: prefix + 2*nbytes lowercase hex. */
int lb_random_id(const char *prefix, size_t nbytes, char **ret);
int lb_random_bytes(void *p, size_t n);

/* Users and groups */
int lb_user_in_group(const char *user, const char *group); /* 1 yes, 0 no, <0 error */

/* Files */
int lb_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
int lb_write_all(int fd, const void *p, size_t n);

/* The groups a service user gets when a program of ours drops to it: its own
 * from the group database (getgrouplist, the primary group first), plus
 * systemd-journal when that group exists (to read the journal back).
 * *ret_journal_added (may be NULL): systemd-journal was not among its own. */
int lb_service_groups(const char *user, gid_t gid, gid_t **ret, size_t *ret_n,
                      bool *ret_journal_added);
