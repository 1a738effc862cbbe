/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "auditchain.h"
#include "util.h"

void lb_audit_verifier_init(struct lb_audit_verifier *v) {
        *v = (struct lb_audit_verifier) {};
        memcpy(v->last_hash, LB_CHAIN_ZERO, sizeof(v->last_hash));
}

void lb_audit_verifier_done(struct lb_audit_verifier *v) {
        free(v->problem);
        v->problem = NULL;
}

static int fail(struct lb_audit_verifier *v, uint64_t seq, char *msg) {
        if (!msg)
                return -ENOMEM;
        v->problem = msg;
        v->problem_seq = seq;
        return -EBADMSG;
}

int lb_audit_verify_event(struct lb_audit_verifier *v, json_t *event) {
        static const char *const omit[] = { "prev", "hash", NULL };
        char computed[LB_CHAIN_HEX_LEN + 1];
        json_t *jseq = json_object_get(event, "seq");
        const char *prev = json_string_value(json_object_get(event, "prev"));
        const char *hash = json_string_value(json_object_get(event, "hash"));
        uint64_t seq;
        int r;

        if (v->problem)
                return -EBADMSG;
        if (!json_is_object(event))
                return fail(v, v->last_seq + 1, lb_asprintf("the event after seq %" PRIu64 " is not an object", v->last_seq));
        if (!json_is_integer(jseq) || json_integer_value(jseq) < 1)
                return fail(v, v->last_seq + 1,
                            lb_asprintf("the event after seq %" PRIu64 " has no valid seq", v->last_seq));
        seq = (uint64_t) json_integer_value(jseq);
        if (seq != v->last_seq + 1) {
                if (seq <= v->last_seq)
                        return fail(v, seq, lb_asprintf("seq %" PRIu64 " comes again or out of order after seq %" PRIu64,
                                                        seq, v->last_seq));
                if (v->last_seq == 0)
                        return fail(v, seq, lb_asprintf("gap: the trail starts at seq %" PRIu64 ", not 1", seq));
                return fail(v, seq, lb_asprintf("gap: seq %" PRIu64 " follows seq %" PRIu64 " (%" PRIu64 " missing)",
                                                seq, v->last_seq, seq - v->last_seq - 1));
        }
        if (!lb_chain_hex_valid(prev) || !lb_chain_hex_valid(hash))
                return fail(v, seq, lb_asprintf("break at seq %" PRIu64 ": prev or hash is not 64 hex digits", seq));
        if (!streq(prev, v->last_hash))
                return fail(v, seq, seq == 1
                                ? lb_asprintf("break at seq 1: prev is not 64 zeros")
                                : lb_asprintf("break at seq %" PRIu64 ": prev is not the hash of seq %" PRIu64,
                                              seq, v->last_seq));
        r = lb_chain_hash(prev, event, omit, computed);
        if (r < 0)
                return r == -ENOMEM ? r : fail(v, seq, lb_asprintf("break at seq %" PRIu64 ": cannot hash it", seq));
        if (!streq(computed, hash))
                return fail(v, seq, lb_asprintf("break at seq %" PRIu64 ": its hash does not match its content (altered)",
                                                seq));
        v->last_seq = seq;
        memcpy(v->last_hash, hash, sizeof(v->last_hash));
        v->count++;
        return 0;
}

int lb_audit_verify_head(struct lb_audit_verifier *v, json_t *head) {
        json_t *jseq = json_object_get(head, "seq");
        const char *hash = json_string_value(json_object_get(head, "hash"));

        if (v->problem)
                return -EBADMSG;
        if (!json_is_integer(jseq))
                return fail(v, 0, lb_asprintf("the trail's head has no seq"));
        if ((uint64_t) json_integer_value(jseq) != v->last_seq)
                return fail(v, v->last_seq + 1,
                            lb_asprintf("the head says seq %" JSON_INTEGER_FORMAT " but the events end at seq %" PRIu64,
                                        json_integer_value(jseq), v->last_seq));
        if (v->last_seq > 0 && (!hash || !streq(hash, v->last_hash)))
                return fail(v, v->last_seq,
                            lb_asprintf("the head's hash is not the hash of seq %" PRIu64, v->last_seq));
        return 0;
}

int lb_audit_verify_trail(struct lb_audit_verifier *v, json_t *trail) {
        json_t *events = json_object_get(trail, "events"), *e;
        size_t i;
        int r;

        if (!json_is_array(events))
                return fail(v, 0, lb_asprintf("the answer has no \"events\" list"));
        json_array_foreach(events, i, e) {
                r = lb_audit_verify_event(v, e);
                if (r < 0)
                        return r;
        }
        return lb_audit_verify_head(v, json_object_get(trail, "head"));
}
