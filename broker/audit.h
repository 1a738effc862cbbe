/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdint.h>

/* The broker's audit trail (docs/API.md "Audit"): verification of the hash
 * chain, and the copies of every event sent to journald and auditd. */

/* Check events (an array starting at seq 1): continuity, prev links, hashes.
 * 0 when it verifies; -EBADMSG with *ret_detail naming the first problem.
 * *ret_head_seq gets the last seq checked. */
int lb_audit_verify(json_t *events, const char *start_prev, int64_t *ret_head_seq,
                    char **ret_detail);

/* journald MESSAGE_ID of an event type (docs/EVIDENCE.md), or NULL. */
const char *lb_audit_message_id(const char *type);
#define LB_MESSAGE_ID_START "ba06a0ae816142cf94e7f2391e56280c"
#define LB_MESSAGE_ID_STOP "f7ef06efde5f4ad89730e796da9999b0"

/* Send one event to journald (structured) and auditd (op=lockbox-<type>).
 * Returns 0, or the first -errno (the caller logs it; never fatal). */
int lb_audit_to_journal(json_t *ev);
int lb_audit_to_auditd(json_t *ev);
