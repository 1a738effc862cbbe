/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "broker_conf.h"
#include "util.h"

void lb_broker_conf_init(struct lb_broker_conf *c) {
        *c = (struct lb_broker_conf) {
                .database = strdup(LOCALSTATEDIR "/lib/lockbox/lockboxd.db"),
                .socket = strdup(RUNSTATEDIR "/lockbox/lockboxd.sock"),
                .operator_group = strdup("lockbox-operators"),
                .approver_group = strdup("lockbox-approvers"),
                .auditor_group = strdup("lockbox-auditors"),
                .host_users = lb_strv_split("root,lockbox,lockbox-keys,lockbox-rec", ","),
                .socket_group = strdup("lockbox-clients"),
                .socket_mode = 0660,
                .max_connections = 256,
                .max_per_ip = 32,
                .max_per_uid = 16,
                .reserved_connections = 32,
                .max_requests_per_minute = 1200,
                .request_timeout = 5,
                .connection_timeout = 30,
                .threads = 8,
                .notify_backoff_max = 300,
        };
        lb_policy_init(&c->policy);
}

void lb_broker_conf_done(struct lb_broker_conf *c) {
        free(c->database);
        free(c->socket);
        free(c->socket_group);
        free(c->listen);
        free(c->tls_cert);
        free(c->tls_key);
        free(c->operator_group);
        free(c->approver_group);
        free(c->auditor_group);
        lb_strv_free(c->approvers);
        lb_strv_free(c->host_users);
        lb_strv_free(c->webhooks);
        free(c->notify_command);
        *c = (struct lb_broker_conf) {};
}

static int set_str(char **where, const char *value) {
        char *s = strdup(value);
        if (!s)
                return -ENOMEM;
        free(*where);
        *where = s;
        return 0;
}

static int set_optional(char **where, const char *value) {
        if (isempty(value) || streq(value, "none") || streq(value, "off")) {
                free(*where);
                *where = NULL;
                return 0;
        }
        return set_str(where, value);
}

static int set_list(char ***where, const char *value) {
        char **v = lb_strv_split(value, ", ");
        if (!v)
                return -ENOMEM;
        lb_strv_free(*where);
        *where = v;
        return 0;
}

static int append_list(char ***where, const char *value) {
        char **add = lb_strv_split(value, ", "), **v;
        size_t n = lb_strv_length(*where), m;
        if (!add)
                return -ENOMEM;
        m = lb_strv_length(add);
        v = realloc(*where, (n + m + 1) * sizeof(char *));
        if (!v) {
                lb_strv_free(add);
                return -ENOMEM;
        }
        memcpy(v + n, add, (m + 1) * sizeof(char *));
        free(add); /* the strings moved */
        *where = v;
        return 0;
}

static int set_duration(uint64_t *where, const char *value, uint64_t max) {
        uint64_t s;
        int r = lb_parse_duration(value, &s);
        if (r < 0)
                return -EINVAL;
        if (s > max)
                return -ERANGE;
        *where = s;
        return 0;
}

static int set_uint(unsigned *where, const char *value, int min, int max) {
        int v, r = lb_parse_int(value, min, max, &v);
        if (r < 0)
                return -EINVAL;
        *where = (unsigned) v;
        return 0;
}

int lb_broker_conf_set(void *conf, const char *key, const char *value) {
        struct lb_broker_conf *c = conf;

        if (streq(key, "database"))
                return set_str(&c->database, value);
        if (streq(key, "socket"))
                return set_str(&c->socket, value);
        if (streq(key, "socket_group"))
                return set_optional(&c->socket_group, value);
        if (streq(key, "socket_mode")) {
                /* octal; the owner keeps read and write, nobody gets more than rw */
                char *end = NULL;
                unsigned long m;
                if (isempty(value) || strlen(value) > 4 || strspn(value, "01234567") != strlen(value))
                        return -EINVAL;
                errno = 0;
                m = strtoul(value, &end, 8);
                if (errno || !end || *end || (m & ~0666UL) || (m & 0600) != 0600)
                        return -ERANGE;
                c->socket_mode = (unsigned) m;
                return 0;
        }
        if (streq(key, "listen"))
                return set_optional(&c->listen, value);
        if (streq(key, "tls_cert"))
                return set_optional(&c->tls_cert, value);
        if (streq(key, "tls_key"))
                return set_optional(&c->tls_key, value);
        if (streq(key, "pending_ttl"))
                return set_duration(&c->policy.pending_ttl, value, LB_PENDING_TTL_LIMIT);
        if (streq(key, "default_duration"))
                return set_duration(&c->policy.default_duration, value, LB_DURATION_LIMIT);
        if (streq(key, "max_duration"))
                return set_duration(&c->policy.max_duration, value, LB_DURATION_LIMIT);
        if (streq(key, "min_duration"))
                return set_duration(&c->policy.min_duration, value, LB_DURATION_LIMIT);
        if (streq(key, "approvals_required"))
                return set_uint(&c->policy.approvals_required, value, 1, 100);
        if (streq(key, "operator_group"))
                return set_str(&c->operator_group, value);
        if (streq(key, "approver_group"))
                return set_str(&c->approver_group, value);
        if (streq(key, "auditor_group"))
                return set_str(&c->auditor_group, value);
        if (streq(key, "approvers"))
                return set_list(&c->approvers, value);
        if (streq(key, "host_users"))
                return set_list(&c->host_users, value);
        if (streq(key, "webhook")) /* may repeat, or be a list */
                return append_list(&c->webhooks, value);
        if (streq(key, "notify_command"))
                return set_optional(&c->notify_command, value);
        if (streq(key, "max_connections"))
                return set_uint(&c->max_connections, value, 1, 100000);
        if (streq(key, "max_connections_per_ip"))
                return set_uint(&c->max_per_ip, value, 1, 100000);
        if (streq(key, "max_connections_per_uid"))
                return set_uint(&c->max_per_uid, value, 1, 100000);
        if (streq(key, "reserved_connections"))
                return set_uint(&c->reserved_connections, value, 0, 100000);
        if (streq(key, "max_requests_per_minute"))
                return set_uint(&c->max_requests_per_minute, value, 0, 1000000);
        if (streq(key, "request_timeout")) {
                uint64_t s;
                int r = set_duration(&s, value, 60);
                if (r < 0)
                        return r;
                if (s < 1)
                        return -ERANGE;
                c->request_timeout = (unsigned) s;
                return 0;
        }
        if (streq(key, "connection_timeout")) {
                uint64_t s;
                int r = set_duration(&s, value, 3600);
                if (r < 0)
                        return r;
                if (s < 1)
                        return -ERANGE;
                c->connection_timeout = (unsigned) s;
                return 0;
        }
        if (streq(key, "threads"))
                return set_uint(&c->threads, value, 1, 64);
        if (streq(key, "notify_backoff_max"))
                return set_duration(&c->notify_backoff_max, value, 86400);
        return -ENOENT;
}

const char *lb_broker_conf_range(const char *key) {
        static const struct {
                const char *key, *range;
        } ranges[] = {
                { "pending_ttl", "1s..30d" },         { "default_duration", "1s..7d" },
                { "max_duration", "1s..7d" },         { "min_duration", "1s..7d" },
                { "connection_timeout", "1s..1h" },   { "notify_backoff_max", "0..1d" },
                { "request_timeout", "1s..60s" },
                { "socket_mode", "0600..0666, owner read and write" },
        };
        for (size_t i = 0; key && i < ELEMENTSOF(ranges); i++)
                if (streq(ranges[i].key, key))
                        return ranges[i].range;
        return NULL;
}

int lb_broker_conf_check(const struct lb_broker_conf *c, char **ret_detail) {
        const struct lb_policy *p = &c->policy;

        if (p->min_duration < 1 || p->min_duration > p->max_duration) {
                *ret_detail = strdup("min_duration must be >= 1s and <= max_duration");
                return -EINVAL;
        }
        if (p->default_duration < p->min_duration || p->default_duration > p->max_duration) {
                *ret_detail = strdup("default_duration must lie between min_duration and max_duration");
                return -EINVAL;
        }
        if (p->pending_ttl < 1) {
                *ret_detail = strdup("pending_ttl must be at least 1s");
                return -EINVAL;
        }
        if (c->reserved_connections >= c->max_connections) {
                *ret_detail = strdup("reserved_connections must be below max_connections");
                return -EINVAL;
        }
        if (c->max_per_uid > c->max_connections - c->reserved_connections) {
                *ret_detail = strdup("max_connections_per_uid must be at most max_connections - "
                                     "reserved_connections");
                return -EINVAL;
        }
        if (c->listen && (!c->tls_cert || !c->tls_key)) {
                *ret_detail = strdup("listen needs tls_cert and tls_key (TCP is TLS only)");
                return -EINVAL;
        }
        if (isempty(c->database) || isempty(c->socket)) {
                *ret_detail = strdup("database and socket must be set");
                return -EINVAL;
        }
        return 0;
}
