/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "proc.h" /* LB_AUDIT_SESSION_UNSET */

/* Internal pieces of pam_lockbox.so that do not need a PAM handle: the texts
 * the user sees and the session record file (docs/EVIDENCE.md §1). They are
 * pure or touch only the files they are given, so unit tests link them
 * directly (tests/unit/test_pam_module.c). */

#include <stdbool.h>
#include <stdint.h>

#include "broker_client.h"

/* MESSAGE_IDs (docs/EVIDENCE.md §4, conf/catalog/lockbox-host.catalog) */
#define LB_MID_ACCOUNT_ALLOWED "f8ffa5333fd64814ac81136c5bae408a"
#define LB_MID_ACCOUNT_REFUSED "3fafd2476f2c41b690d06294ed1d7920"
#define LB_MID_BROKER_FAILED   "47c9182175d34e938722b01f85ecfc04"
#define LB_MID_SESSION_OPENED  "fee6f710a5e140ba96efd3ff648ea23b"
#define LB_MID_SESSION_REFUSED "f7d37a2112674a48b14806237e606589"
#define LB_MID_SESSION_CLOSED  "6cb81570155c447983efc5fcace76235"
#define LB_MID_CONFIG_ERROR    "89ffa670c3864d90b0d60e612d390a04"
#define LB_MID_SERVICE_REFUSED "d14f124e57af4bc3bebfb2be7bb59906"

/* The audit session id of a process that never went through pam_loginuid. */

/* ---- texts for the user (every string from the broker made terminal-safe) */

/* "1h59m" (whole minutes) or "45s" under a minute. buf >= 32. */
const char *lb_pam_format_left(int64_t remaining_s, char *buf, size_t size);
/* "2026-11-22 12:05 UTC". buf >= 32. */
const char *lb_pam_format_end(int64_t t, char *buf, size_t size);
/* "lockbox: access granted by request r-… (alice), until … UTC (1h59m left)" */
char *lb_pam_msg_granted(const struct lb_access *a);
/* "lockbox: access refused: <reason>" */
char *lb_pam_msg_refused(const struct lb_access *a);
/* "lockbox: <hint>", or the lockboxctl command line when the broker gave none. */
char *lb_pam_msg_hint(const struct lb_access *a, const char *host, const char *user);
/* "lockbox: access could not be verified (broker unreachable); refusing login" and
 * its siblings for a timeout, an unreadable answer or a broker error. */
char *lb_pam_msg_unverified(int error, const char *what);
/* "lockbox: session s-… bound to request r-… (alice); access ends … (1h59m left); this session is recorded" */
char *lb_pam_msg_session_opened(const struct lb_session *s);

/* ---- the session record ------------------------------------------------ */

/* Pure: "/proc/self/sessionid" contents -> id. -ENXIO when unset. */
int lb_pam_parse_audit_session(const char *text, uint32_t *ret);
/* Reads /proc/self/sessionid. */
int lb_pam_audit_session(uint32_t *ret);

struct lb_pam_record {
        const struct lb_session *session; /* from POST /v1/sessions */
        const char *user;
        const char *host;
        uint32_t audit_session;
        int64_t sshd_pid;
        uint64_t mono_ms;                 /* CLOCK_MONOTONIC when remaining_s arrived */
        int64_t created_at;               /* wall clock, epoch seconds */
        bool has_audit_lost;              /* audit_lost read (else not in the record) */
        uint64_t audit_lost;              /* the kernel audit's lost counter at open */
};
/* Pure: the record as one JSON object (compact, sorted keys). */
int lb_pam_record_format(const struct lb_pam_record *rec, char **ret);
/* Pure: the "session" member of a record, validated as an id. */
int lb_pam_record_parse_session(const char *json, size_t len, char **ret_session);

/* Pure: the "user" of a record, which must be the record of audit session `ses`. */
int lb_pam_record_parse_user(const char *json, size_t len, uint32_t ses, char **ret_user);

/* Pure: the "audit_lost" of the record of audit session `ses`; -ENOENT when
 * it has none (unknown at open). */
int lb_pam_record_parse_audit_lost(const char *json, size_t len, uint32_t ses, uint64_t *ret);

/* The kernel audit's lost counter (AUDIT_GET, which needs CAP_AUDIT_CONTROL):
 * one netlink request, its answer waited for at most timeout_ms. */
int lb_pam_audit_lost(unsigned timeout_ms, uint64_t *ret);

/* <state_dir>/sessions/<ses>.json: the directory is created 0700 and must
 * belong to us and not be writable by others; the file is written 0600 to a
 * temporary name and renamed, never through a symlink. */
int lb_pam_record_write(const char *state_dir, uint32_t ses, const char *json);
int lb_pam_record_read(const char *state_dir, uint32_t ses, char **ret_json, size_t *ret_len);
/* 0 removed, -ENOENT when there was none. */
int lb_pam_record_remove(const char *state_dir, uint32_t ses);
