/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker_conf.h"
#include "macro.h"
#include "store.h"

/* The broker's calls (docs/API.md), independent of HTTP: each takes the
 * caller and its parsed input and returns an HTTP status with a JSON body
 * (an answer, or {"error","detail"}). Lifecycle rules come from lifecycle.c,
 * storage from the store interface; this file ties them together, one store
 * transaction per state change. */

enum {
        LB_ROLE_OPERATOR = 1 << 0,
        LB_ROLE_APPROVER = 1 << 1,
        LB_ROLE_AUDITOR = 1 << 2,
        LB_ROLE_HOST = 1 << 3,
        LB_ROLE_ADMIN = 1 << 4,
};
const char *lb_role_to_string(unsigned role);
unsigned lb_role_from_string(const char *s);

struct lb_caller {
        const char *principal;
        unsigned roles;
        const char *host_binding; /* a host token: the only host it may ask about */
        const char *from;         /* "unix:uid=1001", "tcp:127.0.0.1:40000" */
};

struct lb_broker;
typedef int64_t (*lb_clock_t)(void *userdata);
/* Members of a group right now (NULL-terminated, malloc'd). */
typedef int (*lb_members_t)(void *userdata, const char *group, char ***ret);

struct lb_broker {
        const struct lb_broker_conf *conf;
        const struct lb_store_ops *ops;
        struct lb_store *store;
        lb_clock_t clock;
        void *clock_data;
        lb_members_t members;
        void *members_data;
        char **targets;  /* outbox targets: "webhook:URL", "command" */
        bool sinks;      /* send events to journald and auditd */
        /* called after a commit that wrote events / found an expiry due */
        void (*wake_notifier)(struct lb_broker *b);
        void (*wake_timer)(struct lb_broker *b);
        pthread_mutex_t sink_lock;
        bool warned_journal, warned_audit;
};

/* Set up b (targets from conf). clock/members NULL: the real ones. */
int lb_broker_init(struct lb_broker *b, const struct lb_broker_conf *conf,
                   const struct lb_store_ops *ops, struct lb_store *store);
void lb_broker_done(struct lb_broker *b);
int64_t lb_broker_now(struct lb_broker *b);
/* Real group lookup (getgrnam + primary groups). */
int lb_group_members(void *userdata, const char *group, char ***ret);

/* Query parameters of a call, as given. */
#define LB_QUERY_MAX 16
struct lb_query {
        size_t n;
        bool overflow;
        const char *key[LB_QUERY_MAX];
        const char *value[LB_QUERY_MAX];
};
const char *lb_query_get(const struct lb_query *q, const char *key);

/* A JSON error body; returns status. */
int lb_error(json_t **ret, int status, const char *fmt, ...) _printf_(3, 4);

int lb_svc_health(struct lb_broker *b, json_t **ret);
int lb_svc_request_create(struct lb_broker *b, const struct lb_caller *c, json_t *body, json_t **ret);
int lb_svc_request_list(struct lb_broker *b, const struct lb_caller *c, const struct lb_query *q,
                        json_t **ret);
int lb_svc_request_get(struct lb_broker *b, const struct lb_caller *c, const char *id, json_t **ret);
/* action: approve deny revoke withdraw complete */
int lb_svc_request_action(struct lb_broker *b, const struct lb_caller *c, const char *id,
                          const char *action, json_t *body, json_t **ret);
int lb_svc_key_register(struct lb_broker *b, const struct lb_caller *c, const char *id,
                        json_t *body, json_t **ret);
int lb_svc_access(struct lb_broker *b, const struct lb_caller *c, const struct lb_query *q,
                  json_t **ret);
int lb_svc_keys(struct lb_broker *b, const struct lb_caller *c, const struct lb_query *q,
                json_t **ret);
int lb_svc_session_open(struct lb_broker *b, const struct lb_caller *c, json_t *body, json_t **ret);
int lb_svc_session_end(struct lb_broker *b, const struct lb_caller *c, const char *id,
                       json_t *body, json_t **ret);
int lb_svc_session_get(struct lb_broker *b, const struct lb_caller *c, const char *id, json_t **ret);
int lb_svc_audit(struct lb_broker *b, const struct lb_caller *c, const struct lb_query *q,
                 json_t **ret);
int lb_svc_token_create(struct lb_broker *b, const struct lb_caller *c, json_t *body, json_t **ret);
int lb_svc_token_list(struct lb_broker *b, const struct lb_caller *c, json_t **ret);
int lb_svc_token_revoke(struct lb_broker *b, const struct lb_caller *c, const char *id, json_t **ret);
/* Bearer token -> caller (principal, role, host binding; strings malloc'd into
 * *ret_token). -ENOENT unknown or revoked. */
int lb_svc_token_auth(struct lb_broker *b, const char *bearer, struct lb_token *ret_token);

/* The timer: write Expire events for everything due at now. Returns how many. */
int lb_svc_expire_due(struct lb_broker *b);
/* Seconds until the next deadline (capped at max_wait), for the timer thread. */
int64_t lb_svc_next_wait(struct lb_broker *b, int64_t max_wait);
