/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "request.h"

/* The broker's store, behind one interface so that another backend (e.g.
 * PostgreSQL for several stateless brokers) can take SQLite's place.
 *
 * Reads may run from any thread at once. Writes happen between begin() and
 * commit()/rollback(); begin() waits for any other writer (one writer at a
 * time), and every state change, its audit events and their outbox rows go
 * in one transaction. Reads with in_txn = true see the writer's view and may
 * only be used between begin() and commit(). Functions return -errno:
 * -ENOENT nothing found, -EEXIST a duplicate, -EALREADY a key already used,
 * -EIO store failure. */

struct lb_store;

struct lb_key {
        char *id;
        char *request;
        char *public_key;
        char *fingerprint;
        char *session; /* the session it opened, or NULL while unused */
        int64_t created_at;
        int64_t not_after; /* of its request (keys_list only) */
};
void lb_key_done(struct lb_key *k);

struct lb_session {
        char *id;
        char *request;
        char *key;
        char *operator_;
        char *host;
        char *user;
        char *remote;
        char *tty;
        int64_t pid;           /* -1 unknown */
        int64_t audit_session; /* -1 unknown */
        bool open;
        int64_t opened_at;
        int64_t ended_at;
        char *end_reason;
};
void lb_session_free(struct lb_session *s);

struct lb_token {
        char *id;
        char *principal;
        char *role;
        char *host; /* host tokens only */
        int64_t created_at;
        int64_t revoked_at;
};
void lb_token_done(struct lb_token *t);

struct lb_request_filter {
        const char *state;
        const char *operator_;
        const char *host;
        const char *approver;
        int64_t now;
        unsigned limit;
};

struct lb_outbox_item {
        int64_t id;
        int64_t seq;
        char *target;
        unsigned attempts;
        char *event; /* the event JSON (with prev and hash) */
};
void lb_outbox_item_done(struct lb_outbox_item *o);

struct lb_store_ops {
        const char *name;
        int (*open)(const char *path, struct lb_store **ret);
        void (*close)(struct lb_store *s);
        int (*health)(struct lb_store *s);

        int (*begin)(struct lb_store *s);
        int (*commit)(struct lb_store *s);
        void (*rollback)(struct lb_store *s);

        /* requests */
        int (*request_get)(struct lb_store *s, bool in_txn, const char *id,
                           struct lb_request **ret);
        /* newest first; calls cb for each (cb takes ownership); stops when cb < 0 */
        int (*request_list)(struct lb_store *s, const struct lb_request_filter *f,
                            int (*cb)(void *userdata, struct lb_request *r), void *userdata);
        /* create = true inserts; false updates the existing row */
        int (*request_put)(struct lb_store *s, const struct lb_request *r, bool create);
        /* ids of requests whose timer deadline is <= now (at most limit) */
        int (*request_due)(struct lb_store *s, int64_t now, unsigned limit, char ***ret_ids);
        /* earliest timer deadline of any live request, 0 if none */
        int (*request_next_deadline)(struct lb_store *s, int64_t *ret);
        /* access: the approved, unexpired request with the latest not_after, and
         * the newest request of any state, for host and user (each may be NULL) */
        int (*access_find)(struct lb_store *s, const char *host, const char *user, int64_t now,
                           struct lb_request **ret_allowed, struct lb_request **ret_newest);

        /* keys */
        int (*key_add)(struct lb_store *s, const struct lb_key *k);
        /* unused keys of approved requests unexpired at now for host and user */
        int (*keys_list)(struct lb_store *s, const char *host, const char *user,
                         const char *fingerprint, int64_t now, struct lb_key **ret, size_t *ret_n);
        /* in the transaction: the key for host/user with this public key (an unused one
         * first) */
        int (*key_find)(struct lb_store *s, const char *host, const char *user,
                        const char *public_key, struct lb_key *ret);
        /* mark the key used by session: -EALREADY if it already was */
        int (*key_consume)(struct lb_store *s, const char *key_id, const char *session_id);

        /* sessions */
        int (*session_put)(struct lb_store *s, const struct lb_session *se, bool create);
        int (*session_get)(struct lb_store *s, bool in_txn, const char *id,
                           struct lb_session **ret);
        /* in the transaction: open sessions of a request */
        int (*sessions_open)(struct lb_store *s, const char *request_id,
                             struct lb_session ***ret, size_t *ret_n);

        /* audit trail: ev has time, type, request, session, actor, role, from, detail;
         * append sets seq, prev and hash in it and queues it for every target */
        int (*event_append)(struct lb_store *s, json_t *ev, char *const *targets, int64_t now);
        /* events with seq > since (request: only those), at most limit */
        int (*events_list)(struct lb_store *s, int64_t since, const char *request,
                           unsigned limit, json_t **ret_events);
        int (*event_head)(struct lb_store *s, int64_t *ret_seq, char ret_hash[65]);

        /* outbox: the first undelivered item of each (request, target) group
         * that is due at now */
        int (*outbox_due)(struct lb_store *s, int64_t now, unsigned limit,
                          struct lb_outbox_item **ret, size_t *ret_n);
        int (*outbox_done)(struct lb_store *s, int64_t id);
        int (*outbox_retry)(struct lb_store *s, int64_t id, int64_t next_at, const char *error);
        int (*outbox_count)(struct lb_store *s, int64_t *ret);

        /* tokens (the hash is hex SHA-256 of the secret) */
        int (*token_add)(struct lb_store *s, const struct lb_token *t, const char *hash);
        int (*token_find)(struct lb_store *s, const char *hash, struct lb_token *ret);
        int (*token_list)(struct lb_store *s, struct lb_token **ret, size_t *ret_n);
        int (*token_revoke)(struct lb_store *s, const char *id, int64_t now);
};

extern const struct lb_store_ops lb_store_sqlite;

struct lb_store_handle {
        const struct lb_store_ops *ops;
        struct lb_store *s;
};
