/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Client-side check of the broker's audit trail (docs/API.md, "Audit"):
 * sequence numbers 1, 2, 3... with no gap, prev of seq 1 is 64 zeros, each
 * prev is the hash of the event before, and each hash is
 * hex(SHA-256(prev + "\n" + canonical)) of the event's own content. Pure;
 * events may be fed page by page. */

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "chain.h"

struct lb_audit_verifier {
        uint64_t last_seq;                    /* 0 before the first event */
        char last_hash[LB_CHAIN_HEX_LEN + 1]; /* LB_CHAIN_ZERO before the first */
        uint64_t count;
        char *problem;                        /* first problem found, or NULL */
        uint64_t problem_seq;                 /* the seq it is about (0: none/unknown) */
};

void lb_audit_verifier_init(struct lb_audit_verifier *v);
void lb_audit_verifier_done(struct lb_audit_verifier *v);
/* Check the next event. Returns 0 if it continues the chain, -EBADMSG and
 * sets v->problem (once; later calls keep failing) if not, -ENOMEM. */
int lb_audit_verify_event(struct lb_audit_verifier *v, json_t *event);
/* At the end: does "head" ({"seq":N,"hash":H}) name the last event checked? */
int lb_audit_verify_head(struct lb_audit_verifier *v, json_t *head);
/* A whole trail: {"events":[...], "head":{...}}. */
int lb_audit_verify_trail(struct lb_audit_verifier *v, json_t *trail);
