/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <grp.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "limits.h"
#include "server.h"
#include "log.h"
#include "timeutil.h"
#include "util.h"

#define LB_PRINCIPAL_MAX 64
/* refused connections kept open (at most this long) so the 429 is read */
#define LB_REFUSED_MAX 64
#define LB_REFUSED_MS 1000
/* the guard wakes at least this often to cut connections past their deadline */
#define LB_GUARD_TICK_MS 200

/* One connection as the guard sees it. On the unix socket the guard thread
 * accepts it, counts it against the peer's limits and hands it to MHD; MHD's
 * STARTED notification claims the entry, CLOSED gives the count back. While
 * an entry is in the list (under the lock) its fd is open and MHD's: the
 * guard may shutdown() it, never close it. */
struct conn {
        struct conn *prev, *next;
        int fd;
        uint32_t uid;
        bool privileged; /* root or a host user: not limited per uid */
        bool counted;    /* holds a slot of lb_limits */
        bool started;    /* MHD took it (STARTED seen) */
        bool cut;        /* shut down for being too slow */
        uint64_t since_ms;
        uint64_t deadline_ms; /* 0: none (the broker is answering) */
};

struct refused {
        int fd;
        uint64_t until_ms;
};

struct lb_server {
        struct lb_broker *b;
        struct MHD_Daemon *d;
        bool tcp;
        char *cert;
        char *key;
        pthread_mutex_t lock;
        struct conn *conns;
        struct lb_limits limits;
        struct lb_rate rate;
        int listen_fd; /* unix: accepted by the guard */
        int stop_fd;
        pthread_t guard;
        bool guard_running;
        struct refused refused[LB_REFUSED_MAX];
};

struct call {
        char *body;
        size_t len;
        bool too_large;
        bool started;
};

/* ---- routing ------------------------------------------------------------ */

static int split(const char *path, char parts[5][72], size_t *ret_n) {
        size_t n = 0;
        const char *p = path;

        if (strncmp(p, "/v1/", 4) != 0)
                return -ENOENT;
        p += 4;
        while (*p) {
                size_t k = strcspn(p, "/");
                if (n == 5 || k == 0 || k >= sizeof(parts[0]))
                        return -ENOENT;
                memcpy(parts[n], p, k);
                parts[n][k] = '\0';
                n++;
                p += k;
                if (*p == '/') {
                        p++;
                        if (!*p)
                                return -ENOENT; /* trailing slash */
                }
        }
        *ret_n = n;
        return 0;
}

static int parse_body(const char *body, size_t len, json_t **ret_json, json_t **ret) {
        json_error_t err;
        json_t *j;

        if (len == 0) {
                *ret_json = json_object();
                return 0;
        }
        j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return lb_error(ret, 400, "bad JSON at line %d column %d: %s", err.line,
                                err.column, err.text);
        if (!json_is_object(j)) {
                json_decref(j);
                return lb_error(ret, 400, "the body must be a JSON object");
        }
        *ret_json = j;
        return 0;
}

int lb_server_route(struct lb_broker *b, const struct lb_caller *c, const char *method,
                  const char *path, const char *body, size_t body_len,
                  const struct lb_query *q, json_t **ret) {
        char p[5][72];
        size_t n = 0;
        bool get = streq(method, "GET"), post = streq(method, "POST");
        json_auto_t *j = NULL;
        int st;

        if (split(path, p, &n) < 0 || n == 0)
                return lb_error(ret, 404, "no such path");
        if (post && (st = parse_body(body, body_len, &j, ret)))
                return st;
        if (get && body_len > 0)
                return lb_error(ret, 400, "a GET takes no body");

        if (n == 1 && streq(p[0], "health")) {
                if (!get)
                        return lb_error(ret, 405, "use GET");
                return lb_svc_health(b, ret);
        }
        if (n == 1 && streq(p[0], "requests")) {
                if (post)
                        return lb_svc_request_create(b, c, j, ret);
                if (get)
                        return lb_svc_request_list(b, c, q, ret);
                return lb_error(ret, 405, "use GET or POST");
        }
        if (n == 2 && streq(p[0], "requests")) {
                if (!get)
                        return lb_error(ret, 405, "use GET");
                return lb_svc_request_get(b, c, p[1], ret);
        }
        if (n == 3 && streq(p[0], "requests")) {
                if (!streq(p[2], "keys") && !streq(p[2], "approve") && !streq(p[2], "deny") &&
                    !streq(p[2], "revoke") && !streq(p[2], "withdraw") && !streq(p[2], "complete"))
                        return lb_error(ret, 404, "no such path");
                if (!post)
                        return lb_error(ret, 405, "use POST");
                if (streq(p[2], "keys"))
                        return lb_svc_key_register(b, c, p[1], j, ret);
                return lb_svc_request_action(b, c, p[1], p[2], j, ret);
        }
        if (n == 1 && (streq(p[0], "access") || streq(p[0], "keys") || streq(p[0], "audit"))) {
                if (!get)
                        return lb_error(ret, 405, "use GET");
                if (streq(p[0], "access"))
                        return lb_svc_access(b, c, q, ret);
                if (streq(p[0], "keys"))
                        return lb_svc_keys(b, c, q, ret);
                return lb_svc_audit(b, c, q, ret);
        }
        if (n == 1 && streq(p[0], "sessions")) {
                if (!post)
                        return lb_error(ret, 405, "use POST");
                return lb_svc_session_open(b, c, j, ret);
        }
        if (n == 2 && streq(p[0], "sessions")) {
                if (!get)
                        return lb_error(ret, 405, "use GET");
                return lb_svc_session_get(b, c, p[1], ret);
        }
        if (n == 3 && streq(p[0], "sessions") && streq(p[2], "end")) {
                if (!post)
                        return lb_error(ret, 405, "use POST");
                return lb_svc_session_end(b, c, p[1], j, ret);
        }
        if (n == 1 && streq(p[0], "tokens")) {
                if (post)
                        return lb_svc_token_create(b, c, j, ret);
                if (get)
                        return lb_svc_token_list(b, c, ret);
                return lb_error(ret, 405, "use GET or POST");
        }
        if (n == 3 && streq(p[0], "tokens") && streq(p[2], "revoke")) {
                if (!post)
                        return lb_error(ret, 405, "use POST");
                return lb_svc_token_revoke(b, c, p[1], ret);
        }
        return lb_error(ret, 404, "no such path");
}

/* ---- who is who --------------------------------------------------------- */

struct who {
        char principal[LB_PRINCIPAL_MAX + 8];
        char from[80];
        char addr[INET6_ADDRSTRLEN];
        struct lb_caller c;
        struct lb_token token;
};

static int who_unix(struct lb_server *h, struct MHD_Connection *conn, struct who *w) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const struct lb_broker_conf *conf = h->b->conf;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        struct passwd pw, *pwp = NULL;
        char buf[4096];
        unsigned roles = 0;

        if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -EIO;
        snprintf(w->from, sizeof(w->from), "unix:uid=%u", (unsigned) cred.uid);
        if (getpwuid_r(cred.uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp &&
            lb_name_valid(pwp->pw_name, LB_PRINCIPAL_MAX))
                snprintf(w->principal, sizeof(w->principal), "%s", pwp->pw_name);
        else
                snprintf(w->principal, sizeof(w->principal), "uid-%u", (unsigned) cred.uid);
        if (pwp) {
                if (conf->operator_group && lb_user_in_group(w->principal, conf->operator_group) > 0)
                        roles |= LB_ROLE_OPERATOR;
                if (conf->approver_group && lb_user_in_group(w->principal, conf->approver_group) > 0)
                        roles |= LB_ROLE_APPROVER;
                if (conf->auditor_group && lb_user_in_group(w->principal, conf->auditor_group) > 0)
                        roles |= LB_ROLE_AUDITOR;
                if (lb_strv_contains(conf->host_users, w->principal))
                        roles |= LB_ROLE_HOST;
        }
        if (cred.uid == 0)
                roles |= LB_ROLE_ADMIN;
        w->c = (struct lb_caller) { .principal = w->principal, .roles = roles, .from = w->from };
        return 0;
}

static int who_tcp(struct lb_server *h, struct MHD_Connection *conn, struct who *w,
                   json_t **ret) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        char addr[INET6_ADDRSTRLEN] = "?";
        unsigned port = 0;
        int e;

        if (ci && ci->client_addr) {
                if (ci->client_addr->sa_family == AF_INET) {
                        const struct sockaddr_in *in = (const void *) ci->client_addr;
                        inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
                        port = ntohs(in->sin_port);
                } else if (ci->client_addr->sa_family == AF_INET6) {
                        const struct sockaddr_in6 *in6 = (const void *) ci->client_addr;
                        inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
                        port = ntohs(in6->sin6_port);
                }
        }
        snprintf(w->from, sizeof(w->from), "tcp:%s:%u", addr, port);
        snprintf(w->addr, sizeof(w->addr), "%s", addr);
        w->c = (struct lb_caller) { .principal = "anonymous", .roles = 0, .from = w->from };
        if (!auth)
                return 0; /* only /v1/health answers without a token */
        if (strncasecmp(auth, "Bearer ", 7) != 0)
                return lb_error(ret, 401, "use Authorization: Bearer lbt_...");
        e = lb_svc_token_auth(h->b, auth + 7, &w->token);
        if (e == -ENOENT)
                return lb_error(ret, 401, "unknown or revoked token");
        if (e < 0)
                return lb_error(ret, 503, "the store failed: %s", strerror(-e));
        snprintf(w->principal, sizeof(w->principal), "%s", w->token.principal);
        w->c.principal = w->principal;
        w->c.roles = lb_role_from_string(w->token.role);
        w->c.host_binding = w->token.host;
        return 0;
}

/* ---- libmicrohttpd glue ------------------------------------------------- */

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value) {
        struct lb_query *q = cls;
        if (q->n == LB_QUERY_MAX) {
                q->overflow = true;
                return MHD_NO;
        }
        q->key[q->n] = key;
        q->value[q->n] = value;
        q->n++;
        return MHD_YES;
}

static enum MHD_Result reply(struct MHD_Connection *conn, int status, json_t *body) {
        char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
        struct MHD_Response *resp;
        enum MHD_Result r;
        size_t len;

        if (!s) {
                /* No body, or one that would not encode: keep a refusal's
                 * status (the caller's mistake stays a 4xx), else 500. Never
                 * claim "out of memory" for what may be an encoding failure. */
                if (status < 400)
                        status = 500;
                s = lb_asprintf("{\"error\":\"%s\",\"detail\":\"the answer could not be encoded\"}",
                                status < 500 ? "bad_request" : "internal");
                if (!s)
                        return MHD_NO;
        }
        len = strlen(s);
        /* a newline for people using curl */
        {
                char *t = realloc(s, len + 2);
                if (t) {
                        s = t;
                        s[len++] = '\n';
                        s[len] = '\0';
                }
        }
        resp = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(s);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        r = MHD_queue_response(conn, (unsigned) status, resp);
        MHD_destroy_response(resp);
        return r;
}

static struct conn *conn_of(struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return ci ? ci->socket_context : NULL;
}

/* When must the connection have done its part? 0: no deadline. */
static void set_deadline(struct lb_server *h, struct MHD_Connection *c, unsigned seconds) {
        struct conn *e = conn_of(c);
        if (!e)
                return;
        pthread_mutex_lock(&h->lock);
        e->deadline_ms = seconds ? lb_mono_ms() + (uint64_t) seconds * 1000 : 0;
        pthread_mutex_unlock(&h->lock);
}

/* Is the caller over its rate? Tokens (TCP) and unprivileged uids (unix):
 * hosts and root on the unix socket are never refused for rate. */
static bool over_rate(struct lb_server *h, const struct who *w) {
        char key[LB_RATE_KEY_MAX];
        int r;

        if (h->tcp) {
                if (!w->token.id)
                        return false; /* anonymous: /v1/health only, bounded per address */
                snprintf(key, sizeof(key), "token:%s", w->token.id);
        } else {
                if (w->c.roles & (LB_ROLE_HOST | LB_ROLE_ADMIN))
                        return false;
                snprintf(key, sizeof(key), "%s", w->from);
        }
        pthread_mutex_lock(&h->lock);
        r = lb_rate_take(&h->rate, key, lb_mono_ms());
        pthread_mutex_unlock(&h->lock);
        return r < 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls) {
        struct lb_server *h = cls;
        struct call *call = *con_cls;
        struct lb_query q = {};
        struct who w = {};
        json_t *out = NULL;
        enum MHD_Result r;
        int st;

        if (!call) {
                const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
                uint64_t n;
                call = calloc(1, sizeof(*call));
                if (!call)
                        return MHD_NO;
                *con_cls = call;
                /* A body a little too large is read and dropped, then answered:
                 * answered at once, a client still sending it gets EPIPE
                 * instead of the 413. A huge one is answered before it is
                 * read (curl waits for "100 Continue" from 1 MiB on), and the
                 * connection is closed after. */
                if (cl && (lb_parse_u64(cl, UINT64_MAX, &n) < 0 || n > LB_BODY_DISCARD_MAX)) {
                        call->too_large = true;
                        st = lb_error(&out, 413, "the body is larger than %d bytes", LB_BODY_MAX);
                        r = reply(conn, st, out);
                        json_decref(out);
                        call->started = true;
                        return r;
                }
                return MHD_YES;
        }
        if (call->started) { /* answered early; drop whatever body comes */
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                if (!call->too_large && call->len + *upload_data_size <= LB_BODY_MAX) {
                        char *nb = realloc(call->body, call->len + *upload_data_size + 1);
                        if (!nb)
                                return MHD_NO;
                        call->body = nb;
                        memcpy(call->body + call->len, upload_data, *upload_data_size);
                        call->len += *upload_data_size;
                        call->body[call->len] = '\0';
                } else
                        call->too_large = true;
                *upload_data_size = 0;
                return MHD_YES;
        }
        call->started = true;
        /* the whole request is in: the broker answers on its own time */
        set_deadline(h, conn, 0);
        if (call->too_large) {
                st = lb_error(&out, 413, "the body is larger than %d bytes", LB_BODY_MAX);
                goto done;
        }
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, &q);
        if (h->tcp) {
                st = who_tcp(h, conn, &w, &out);
                if (st)
                        goto done;
        } else if (who_unix(h, conn, &w) < 0) {
                st = lb_error(&out, 403, "cannot tell who is calling (no peer credentials)");
                goto done;
        }
        if (h->tcp && !w.token.id && !(streq(method, "GET") && streq(url, "/v1/health"))) {
                st = lb_error(&out, 401, "a bearer token is required");
                goto done;
        }
        if (over_rate(h, &w)) {
                st = lb_error(&out, 429, "too many requests from %s (max_requests_per_minute = %u)",
                              w.c.principal, h->b->conf->max_requests_per_minute);
                goto done;
        }
        st = lb_server_route(h->b, &w.c, method, url, call->body, call->len, &q, &out);
        log_debug("%s %s %s -> %d", w.c.principal, method, url, st);
done:
        r = reply(conn, st, out);
        /* a client that does not read its answer is not kept for ever */
        set_deadline(h, conn, h->b->conf->connection_timeout);
        json_decref(out);
        lb_token_done(&w.token);
        return r;
}

static void conn_unlink(struct lb_server *h, struct conn *e) {
        if (e->prev)
                e->prev->next = e->next;
        else
                h->conns = e->next;
        if (e->next)
                e->next->prev = e->prev;
        e->prev = e->next = NULL;
}

static void conn_link(struct lb_server *h, struct conn *e) {
        e->prev = NULL;
        e->next = h->conns;
        if (h->conns)
                h->conns->prev = e;
        h->conns = e;
}

static void conn_drop(struct lb_server *h, struct conn *e) {
        conn_unlink(h, e);
        if (e->counted)
                lb_limits_release(&h->limits, e->uid, e->privileged);
        free(e);
}

static void connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe) {
        struct lb_server *h = cls;
        const union MHD_ConnectionInfo *ci;
        struct conn *e;

        if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
                e = *socket_context;
                *socket_context = NULL;
                if (e) {
                        pthread_mutex_lock(&h->lock);
                        conn_drop(h, e);
                        pthread_mutex_unlock(&h->lock);
                }
                return;
        }
        if (toe != MHD_CONNECTION_NOTIFY_STARTED)
                return;
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci)
                return;
        pthread_mutex_lock(&h->lock);
        if (!h->tcp) {
                /* the newest unclaimed entry of this fd is this connection (an
                 * older one is one MHD dropped without telling) */
                for (e = h->conns; e; e = e->next)
                        if (!e->started && e->fd == ci->connect_fd)
                                break;
        } else
                e = NULL; /* TLS: MHD accepts (max_connections, max_connections_per_ip) */
        if (!e) {
                /* TLS, or (unix) an entry given up as lost because STARTED
                 * came very late: uncounted, but under a deadline */
                if (!h->tcp)
                        log_warning("unix: a connection (fd %d) started late, with no entry",
                                    ci->connect_fd);
                e = calloc(1, sizeof(*e));
                if (e) {
                        e->fd = ci->connect_fd;
                        e->since_ms = lb_mono_ms();
                        e->deadline_ms = e->since_ms + (uint64_t) h->b->conf->request_timeout * 1000;
                        conn_link(h, e);
                }
        }
        if (e)
                e->started = true;
        *socket_context = e;
        pthread_mutex_unlock(&h->lock);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
        struct lb_server *h = cls;
        struct call *call = *con_cls;
        if (call) {
                free(call->body);
                free(call);
        }
        *con_cls = NULL;
        /* kept alive: the next request has request_timeout to arrive whole */
        set_deadline(h, conn, h->b->conf->request_timeout);
}

/* ---- the guard: accept with limits, cut what is too slow ------------------- */

static void refuse(struct lb_server *h, int fd, int why, uint32_t uid) {
        _cleanup_free_ char *body = NULL, *msg = NULL;
        uint64_t now = lb_mono_ms();
        struct refused *slot = NULL;

        if (why == -EUSERS)
                body = lb_asprintf("{\"error\":\"too_many\",\"detail\":\"too many connections "
                                   "from uid %u (max_connections_per_uid = %u)\"}\n",
                                   (unsigned) uid, h->b->conf->max_per_uid);
        else
                body = lb_asprintf("{\"error\":\"too_many\",\"detail\":\"the broker is at its "
                                   "connection limit (max_connections = %u, %u reserved for "
                                   "hosts)\"}\n",
                                   h->b->conf->max_connections, h->b->conf->reserved_connections);
        if (body)
                msg = lb_asprintf("HTTP/1.1 429 Too Many Requests\r\nContent-Type: "
                                  "application/json\r\nCache-Control: no-store\r\nConnection: "
                                  "close\r\nContent-Length: %zu\r\n\r\n%s",
                                  strlen(body), body);
        /* a fresh socket's buffer takes this whole; if not, the peer gets less */
        if (msg)
                (void) send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
        (void) shutdown(fd, SHUT_WR);
        /* keep it a moment so the peer can send its request and read the
         * answer (closed at once, its send would fail before it reads) */
        for (size_t i = 0; i < LB_REFUSED_MAX; i++)
                if (h->refused[i].fd < 0) {
                        slot = &h->refused[i];
                        break;
                }
        if (!slot) {
                close(fd);
                return;
        }
        *slot = (struct refused) { .fd = fd, .until_ms = now + LB_REFUSED_MS };
}

static bool privileged_uid(struct lb_server *h, uid_t uid) {
        struct passwd pw, *pwp = NULL;
        char buf[4096];

        if (uid == 0)
                return true;
        return getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp &&
               lb_strv_contains(h->b->conf->host_users, pwp->pw_name);
}

static void accept_one(struct lb_server *h, int fd, const struct sockaddr *sa, socklen_t sl) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        struct conn *e;
        bool priv;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                close(fd);
                return;
        }
        priv = privileged_uid(h, cred.uid);
        e = calloc(1, sizeof(*e));
        if (!e) {
                close(fd);
                return;
        }
        pthread_mutex_lock(&h->lock);
        r = lb_limits_take(&h->limits, cred.uid, priv);
        if (r >= 0) {
                *e = (struct conn) { .fd = fd, .uid = cred.uid, .privileged = priv,
                                     .counted = true, .since_ms = lb_mono_ms() };
                e->deadline_ms = e->since_ms + (uint64_t) h->b->conf->request_timeout * 1000;
                conn_link(h, e);
        }
        pthread_mutex_unlock(&h->lock);
        if (r < 0) {
                free(e);
                log_debug("unix: refused a connection of uid %u: %s", (unsigned) cred.uid,
                          r == -EUSERS ? "max_connections_per_uid" : "max_connections");
                refuse(h, fd, r, cred.uid);
                return;
        }
        if (MHD_add_connection(h->d, fd, sa, sl) != MHD_YES) {
                /* MHD closed fd; STARTED never ran for it */
                pthread_mutex_lock(&h->lock);
                if (!e->started)
                        conn_drop(h, e);
                pthread_mutex_unlock(&h->lock);
        }
}

/* Cut connections past their deadline; forget entries MHD dropped unseen. */
static void reap(struct lb_server *h, uint64_t now) {
        uint64_t lost_after = (uint64_t) h->b->conf->request_timeout * 1000 + 5000;
        struct conn *e, *next;

        pthread_mutex_lock(&h->lock);
        for (e = h->conns; e; e = next) {
                next = e->next;
                if (!e->started) {
                        /* (an entry made after `now` was read is not old) */
                        if (now > e->since_ms && now - e->since_ms > lost_after) {
                                log_warning("unix: gave up a connection (fd %d) MHD did not "
                                            "start within %" PRIu64 " ms", e->fd, lost_after);
                                conn_drop(h, e); /* its fd may be closed: never touch it */
                        }
                        continue;
                }
                if (!e->cut && e->deadline_ms && now >= e->deadline_ms) {
                        /* MHD sees the end of the stream and closes it (CLOSED) */
                        (void) shutdown(e->fd, SHUT_RDWR);
                        e->cut = true;
                }
        }
        pthread_mutex_unlock(&h->lock);
}

static void accept_batch(struct lb_server *h, uint64_t now, uint64_t *pause_until) {
        /* a bounded batch, then the deadlines again */
        for (int i = 0; i < 64; i++) {
                struct sockaddr_un sa;
                socklen_t sl = sizeof(sa);
                int fd = accept4(h->listen_fd, (struct sockaddr *) &sa, &sl,
                                 SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM) {
                                log_warning("unix: accept: %m");
                                *pause_until = now + 100;
                        }
                        return;
                }
                accept_one(h, fd, (struct sockaddr *) &sa, sl);
        }
}

static void *guard_loop(void *userdata) {
        struct lb_server *h = userdata;
        struct pollfd p[2 + LB_REFUSED_MAX];
        int slot[2 + LB_REFUSED_MAX]; /* -1 stop, -2 listener, else refused[] index */
        uint64_t pause_until = 0;

        for (;;) {
                uint64_t now = lb_mono_ms();
                size_t n = 0;

                p[n] = (struct pollfd) { .fd = h->stop_fd, .events = POLLIN };
                slot[n++] = -1;
                if (h->listen_fd >= 0 && now >= pause_until) {
                        p[n] = (struct pollfd) { .fd = h->listen_fd, .events = POLLIN };
                        slot[n++] = -2;
                }
                for (int i = 0; i < LB_REFUSED_MAX; i++)
                        if (h->refused[i].fd >= 0) {
                                p[n] = (struct pollfd) { .fd = h->refused[i].fd, .events = POLLIN };
                                slot[n++] = i;
                        }
                if (poll(p, n, LB_GUARD_TICK_MS) < 0 && errno != EINTR)
                        log_warning("guard: poll: %m");
                if (p[0].revents)
                        return NULL;
                now = lb_mono_ms();
                for (size_t k = 1; k < n; k++) {
                        struct refused *rf;
                        char junk[4096];

                        if (!p[k].revents)
                                continue;
                        if (slot[k] == -2) {
                                accept_batch(h, now, &pause_until);
                                continue;
                        }
                        /* a refused peer: drop what it sends, close at its end */
                        rf = &h->refused[slot[k]];
                        if (!(p[k].revents & POLLIN) || read(rf->fd, junk, sizeof(junk)) <= 0) {
                                close(rf->fd);
                                rf->fd = -1;
                        }
                }
                for (int i = 0; i < LB_REFUSED_MAX; i++)
                        if (h->refused[i].fd >= 0 && now >= h->refused[i].until_ms) {
                                close(h->refused[i].fd);
                                h->refused[i].fd = -1;
                        }
                reap(h, now);
        }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) >= 0) {
                size_t n = strlen(s);
                while (n > 0 && s[n - 1] == '\n')
                        s[--n] = '\0';
                log_debug("http: %s", s);
        }
        free(s);
}

int lb_server_listen_unix(const char *path, const char *group, unsigned mode, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        gid_t gid = (gid_t) -1;
        struct stat st;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        if (group) {
                struct group gr, *grp = NULL;
                char buf[16384];
                int r = getgrnam_r(group, &gr, buf, sizeof(buf), &grp);
                if (r != 0)
                        return -r;
                if (!grp)
                        return -ESRCH; /* no such group */
                gid = grp->gr_gid;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (lstat(path, &st) == 0) {
                _cleanup_close_ int probe = -1;
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST; /* never remove anything but a stale socket */
                probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                        return -EADDRINUSE; /* another broker answers there */
                unlink(path);
        }
        /* made with the caller's umask (lockboxd's is 0077), then opened up
         * to the socket group only */
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if ((gid != (gid_t) -1 && chown(path, (uid_t) -1, gid) < 0) || chmod(path, mode) < 0) {
                int e = -errno;
                unlink(path);
                return e;
        }
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static unsigned flags(void) {
        return MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
}

static int server_new(struct lb_broker *b, bool tcp, struct lb_server **ret) {
        const struct lb_broker_conf *conf = b->conf;
        struct lb_server *h = calloc(1, sizeof(*h));
        int e;

        if (!h)
                return -ENOMEM;
        h->b = b;
        h->tcp = tcp;
        h->listen_fd = -1;
        h->stop_fd = -1;
        for (size_t i = 0; i < LB_REFUSED_MAX; i++)
                h->refused[i].fd = -1;
        pthread_mutex_init(&h->lock, NULL);
        if ((e = lb_limits_init(&h->limits, conf->max_connections, conf->reserved_connections,
                                conf->max_per_uid)) < 0 ||
            (e = lb_rate_init(&h->rate, conf->max_requests_per_minute)) < 0) {
                lb_server_stop(h);
                return e;
        }
        h->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (h->stop_fd < 0) {
                e = -errno;
                lb_server_stop(h);
                return e;
        }
        *ret = h;
        return 0;
}

static int guard_start(struct lb_server *h) {
        int e = pthread_create(&h->guard, NULL, guard_loop, h);
        if (e != 0)
                return -e;
        h->guard_running = true;
        return 0;
}

int lb_server_start_unix(struct lb_broker *b, int fd, struct lb_server **ret) {
        const struct lb_broker_conf *conf = b->conf;
        struct lb_server *h = NULL;
        int e = server_new(b, false, &h);

        if (e < 0) {
                close(fd);
                return e;
        }
        h->listen_fd = fd;
        /* The guard accepts and counts (per uid, with a reserve for hosts);
         * MHD gets the connections it let in. MHD's own limit is only a
         * backstop above ours: it drops silently. */
        h->d = MHD_start_daemon(
                flags() | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC, 0, NULL, NULL, handle, h,
                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) conf->threads,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned int) conf->max_connections * 2,
                MHD_OPTION_NOTIFY_CONNECTION, connection_notify, h,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) conf->connection_timeout,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 128 * 1024,
                MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_END);
        if (!h->d || (e = guard_start(h)) < 0) {
                lb_server_stop(h);
                return h->d ? e : -EIO;
        }
        *ret = h;
        return 0;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len) {
        _cleanup_free_ char *host = NULL;
        const char *colon = strrchr(listen, ':');
        int port;

        if (!colon || lb_parse_int(colon + 1, 1, 65535, &port) < 0)
                return -EINVAL;
        if (listen[0] == '[') {
                if (colon == listen || colon[-1] != ']')
                        return -EINVAL;
                host = strndup(listen + 1, (size_t) (colon - listen - 2));
        } else
                host = strndup(listen, (size_t) (colon - listen));
        if (!host)
                return -ENOMEM;
        memset(ss, 0, sizeof(*ss));
        {
                struct sockaddr_in *in = (void *) ss;
                struct sockaddr_in6 *in6 = (void *) ss;
                if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
                        in->sin_family = AF_INET;
                        in->sin_port = htons((uint16_t) port);
                        *len = sizeof(*in);
                        return 0;
                }
                if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                        in6->sin6_family = AF_INET6;
                        in6->sin6_port = htons((uint16_t) port);
                        *len = sizeof(*in6);
                        return 0;
                }
        }
        return -EINVAL;
}

int lb_server_start_tcp(struct lb_broker *b, struct lb_server **ret) {
        struct sockaddr_storage ss;
        socklen_t sl;
        struct lb_server *h;
        size_t n;
        int e;

        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
                return -EPROTONOSUPPORT;
        if ((e = parse_listen(b->conf->listen, &ss, &sl)) < 0)
                return e;
        if ((e = server_new(b, true, &h)) < 0)
                return e;
        if ((e = lb_read_file(b->conf->tls_cert, 1 << 20, &h->cert, &n)) < 0 ||
            (e = lb_read_file(b->conf->tls_key, 1 << 20, &h->key, &n)) < 0) {
                lb_server_stop(h);
                return e;
        }
        h->d = MHD_start_daemon(
                flags() | MHD_USE_TLS | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL,
                NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
                MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key,
                MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) b->conf->threads,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned int) b->conf->max_connections,
                MHD_OPTION_NOTIFY_CONNECTION, connection_notify, h,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) b->conf->max_per_ip,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) b->conf->connection_timeout,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 128 * 1024,
                MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_END);
        if (!h->d) {
                lb_server_stop(h);
                return -EADDRNOTAVAIL;
        }
        /* no listener of ours: the guard only cuts what is too slow */
        if ((e = guard_start(h)) < 0) {
                lb_server_stop(h);
                return e;
        }
        *ret = h;
        return 0;
}

void lb_server_stop(struct lb_server *h) {
        if (!h)
                return;
        if (h->guard_running) {
                uint64_t one = 1;
                (void) !write(h->stop_fd, &one, sizeof(one));
                pthread_join(h->guard, NULL);
        }
        /* closes every connection (CLOSED notifications free their entries) */
        if (h->d)
                MHD_stop_daemon(h->d);
        while (h->conns) /* entries MHD never started */
                conn_drop(h, h->conns);
        for (size_t i = 0; i < LB_REFUSED_MAX; i++)
                if (h->refused[i].fd >= 0)
                        close(h->refused[i].fd);
        if (h->listen_fd >= 0)
                close(h->listen_fd);
        if (h->stop_fd >= 0)
                close(h->stop_fd);
        lb_limits_done(&h->limits);
        lb_rate_done(&h->rate);
        pthread_mutex_destroy(&h->lock);
        if (h->key)
                lb_explicit_bzero(h->key, strlen(h->key));
        free(h->cert);
        free(h->key);
        free(h);
}
