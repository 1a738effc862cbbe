/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "service.h"

/* The HTTP side of lockboxd (libmicrohttpd): a unix socket where the peer's
 * uid decides the role, and an optional TLS listener with bearer tokens. */

#define LB_BODY_MAX (64 * 1024)
/* bodies up to this size are read (and dropped) before a 413 */
#define LB_BODY_DISCARD_MAX (1024 * 1024)

struct lb_server;

/* Start the unix-socket server on an already listening socket fd (taken over,
 * closed on failure too). Connections are accepted by a guard thread that
 * counts them per peer uid (max_connections_per_uid, with
 * reserved_connections kept for root and host_users) and cuts any that has
 * not sent a whole request within request_timeout. */
int lb_server_start_unix(struct lb_broker *b, int fd, struct lb_server **ret);
/* Start the TLS server on conf->listen. */
int lb_server_start_tcp(struct lb_broker *b, struct lb_server **ret);
void lb_server_stop(struct lb_server *h);

/* Route one call: method, path (no query), caller, body, query. Pure of HTTP;
 * used by both servers and by tests. */
int lb_server_route(struct lb_broker *b, const struct lb_caller *c, const char *method,
                  const char *path, const char *body, size_t body_len,
                  const struct lb_query *q, json_t **ret);

/* Bind and listen on a unix socket path (stale socket replaced), owned by
 * group (NULL: the caller's) with mode. -ESRCH when the group does not exist. */
int lb_server_listen_unix(const char *path, const char *group, unsigned mode, int *ret_fd);
