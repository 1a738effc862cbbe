/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* The operator's side: drop every privilege to the operator for good
 * (supplementary groups, gid, uid, no capabilities) and check that none can
 * be regained. */
int lb_rec_drop_to_operator(const char *name, uid_t uid, gid_t gid);

/* The recorder's side: become the service user keeping exactly
 * CAP_AUDIT_WRITE, CAP_AUDIT_READ and CAP_KILL, and not dumpable (no ptrace,
 * no core). Supplementary groups: exactly groups (the journal's group, to
 * read its entries back). Call before starting any thread. */
int lb_rec_drop_to_service(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);

/* The verifier after the session: of the service user's capabilities keep
 * only CAP_AUDIT_WRITE (for its audit record if it gives up). */
int lb_rec_keep_audit_write_only(void);
