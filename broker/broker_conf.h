/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "lifecycle.h"

#define LB_BROKER_CONF_PATH LOCKBOX_CONFDIR "/lockboxd.conf"

/* lockboxd.conf (DESIGN §10): defaults, then the file, through one setter. */
struct lb_broker_conf {
        char *database;
        char *socket;
        char *listen;          /* "127.0.0.1:8443" or NULL (TCP off) */
        char *tls_cert;
        char *tls_key;
        struct lb_policy policy;
        char *operator_group;
        char *approver_group;
        char *auditor_group;
        char **approvers;      /* extra eligible approvers (principals, e.g. TCP tokens) */
        char **host_users;
        char **webhooks;
        char *notify_command;
        char *socket_group;    /* group of the unix socket (NULL: the owner's) */
        unsigned socket_mode;  /* its mode (0660) */
        unsigned max_connections;
        unsigned max_per_ip;
        unsigned max_per_uid;          /* unix: each uid but root and host_users */
        unsigned reserved_connections; /* unix: only for root and host_users */
        unsigned max_requests_per_minute; /* each token, each unprivileged uid; 0 off */
        unsigned request_timeout;    /* seconds to send a whole request */
        unsigned connection_timeout; /* seconds */
        unsigned threads;
        uint64_t notify_backoff_max; /* seconds */
};

void lb_broker_conf_init(struct lb_broker_conf *c);
void lb_broker_conf_done(struct lb_broker_conf *c);
/* The setter: 0, -ENOENT unknown key, -EINVAL bad value, -ERANGE a value past
 * the key's limits (lockboxd refuses to start on those). */
int lb_broker_conf_set(void *conf, const char *key, const char *value);
/* The allowed range of a bounded key, for messages ("1s..7d"), or NULL. */
const char *lb_broker_conf_range(const char *key);
/* Check the whole (e.g. min <= default <= max, TLS pair). On error sets *ret_detail. */
int lb_broker_conf_check(const struct lb_broker_conf *c, char **ret_detail);
