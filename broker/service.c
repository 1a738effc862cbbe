/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>

#include "audit.h"
#include "lifecycle.h"
#include "log.h"
#include "service.h"
#include "sshkey.h"
#include "text.h"
#include "timeutil.h"
#include "util.h"

#define LB_TEXT_MAX 4096
#define LB_TICKET_MAX 256
#define LB_NAME_MAX 253
#define LB_KEY_MAX 16384
#define LB_HOSTS_MAX 64
#define LB_LIST_MAX 1000
#define LB_AUDIT_MAX 10000

/* ---- roles, callers, clock ------------------------------------------- */

static const char *const role_names[] = { "operator", "approver", "auditor", "host", "admin" };

const char *lb_role_to_string(unsigned role) {
        for (unsigned i = 0; i < ELEMENTSOF(role_names); i++)
                if (role == 1u << i)
                        return role_names[i];
        return "none";
}

unsigned lb_role_from_string(const char *s) {
        for (unsigned i = 0; s && i < ELEMENTSOF(role_names); i++)
                if (streq(role_names[i], s))
                        return 1u << i;
        return 0;
}

static int64_t real_clock(void *userdata) {
        return lb_now_s();
}

int64_t lb_broker_now(struct lb_broker *b) {
        return b->clock(b->clock_data);
}

static pthread_mutex_t group_lock = PTHREAD_MUTEX_INITIALIZER;

int lb_group_members(void *userdata, const char *group, char ***ret) {
        struct group *gr;
        struct passwd *pw;
        char **v;
        size_t n = 0, cap = 16;
        gid_t gid;
        int r = 0;

        v = calloc(cap + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        pthread_mutex_lock(&group_lock);
        errno = 0;
        gr = getgrnam(group);
        if (!gr) {
                r = errno ? -errno : 0; /* no such group: nobody */
                goto done;
        }
        gid = gr->gr_gid;
        for (char **m = gr->gr_mem; m && *m; m++) {
                if (n == cap) {
                        char **nv = reallocarray(v, cap * 2 + 1, sizeof(char *));
                        if (!nv) {
                                r = -ENOMEM;
                                goto done;
                        }
                        v = nv;
                        cap *= 2;
                }
                if (!(v[n++] = strdup(*m))) {
                        r = -ENOMEM;
                        goto done;
                }
                v[n] = NULL;
        }
        setpwent();
        while ((pw = getpwent())) {
                if (pw->pw_gid != gid || lb_strv_contains(v, pw->pw_name))
                        continue;
                if (n == cap) {
                        char **nv = reallocarray(v, cap * 2 + 1, sizeof(char *));
                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                        cap *= 2;
                }
                if (!(v[n++] = strdup(pw->pw_name))) {
                        r = -ENOMEM;
                        break;
                }
                v[n] = NULL;
        }
        endpwent();
done:
        pthread_mutex_unlock(&group_lock);
        if (r < 0) {
                lb_strv_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

int lb_broker_init(struct lb_broker *b, const struct lb_broker_conf *conf,
                   const struct lb_store_ops *ops, struct lb_store *store) {
        size_t n = lb_strv_length(conf->webhooks), k = 0;

        *b = (struct lb_broker) { .conf = conf, .ops = ops, .store = store, .clock = real_clock,
                                  .members = lb_group_members };
        pthread_mutex_init(&b->sink_lock, NULL);
        b->targets = calloc(n + 2, sizeof(char *));
        if (!b->targets)
                return -ENOMEM;
        for (char **w = conf->webhooks; w && *w; w++)
                if (!(b->targets[k++] = lb_strjoin("webhook:", *w)))
                        return -ENOMEM;
        if (conf->notify_command && !(b->targets[k++] = strdup("command")))
                return -ENOMEM;
        return 0;
}

void lb_broker_done(struct lb_broker *b) {
        lb_strv_free(b->targets);
        b->targets = NULL;
        pthread_mutex_destroy(&b->sink_lock);
}

const char *lb_query_get(const struct lb_query *q, const char *key) {
        for (size_t i = 0; q && i < q->n; i++)
                if (streq(q->key[i], key))
                        return q->value[i];
        return NULL;
}

int lb_error(json_t **ret, int status, const char *fmt, ...) {
        static const struct {
                int status;
                const char *error;
        } names[] = { { 400, "bad_request" }, { 401, "unauthorized" }, { 403, "forbidden" },
                      { 404, "not_found" },   { 405, "method_not_allowed" },
                      { 409, "conflict" },    { 413, "too_large" },    { 429, "too_many" },
                      { 500, "internal" },    { 503, "unavailable" } };
        const char *error = "internal";
        _cleanup_free_ char *detail = NULL, *clean = NULL;
        va_list ap;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].status == status)
                        error = names[i].error;
        va_start(ap, fmt);
        if (vasprintf(&detail, fmt, ap) < 0)
                detail = NULL;
        va_end(ap);
        /* A detail may quote the caller's bytes: make it valid UTF-8 (and
         * without control characters) or jansson refuses the whole answer. */
        if (detail)
                clean = lb_text_clean(detail);
        *ret = json_pack("{s:s, s:s}", "error", error, "detail", clean ? clean : error);
        return status;
}

static int errno_status(int e) {
        switch (e) {
        case -EINVAL:
                return 400;
        case -EPERM:
                return 403;
        case -ENOENT:
                return 404;
        case -EBUSY:
        case -EALREADY:
        case -EEXIST:
                return 409;
        default:
                return 500;
        }
}

static int store_error(json_t **ret, int e) {
        log_error("store failure: %s", strerror(-e));
        return lb_error(ret, 503, "the store failed: %s", strerror(-e));
}

/* ---- input checking --------------------------------------------------- */

enum field_kind { F_TEXT, F_NAME, F_KEY, F_INT, F_HOSTS };

struct field {
        const char *name;
        enum field_kind kind;
        bool required;
        size_t max; /* bytes for strings, value for ints */
};

static bool text_ok(json_t *v, size_t max, const char **why) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (strlen(s) != len) {
                *why = "contains a NUL byte";
                return false;
        }
        if (len > max) {
                *why = "is too long";
                return false;
        }
        return true;
}

/* Check that body is an object with only the given fields, of the right types
 * and sizes. Returns a status (0 ok) with an error body naming the field. */
static int check_body(json_t *body, const struct field *fields, size_t n, json_t **ret) {
        const char *key, *why = NULL;
        json_t *v;

        if (!json_is_object(body))
                return lb_error(ret, 400, "the body must be a JSON object");
        json_object_foreach(body, key, v) {
                const struct field *f = NULL;
                for (size_t i = 0; i < n; i++)
                        if (streq(fields[i].name, key))
                                f = &fields[i];
                if (!f)
                        return lb_error(ret, 400, "unknown field \"%s\"", LB_TEXT_CUT(key, 64));
                if (json_is_null(v) && !f->required)
                        continue;
                switch (f->kind) {
                case F_TEXT:
                case F_KEY:
                        if (!json_is_string(v))
                                return lb_error(ret, 400, "%s: must be a string", key);
                        if (!text_ok(v, f->max, &why))
                                return lb_error(ret, 400, "%s: %s (at most %zu bytes)", key, why,
                                                f->max);
                        break;
                case F_NAME:
                        if (!json_is_string(v))
                                return lb_error(ret, 400, "%s: must be a string", key);
                        if (!lb_name_valid(json_string_value(v), f->max) ||
                            strlen(json_string_value(v)) != json_string_length(v))
                                return lb_error(ret, 400,
                                                "%s: must be 1..%zu characters of [A-Za-z0-9._@+-]",
                                                key, f->max);
                        break;
                case F_INT:
                        if (!json_is_integer(v))
                                return lb_error(ret, 400, "%s: must be an integer", key);
                        if (json_integer_value(v) < 0 ||
                            (uint64_t) json_integer_value(v) > f->max)
                                return lb_error(ret, 400, "%s: must be between 0 and %zu", key,
                                                f->max);
                        break;
                case F_HOSTS: {
                        size_t i;
                        json_t *h;
                        if (!json_is_array(v))
                                return lb_error(ret, 400, "%s: must be an array of host names",
                                                key);
                        if (json_array_size(v) < 1 || json_array_size(v) > LB_HOSTS_MAX)
                                return lb_error(ret, 400, "%s: must name 1..%d hosts", key,
                                                LB_HOSTS_MAX);
                        json_array_foreach(v, i, h)
                                if (!json_is_string(h) ||
                                    !lb_name_valid(json_string_value(h), LB_NAME_MAX))
                                        return lb_error(ret, 400,
                                                        "%s[%zu]: must be a host name of "
                                                        "[A-Za-z0-9._@+-], at most %d bytes",
                                                        key, i, LB_NAME_MAX);
                        break;
                }
                }
        }
        for (size_t i = 0; i < n; i++)
                if (fields[i].required && !json_object_get(body, fields[i].name))
                        return lb_error(ret, 400, "%s: missing", fields[i].name);
        return 0;
}

static const char *jstr(json_t *body, const char *key) {
        return json_string_value(json_object_get(body, key));
}

static int check_query(const struct lb_query *q, const char *const *allowed, json_t **ret) {
        if (q && q->overflow)
                return lb_error(ret, 400, "too many query parameters");
        for (size_t i = 0; q && i < q->n; i++) {
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        if (streq(*a, q->key[i]))
                                ok = true;
                if (!ok)
                        return lb_error(ret, 400, "unknown query parameter \"%s\"",
                                        LB_TEXT_CUT(q->key[i], 64));
                if (!q->value[i] || strlen(q->value[i]) > LB_NAME_MAX + 64)
                        return lb_error(ret, 400, "%s: missing or too long", q->key[i]);
        }
        return 0;
}

static int query_name(const struct lb_query *q, const char *key, bool required, const char **out,
                      json_t **ret) {
        const char *v = lb_query_get(q, key);
        *out = NULL;
        if (!v) {
                if (required)
                        return lb_error(ret, 400, "%s: missing query parameter", key);
                return 0;
        }
        if (!lb_name_valid(v, LB_NAME_MAX))
                return lb_error(ret, 400, "%s: must be 1..%d characters of [A-Za-z0-9._@+-]", key,
                                LB_NAME_MAX);
        *out = v;
        return 0;
}

/* ---- events ----------------------------------------------------------- */

/* Events written in the current transaction, sent to journald/auditd after commit. */
struct txn {
        struct lb_broker *b;
        json_t *events;
        int64_t now;
};

static void txn_init(struct txn *t, struct lb_broker *b) {
        *t = (struct txn) { .b = b, .events = json_array(), .now = lb_broker_now(b) };
}

static void txn_done(struct txn *t) {
        json_decref(t->events);
        t->events = NULL;
}

static int emit(struct txn *t, const char *type, const char *request, const char *session,
                const char *actor, const char *role, const char *from, json_t *detail) {
        char tb[LB_TIME_LEN];
        json_auto_t *ev = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s, s:s, s:o}", "time",
                                    lb_time_format(t->now, tb, sizeof(tb)), "type", type,
                                    "request", request, "session", session, "actor", actor,
                                    "role", role, "from", from,
                                    "detail", detail ? detail : json_object());
        int e;

        if (!ev)
                return -ENOMEM;
        if (!request)
                json_object_set_new(ev, "request", json_null());
        if (!session)
                json_object_set_new(ev, "session", json_null());
        e = t->b->ops->event_append(t->b->store, ev, t->b->targets, t->now);
        if (e < 0)
                return e;
        json_array_append(t->events, ev);
        return 0;
}

static void sinks(struct lb_broker *b, json_t *events) {
        json_t *ev;
        size_t i;

        if (!b->sinks || json_array_size(events) == 0)
                return;
        pthread_mutex_lock(&b->sink_lock);
        json_array_foreach(events, i, ev) {
                int r = lb_audit_to_journal(ev);
                if (r < 0 && !b->warned_journal) {
                        log_warning("could not send audit events to journald: %s (the audit "
                                    "trail in the store is complete)", strerror(-r));
                        b->warned_journal = true;
                } else if (r >= 0)
                        b->warned_journal = false;
                r = lb_audit_to_auditd(ev);
                if (r < 0 && !b->warned_audit) {
                        log_warning("could not send audit events to auditd: %s", strerror(-r));
                        b->warned_audit = true;
                } else if (r >= 0)
                        b->warned_audit = false;
        }
        pthread_mutex_unlock(&b->sink_lock);
}

static int txn_commit(struct txn *t) {
        int e = t->b->ops->commit(t->b->store);
        if (e < 0)
                return e;
        sinks(t->b, t->events);
        if (json_array_size(t->events) > 0 && t->b->wake_notifier)
                t->b->wake_notifier(t->b);
        return 0;
}

/* Give up the transaction: nothing of it is kept. */
static void txn_abort(struct txn *t) {
        t->b->ops->rollback(t->b->store);
        txn_done(t);
}

/* Commit if e >= 0, else roll back; done either way. The result of the commit
 * (or e). */
static int txn_end(struct txn *t, int e) {
        if (e >= 0)
                e = txn_commit(t);
        else
                t->b->ops->rollback(t->b->store);
        txn_done(t);
        return e;
}

/* A call that is refused keeps the events already written (a due expiry):
 * commit them if there are any, else roll back. */
static int txn_keep_events(struct txn *t) {
        int e = json_array_size(t->events) ? txn_commit(t) : (t->b->ops->rollback(t->b->store), 0);
        txn_done(t);
        return e;
}

static int txn_begin(struct txn *t, struct lb_broker *b) {
        int e = b->ops->begin(b->store);
        txn_init(t, b);
        /* the time is taken once the write lock is held, so events are in time order */
        return e;
}

static json_t *state_detail(const struct lb_request *r) {
        return json_pack("{s:s}", "state", lb_state_to_string(r->state));
}

/* End every open session of r (after revoke/expire/complete), in the transaction. */
static int end_sessions(struct txn *t, const struct lb_request *r, const char *reason,
                        const char *actor, const char *role, const char *from) {
        struct lb_session **v = NULL;
        size_t n = 0;
        int e;

        e = t->b->ops->sessions_open(t->b->store, r->id, &v, &n);
        if (e < 0)
                return e;
        for (size_t i = 0; i < n && e >= 0; i++) {
                char *why = strdup(reason);
                if (!why) {
                        e = -ENOMEM;
                        break;
                }
                v[i]->open = false;
                v[i]->ended_at = t->now;
                free(v[i]->end_reason);
                v[i]->end_reason = why;
                e = t->b->ops->session_put(t->b->store, v[i], false);
                if (e >= 0)
                        e = emit(t, "SessionEnd", r->id, v[i]->id, actor, role, from,
                                 json_pack("{s:s, s:s, s:s}", "reason", reason, "host",
                                           v[i]->host, "user", v[i]->user));
        }
        for (size_t i = 0; i < n; i++)
                lb_session_free(v[i]);
        free(v);
        return e;
}

/* Write an expiry found due; in the transaction. */
static int expire_in_txn(struct txn *t, struct lb_request *r) {
        int e = lb_lc_expire(r, t->now);
        if (e <= 0)
                return e;
        e = t->b->ops->request_put(t->b->store, r, false);
        if (e >= 0)
                e = emit(t, "Expire", r->id, NULL, "lockboxd", "system", "lockboxd",
                         json_pack("{s:s, s:s}", "reason", r->end_reason, "state", "expired"));
        if (e >= 0)
                e = end_sessions(t, r, "expired", "lockboxd", "system", "lockboxd");
        return e < 0 ? e : 1;
}

/* ---- visibility -------------------------------------------------------- */

static bool can_see(const struct lb_caller *c, const struct lb_request *r) {
        if (c->roles & (LB_ROLE_APPROVER | LB_ROLE_AUDITOR | LB_ROLE_ADMIN))
                return true;
        if ((c->roles & LB_ROLE_OPERATOR) && streq(c->principal, r->operator_))
                return true;
        return false;
}

static int host_allowed(const struct lb_caller *c, const char *host, json_t **ret) {
        if (!(c->roles & LB_ROLE_HOST))
                return lb_error(ret, 403, "%s is not a host", c->principal);
        if (c->host_binding && !streq(c->host_binding, host))
                return lb_error(ret, 403, "this token may ask only about host %s",
                                c->host_binding);
        return 0;
}

/* ---- calls -------------------------------------------------------------- */

int lb_svc_health(struct lb_broker *b, json_t **ret) {
        int e = b->ops->health(b->store);
        *ret = json_pack("{s:s, s:s, s:s}", "status", e < 0 ? "error" : "ok", "store",
                         e < 0 ? "error" : "ok", "version", PACKAGE_VERSION);
        return e < 0 ? 503 : 200;
}

int lb_svc_request_create(struct lb_broker *b, const struct lb_caller *c, json_t *body,
                          json_t **ret) {
        static const struct field fields[] = {
                { "hosts", F_HOSTS, false, 0 },
                { "host", F_NAME, false, LB_NAME_MAX },
                { "user", F_NAME, true, LB_NAME_MAX },
                { "reason", F_TEXT, true, LB_TEXT_MAX },
                { "ticket", F_TEXT, true, LB_TICKET_MAX },
                { "duration_s", F_INT, false, 100L * 365 * 86400 },
                { "approvals_required", F_INT, false, 100 },
        };
        _cleanup_strv_free_ char **hosts = NULL, **members = NULL;
        _cleanup_request_ struct lb_request *r = NULL;
        _cleanup_free_ char *id = NULL, *detail = NULL;
        struct lb_create_input in = {};
        json_t *jh;
        struct txn t;
        int st, e;

        if (!(c->roles & LB_ROLE_OPERATOR))
                return lb_error(ret, 403, "%s is not an operator", c->principal);
        if ((st = check_body(body, fields, ELEMENTSOF(fields), ret)))
                return st;
        jh = json_object_get(body, "hosts");
        if (jh && !json_is_null(jh) && jstr(body, "host"))
                return lb_error(ret, 400, "host: give either host or hosts, not both");
        if (json_is_array(jh)) {
                size_t i;
                json_t *h;
                hosts = calloc(json_array_size(jh) + 1, sizeof(char *));
                if (!hosts)
                        return lb_error(ret, 500, "out of memory");
                json_array_foreach(jh, i, h)
                        if (!(hosts[i] = strdup(json_string_value(h))))
                                return lb_error(ret, 500, "out of memory");
        } else if (jstr(body, "host")) {
                hosts = lb_strv_split(jstr(body, "host"), ",");
                if (!hosts)
                        return lb_error(ret, 500, "out of memory");
        } else
                return lb_error(ret, 400, "hosts: missing (or host)");
        if (isempty(jstr(body, "reason")))
                return lb_error(ret, 400, "reason: must not be empty");
        if (isempty(jstr(body, "ticket")))
                return lb_error(ret, 400, "ticket: must not be empty");
        in = (struct lb_create_input) {
                .operator_ = c->principal,
                .hosts = hosts,
                .user = jstr(body, "user"),
                .reason = jstr(body, "reason"),
                .ticket = jstr(body, "ticket"),
                .duration_s = (uint64_t) json_integer_value(json_object_get(body, "duration_s")),
                .approvals_required = (unsigned) json_integer_value(
                        json_object_get(body, "approvals_required")),
        };
        if (json_object_get(body, "duration_s") && in.duration_s == 0)
                return lb_error(ret, 400, "duration_s: must be positive");
        /* approvers are fixed now: the group's members at this moment */
        e = b->members(b->members_data, b->conf->approver_group, &members);
        if (e < 0)
                return lb_error(ret, 503, "could not read group %s: %s", b->conf->approver_group,
                                strerror(-e));
        for (char **a = b->conf->approvers; a && *a; a++)
                if (!lb_strv_contains(members, *a)) {
                        size_t n = lb_strv_length(members);
                        char **nv = realloc(members, (n + 2) * sizeof(char *));
                        if (!nv)
                                return lb_error(ret, 500, "out of memory");
                        members = nv;
                        members[n] = strdup(*a);
                        members[n + 1] = NULL;
                }
        e = lb_random_id("r-", 6, &id);
        if (e < 0)
                return lb_error(ret, 500, "no random id: %s", strerror(-e));
        if ((e = txn_begin(&t, b)) < 0) {
                txn_done(&t);
                return store_error(ret, e);
        }
        e = lb_lc_create(&b->conf->policy, &in, id, members, t.now, &r, &detail);
        if (e < 0) {
                txn_abort(&t);
                if (e == -ENOMEM)
                        return lb_error(ret, 500, "out of memory");
                return lb_error(ret, errno_status(e), "%s", strna(detail));
        }
        e = b->ops->request_put(b->store, r, true);
        if (e >= 0)
                e = emit(&t, "Create", r->id, NULL, c->principal, "operator", c->from,
                         json_pack("{s:s, s:o}", "state", "pending", "request",
                                   lb_request_to_store_json(r)));
        e = txn_end(&t, e);
        if (e < 0)
                return store_error(ret, e);
        *ret = lb_request_to_json(r, t.now);
        return 201;
}

struct list_ctx {
        json_t *a;
        const struct lb_caller *c;
        const char *state;
        int64_t now;
};

static int list_cb(void *userdata, struct lb_request *r) {
        struct list_ctx *x = userdata;
        if (can_see(x->c, r) &&
            (!x->state || streq(x->state, lb_state_to_string(lb_lc_effective_state(r, x->now)))))
                json_array_append_new(x->a, lb_request_to_json(r, x->now));
        lb_request_free(r);
        return 0;
}

int lb_svc_request_list(struct lb_broker *b, const struct lb_caller *c, const struct lb_query *q,
                        json_t **ret) {
        static const char *const allowed[] = { "state", "operator", "host", "approver", "limit",
                                               NULL };
        struct lb_request_filter f = { .now = lb_broker_now(b), .limit = LB_LIST_MAX };
        struct list_ctx x = { .c = c, .now = f.now };
        const char *lim = lb_query_get(q, "limit");
        int st, e;

        if (!(c->roles & (LB_ROLE_OPERATOR | LB_ROLE_APPROVER | LB_ROLE_AUDITOR | LB_ROLE_ADMIN)))
                return lb_error(ret, 403, "%s may not list requests", c->principal);
        if ((st = check_query(q, allowed, ret)) || (st = query_name(q, "operator", false, &f.operator_, ret)) ||
            (st = query_name(q, "host", false, &f.host, ret)) ||
            (st = query_name(q, "approver", false, &f.approver, ret)))
                return st;
        f.state = lb_query_get(q, "state");
        if (f.state && lb_state_from_string(f.state) == LB_STATE_INVALID)
                return lb_error(ret, 400, "state: unknown state \"%s\"",
                                LB_TEXT_CUT(f.state, 32));
        if (lim) {
                uint64_t l;
                if (lb_parse_u64(lim, LB_LIST_MAX, &l) < 0 || l == 0)
                        return lb_error(ret, 400, "limit: must be 1..%d", LB_LIST_MAX);
                f.limit = (unsigned) l;
        }
        /* operators see their own only (unless they also hold a wider role) */
        if (!(c->roles & (LB_ROLE_APPROVER | LB_ROLE_AUDITOR | LB_ROLE_ADMIN)))
                f.operator_ = c->principal;
        x.state = f.state;
        x.a = json_array();
        e = b->ops->request_list(b->store, &f, list_cb, &x);
        if (e < 0) {
                json_decref(x.a);
                return store_error(ret, e);
        }
        *ret = json_pack("{s:o}", "requests", x.a);
        return 200;
}

static int load_visible(struct lb_broker *b, const struct lb_caller *c, const char *id,
                        struct lb_request **r, json_t **ret) {
        int e;
        if (!lb_name_valid(id, 64))
                return lb_error(ret, 404, "no request %s", LB_TEXT_CUT(id, 64));
        e = b->ops->request_get(b->store, false, id, r);
        if (e == -ENOENT)
                return lb_error(ret, 404, "no request %s", id);
        if (e < 0)
                return store_error(ret, e);
        if (!can_see(c, *r)) {
                lb_request_free(*r);
                *r = NULL;
                return lb_error(ret, 403, "%s may not see request %s", c->principal, id);
        }
        return 0;
}

int lb_svc_request_get(struct lb_broker *b, const struct lb_caller *c, const char *id,
                       json_t **ret) {
        _cleanup_request_ struct lb_request *r = NULL;
        int st;

        if (!(c->roles & (LB_ROLE_OPERATOR | LB_ROLE_APPROVER | LB_ROLE_AUDITOR | LB_ROLE_ADMIN)))
                return lb_error(ret, 403, "%s may not read requests", c->principal);
        if ((st = load_visible(b, c, id, &r, ret)))
                return st;
        if (lb_lc_effective_state(r, lb_broker_now(b)) != r->state && b->wake_timer)
                b->wake_timer(b);
        *ret = lb_request_to_json(r, lb_broker_now(b));
        return 200;
}

int lb_svc_request_action(struct lb_broker *b, const struct lb_caller *c, const char *id,
                          const char *action, json_t *body, json_t **ret) {
        static const struct field f_comment[] = { { "comment", F_TEXT, false, LB_TEXT_MAX } };
        static const struct field f_reason[] = { { "reason", F_TEXT, true, LB_TEXT_MAX } };
        static const struct field f_none[] = { { "comment", F_TEXT, false, LB_TEXT_MAX } };
        _cleanup_request_ struct lb_request *r = NULL;
        _cleanup_free_ char *detail = NULL;
        const char *type, *role, *text = NULL;
        struct txn t;
        int st, e;

        if (streq(action, "approve")) {
                st = check_body(body, f_comment, ELEMENTSOF(f_comment), ret);
                text = jstr(body, "comment");
                type = "Approve";
                role = "approver";
        } else if (streq(action, "deny") || streq(action, "revoke")) {
                st = check_body(body, f_reason, ELEMENTSOF(f_reason), ret);
                text = jstr(body, "reason");
                if (!st && isempty(text))
                        st = lb_error(ret, 400, "reason: must not be empty");
                type = streq(action, "deny") ? "Deny" : "Revoke";
                role = streq(action, "revoke") && !(c->roles & LB_ROLE_APPROVER) ? "admin"
                                                                                 : "approver";
        } else if (streq(action, "withdraw") || streq(action, "complete")) {
                st = check_body(body, f_none, ELEMENTSOF(f_none), ret);
                type = streq(action, "withdraw") ? "Withdraw" : "Complete";
                role = "operator";
        } else
                return lb_error(ret, 404, "unknown action %s", LB_TEXT_CUT(action, 32));
        if (st)
                return st;
        if (!lb_name_valid(id, 64))
                return lb_error(ret, 404, "no request %s", LB_TEXT_CUT(id, 64));

        if ((e = txn_begin(&t, b)) < 0) {
                txn_done(&t);
                return store_error(ret, e);
        }
        e = b->ops->request_get(b->store, true, id, &r);
        if (e < 0) {
                txn_abort(&t);
                return e == -ENOENT ? lb_error(ret, 404, "no request %s", id) : store_error(ret, e);
        }
        if (!can_see(c, r) && !lb_strv_contains(r->approvers, c->principal)) {
                txn_abort(&t);
                return lb_error(ret, 403, "%s may not act on request %s", c->principal, id);
        }
        /* the role an event names is the one that allowed the call */
        if (streq(type, "Revoke"))
                role = lb_strv_contains(r->approvers, c->principal) ? "approver" : "admin";
        /* an expiry that is due is written first: the transition sees the truth */
        e = expire_in_txn(&t, r);
        if (e >= 0) {
                if (streq(type, "Approve"))
                        e = lb_lc_approve(r, c->principal, text, t.now, &detail);
                else if (streq(type, "Deny"))
                        e = lb_lc_deny(r, c->principal, text, t.now, &detail);
                else if (streq(type, "Revoke"))
                        e = lb_lc_revoke(r, c->principal, (c->roles & LB_ROLE_ADMIN), text, t.now,
                                         &detail);
                else if (!(c->roles & LB_ROLE_OPERATOR))
                        e = -EPERM, detail = lb_asprintf("%s is not an operator", c->principal);
                else if (streq(type, "Withdraw"))
                        e = lb_lc_withdraw(r, c->principal, t.now, &detail);
                else
                        e = lb_lc_complete(r, c->principal, t.now, &detail);
                if (e < 0 && e != -ENOMEM) {
                        /* keep a due expiry even though the call is refused */
                        int c2 = txn_keep_events(&t);
                        if (c2 < 0)
                                return store_error(ret, c2);
                        return lb_error(ret, errno_status(e), "%s", strna(detail));
                }
        }
        if (e >= 0)
                e = b->ops->request_put(b->store, r, false);
        if (e >= 0) {
                json_t *d = state_detail(r);
                if (streq(type, "Approve")) {
                        json_object_set_new(d, "comment", text ? json_string(text) : json_null());
                        json_object_set_new(d, "approvals", json_integer((json_int_t) r->n_approvals));
                        json_object_set_new(d, "approvals_required",
                                            json_integer(r->approvals_required));
                } else if (text)
                        json_object_set_new(d, "reason", json_string(text));
                e = emit(&t, type, r->id, NULL, c->principal, role, c->from, d);
        }
        if (e >= 0 && (streq(type, "Revoke") || streq(type, "Complete")))
                e = end_sessions(&t, r, streq(type, "Revoke") ? "revoked" : "completed",
                                 c->principal, role, c->from);
        e = txn_end(&t, e);
        if (e < 0)
                return store_error(ret, e);
        *ret = lb_request_to_json(r, t.now);
        return 200;
}

static json_t *time_json(int64_t t) {
        char buf[LB_TIME_LEN];
        return t > 0 ? json_string(lb_time_format(t, buf, sizeof(buf))) : json_null();
}

int lb_svc_key_register(struct lb_broker *b, const struct lb_caller *c, const char *id,
                        json_t *body, json_t **ret) {
        static const struct field fields[] = { { "public_key", F_KEY, true, LB_KEY_MAX } };
        _cleanup_request_ struct lb_request *r = NULL;
        _cleanup_free_ char *detail = NULL, *key = NULL, *fp = NULL, *kid = NULL;
        struct lb_key k;
        struct txn t;
        int st, e;

        if (!(c->roles & LB_ROLE_OPERATOR))
                return lb_error(ret, 403, "%s is not an operator", c->principal);
        if ((st = check_body(body, fields, ELEMENTSOF(fields), ret)))
                return st;
        if (lb_sshkey_normalize(jstr(body, "public_key"), &key) < 0)
                return lb_error(ret, 400, "public_key: not an OpenSSH public key");
        if (lb_sshkey_fingerprint(key, &fp) < 0)
                return lb_error(ret, 400, "public_key: cannot fingerprint");
        if (!lb_name_valid(id, 64))
                return lb_error(ret, 404, "no request %s", LB_TEXT_CUT(id, 64));
        if (lb_random_id("k-", 6, &kid) < 0)
                return lb_error(ret, 500, "no random id");
        if ((e = txn_begin(&t, b)) < 0) {
                txn_done(&t);
                return store_error(ret, e);
        }
        e = b->ops->request_get(b->store, true, id, &r);
        if (e == -ENOENT || (e >= 0 && !can_see(c, r))) {
                txn_abort(&t);
                return e == -ENOENT ? lb_error(ret, 404, "no request %s", id)
                                    : lb_error(ret, 403, "%s may not use request %s",
                                               c->principal, id);
        }
        if (e >= 0 && (e = lb_lc_can_register_key(r, c->principal, t.now, &detail)) < 0 &&
            e != -ENOMEM) {
                txn_abort(&t);
                return lb_error(ret, errno_status(e), "%s", strna(detail));
        }
        k = (struct lb_key) { .id = kid, .request = r->id, .public_key = key, .fingerprint = fp,
                              .created_at = t.now };
        if (e >= 0)
                e = b->ops->key_add(b->store, &k);
        if (e == -EEXIST) {
                txn_abort(&t);
                return lb_error(ret, 409, "this key is already registered on %s", id);
        }
        if (e >= 0)
                e = emit(&t, "KeyRegistered", r->id, NULL, c->principal, "operator", c->from,
                         json_pack("{s:s, s:s, s:s, s:o}", "key", kid, "fingerprint", fp, "state",
                                   "approved", "not_after", time_json(r->not_after)));
        e = txn_end(&t, e);
        if (e < 0)
                return store_error(ret, e);
        *ret = json_pack("{s:s, s:s, s:s, s:o, s:I}", "key", kid, "request", r->id, "fingerprint",
                         fp, "not_after", time_json(r->not_after), "remaining_s",
                         (json_int_t) lb_lc_remaining(r, t.now));
        return 201;
}

static const char *ended_words(enum lb_state s) {
        switch (s) {
        case LB_STATE_PENDING:
                return "is pending";
        case LB_STATE_APPROVED:
                return "is approved";
        case LB_STATE_DENIED:
                return "was denied";
        case LB_STATE_EXPIRED:
                return "expired";
        case LB_STATE_WITHDRAWN:
                return "was withdrawn";
        case LB_STATE_REVOKED:
                return "was revoked";
        case LB_STATE_COMPLETED:
                return "was completed";
        default:
                return "is in an unknown state";
        }
}

int lb_svc_access(struct lb_broker *b, const struct lb_caller *c, const struct lb_query *q,
                  json_t **ret) {
        static const char *const allowed[] = { "host", "user", NULL };
        _cleanup_request_ struct lb_request *ok = NULL, *newest = NULL;
        const char *host, *user;
        int64_t now = lb_broker_now(b);
        int st, e;

        if ((st = check_query(q, allowed, ret)) || (st = query_name(q, "host", true, &host, ret)) ||
            (st = query_name(q, "user", true, &user, ret)) || (st = host_allowed(c, host, ret)))
                return st;
        e = b->ops->access_find(b->store, host, user, now, &ok, &newest);
        if (e < 0)
                return store_error(ret, e); /* never "allow" without the store */
        if (ok) {
                *ret = json_pack("{s:b, s:s, s:s, s:s, s:s, s:o, s:I}", "allow", 1, "request",
                                 ok->id, "operator", ok->operator_, "host", host, "user", user,
                                 "not_after", time_json(ok->not_after), "remaining_s",
                                 (json_int_t) lb_lc_remaining(ok, now));
                return 200;
        }
        *ret = json_pack("{s:b, s:s, s:s}", "allow", 0, "host", host, "user", user);
        if (newest) {
                enum lb_state s = lb_lc_effective_state(newest, now);
                if (s != newest->state && b->wake_timer)
                        b->wake_timer(b);
                json_object_set_new(*ret, "request", json_string(newest->id));
                _cleanup_free_ char *why = lb_asprintf("request %s %s", newest->id,
                                                        ended_words(s));
                json_object_set_new(*ret, "reason", json_string(why ? why : "no access"));
                json_object_set_new(*ret, "state", json_string(lb_state_to_string(s)));
        } else {
                _cleanup_free_ char *why = lb_asprintf("no approved request for %s on %s", user, host);
                json_object_set_new(*ret, "reason", json_string(why ? why : "no approved request"));
        }
        {
                _cleanup_free_ char *hint = lb_asprintf(
                        "ask for access: lockboxctl request --host %s --user %s --reason TEXT "
                        "--ticket T", host, user);
                json_object_set_new(*ret, "hint", json_string(hint ? hint : ""));
        }
        return 200;
}

int lb_svc_keys(struct lb_broker *b, const struct lb_caller *c, const struct lb_query *q,
                json_t **ret) {
        static const char *const allowed[] = { "host", "user", "fingerprint", NULL };
        const char *host, *user, *fp = lb_query_get(q, "fingerprint");
        struct lb_key *v = NULL;
        size_t n = 0;
        int64_t now = lb_broker_now(b);
        json_t *a;
        int st, e;

        if ((st = check_query(q, allowed, ret)) || (st = query_name(q, "host", true, &host, ret)) ||
            (st = query_name(q, "user", true, &user, ret)) || (st = host_allowed(c, host, ret)))
                return st;
        if (fp && (strncmp(fp, "SHA256:", 7) != 0 || strlen(fp) > 100))
                return lb_error(ret, 400, "fingerprint: must be SHA256:<base64>");
        e = b->ops->keys_list(b->store, host, user, fp, now, &v, &n);
        if (e < 0)
                return store_error(ret, e);
        a = json_array();
        for (size_t i = 0; i < n; i++) {
                json_array_append_new(
                        a, json_pack("{s:s, s:s, s:s, s:s, s:o, s:I}", "key", v[i].id, "request",
                                     v[i].request, "public_key", v[i].public_key, "fingerprint",
                                     v[i].fingerprint, "not_after", time_json(v[i].not_after),
                                     "remaining_s", (json_int_t) (v[i].not_after - now)));
                lb_key_done(&v[i]);
        }
        free(v);
        *ret = json_pack("{s:o}", "keys", a);
        return 200;
}

static json_t *session_json(const struct lb_session *se, const struct lb_request *r,
                            int64_t now) {
        enum lb_state s = r ? lb_lc_effective_state(r, now) : LB_STATE_INVALID;
        bool allow = se->open && s == LB_STATE_APPROVED;
        json_t *why = json_null();

        if (!allow) {
                _cleanup_free_ char *w = NULL;
                if (s == LB_STATE_REVOKED)
                        w = lb_asprintf("revoked: %s", r->end_reason ? r->end_reason : "");
                else if (s == LB_STATE_EXPIRED)
                        w = strdup("expired");
                else if (s == LB_STATE_COMPLETED)
                        w = strdup("completed");
                else if (!se->open)
                        w = strdup("ended");
                else
                        w = lb_asprintf("request is %s", lb_state_to_string(s));
                why = json_string(w ? w : "ended");
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:I, s:o, s:o, s:o, s:o}",
                         "session", se->id, "request", se->request, "operator", se->operator_,
                         "host", se->host, "user", se->user, "state", se->open ? "open" : "ended",
                         "allow", allow, "not_after", time_json(r ? r->not_after : 0),
                         "remaining_s", (json_int_t) (allow ? lb_lc_remaining(r, now) : 0),
                         "opened_at", time_json(se->opened_at), "ended_at",
                         time_json(se->ended_at), "end_reason",
                         se->end_reason ? json_string(se->end_reason) : json_null(), "reason",
                         why);
}

int lb_svc_session_open(struct lb_broker *b, const struct lb_caller *c, json_t *body,
                        json_t **ret) {
        static const struct field fields[] = {
                { "host", F_NAME, true, LB_NAME_MAX },
                { "user", F_NAME, true, LB_NAME_MAX },
                { "public_key", F_KEY, true, LB_KEY_MAX },
                { "remote", F_TEXT, false, 256 },
                { "tty", F_TEXT, false, 256 },
                { "pid", F_INT, false, 1u << 30 },
                { "audit_session", F_INT, false, UINT32_MAX },
        };
        _cleanup_request_ struct lb_request *r = NULL;
        _cleanup_free_ char *key = NULL, *sid = NULL;
        struct lb_session se = {};
        struct lb_key k = {};
        const char *host, *user;
        json_t *v;
        struct txn t;
        int st, e;

        if ((st = check_body(body, fields, ELEMENTSOF(fields), ret)))
                return st;
        host = jstr(body, "host");
        user = jstr(body, "user");
        if ((st = host_allowed(c, host, ret)))
                return st;
        if (lb_sshkey_normalize(jstr(body, "public_key"), &key) < 0)
                return lb_error(ret, 400, "public_key: not an OpenSSH public key");
        if (lb_random_id("s-", 8, &sid) < 0)
                return lb_error(ret, 500, "no random id");
        if ((e = txn_begin(&t, b)) < 0) {
                txn_done(&t);
                return store_error(ret, e);
        }
        e = b->ops->key_find(b->store, host, user, key, &k);
        if (e == -ENOENT) {
                txn_abort(&t);
                return lb_error(ret, 404, "no such key for %s on %s", user, host);
        }
        if (e >= 0 && k.session) {
                txn_abort(&t);
                st = lb_error(ret, 409, "key %s already opened session %s", k.id, k.session);
                lb_key_done(&k);
                return st;
        }
        if (e >= 0)
                e = b->ops->request_get(b->store, true, k.request, &r);
        if (e >= 0)
                e = expire_in_txn(&t, r);
        if (e >= 0 && lb_lc_effective_state(r, t.now) != LB_STATE_APPROVED) {
                st = lb_error(ret, 403, "request %s %s", r->id,
                              ended_words(lb_lc_effective_state(r, t.now)));
                e = txn_keep_events(&t);
                lb_key_done(&k);
                return e < 0 ? store_error(ret, e) : st;
        }
        if (e >= 0)
                e = b->ops->key_consume(b->store, k.id, sid);
        if (e == -EALREADY) {
                txn_abort(&t);
                lb_key_done(&k);
                return lb_error(ret, 409, "the key was already used");
        }
        se = (struct lb_session) { .id = sid, .request = r ? r->id : NULL, .key = k.id,
                                   .operator_ = r ? r->operator_ : NULL, .host = (char *) host,
                                   .user = (char *) user,
                                   .remote = (char *) jstr(body, "remote"),
                                   .tty = (char *) jstr(body, "tty"), .pid = -1,
                                   .audit_session = -1, .open = true, .opened_at = t.now };
        if ((v = json_object_get(body, "pid")) && json_is_integer(v))
                se.pid = json_integer_value(v);
        if ((v = json_object_get(body, "audit_session")) && json_is_integer(v))
                se.audit_session = json_integer_value(v);
        if (e >= 0)
                e = b->ops->session_put(b->store, &se, true);
        if (e >= 0)
                e = emit(&t, "SessionStart", r->id, sid, c->principal, "host", c->from,
                         json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:I}", "key", k.id,
                                   "fingerprint", k.fingerprint, "host", host, "user", user,
                                   "remote", se.remote, "tty", se.tty, "pid",
                                   (json_int_t) se.pid, "audit_session",
                                   (json_int_t) se.audit_session));
        e = txn_end(&t, e);
        if (e < 0) {
                lb_key_done(&k);
                return store_error(ret, e);
        }
        *ret = session_json(&se, r, t.now);
        lb_key_done(&k);
        return 201;
}

int lb_svc_session_end(struct lb_broker *b, const struct lb_caller *c, const char *id,
                       json_t *body, json_t **ret) {
        static const struct field fields[] = { { "reason", F_TEXT, false, 256 } };
        struct lb_session *se = NULL;
        _cleanup_request_ struct lb_request *r = NULL;
        const char *reason;
        struct txn t;
        int st, e;

        if ((st = check_body(body, fields, ELEMENTSOF(fields), ret)))
                return st;
        reason = jstr(body, "reason") ? jstr(body, "reason") : "exit";
        if (!(c->roles & LB_ROLE_HOST))
                return lb_error(ret, 403, "%s is not a host", c->principal);
        if (!lb_name_valid(id, 64))
                return lb_error(ret, 404, "no session %s", LB_TEXT_CUT(id, 64));
        if ((e = txn_begin(&t, b)) < 0) {
                txn_done(&t);
                return store_error(ret, e);
        }
        e = b->ops->session_get(b->store, true, id, &se);
        if (e == -ENOENT || (e >= 0 && c->host_binding && !streq(c->host_binding, se->host))) {
                txn_abort(&t);
                lb_session_free(se);
                return e == -ENOENT ? lb_error(ret, 404, "no session %s", id)
                                    : lb_error(ret, 403, "this token may ask only about host %s",
                                               c->host_binding);
        }
        if (e >= 0)
                e = b->ops->request_get(b->store, true, se->request, &r);
        if (e >= 0 && se->open) {
                char *why = strdup(reason);
                if (!why)
                        e = -ENOMEM;
                else {
                        se->open = false;
                        se->ended_at = t.now;
                        free(se->end_reason);
                        se->end_reason = why;
                        e = b->ops->session_put(b->store, se, false);
                        if (e >= 0)
                                e = emit(&t, "SessionEnd", se->request, se->id, c->principal,
                                         "host", c->from,
                                         json_pack("{s:s, s:s, s:s}", "reason", reason, "host",
                                                   se->host, "user", se->user));
                }
        }
        e = e >= 0 ? txn_keep_events(&t) : txn_end(&t, e);
        if (e < 0) {
                lb_session_free(se);
                return store_error(ret, e);
        }
        *ret = session_json(se, r, t.now);
        lb_session_free(se);
        return 200;
}

int lb_svc_session_get(struct lb_broker *b, const struct lb_caller *c, const char *id,
                       json_t **ret) {
        struct lb_session *se = NULL;
        _cleanup_request_ struct lb_request *r = NULL;
        int64_t now = lb_broker_now(b);
        int e;

        if (!(c->roles & (LB_ROLE_HOST | LB_ROLE_AUDITOR | LB_ROLE_ADMIN)))
                return lb_error(ret, 403, "%s may not read sessions", c->principal);
        if (!lb_name_valid(id, 64))
                return lb_error(ret, 404, "no session %s", LB_TEXT_CUT(id, 64));
        e = b->ops->session_get(b->store, false, id, &se);
        if (e == -ENOENT)
                return lb_error(ret, 404, "no session %s", id);
        if (e < 0)
                return store_error(ret, e);
        if (c->host_binding && !streq(c->host_binding, se->host)) {
                lb_session_free(se);
                return lb_error(ret, 403, "this token may ask only about host %s",
                                c->host_binding);
        }
        e = b->ops->request_get(b->store, false, se->request, &r);
        if (e < 0) {
                lb_session_free(se);
                return store_error(ret, e);
        }
        if (lb_lc_effective_state(r, now) != r->state && b->wake_timer)
                b->wake_timer(b);
        *ret = session_json(se, r, now);
        lb_session_free(se);
        return 200;
}

int lb_svc_audit(struct lb_broker *b, const struct lb_caller *c, const struct lb_query *q,
                 json_t **ret) {
        static const char *const allowed[] = { "since", "request", "limit", NULL };
        const char *since_s = lb_query_get(q, "since"), *lim_s = lb_query_get(q, "limit"),
                   *request = NULL;
        uint64_t since = 0, limit = 1000;
        int64_t head_seq;
        char head_hash[65];
        json_t *events;
        int st, e;

        if (!(c->roles & (LB_ROLE_AUDITOR | LB_ROLE_APPROVER | LB_ROLE_ADMIN)))
                return lb_error(ret, 403, "%s may not read the audit trail", c->principal);
        if ((st = check_query(q, allowed, ret)) || (st = query_name(q, "request", false, &request, ret)))
                return st;
        if (since_s && lb_parse_u64(since_s, INT64_MAX, &since) < 0)
                return lb_error(ret, 400, "since: must be a sequence number");
        if (lim_s && (lb_parse_u64(lim_s, LB_AUDIT_MAX, &limit) < 0 || limit == 0))
                return lb_error(ret, 400, "limit: must be 1..%d", LB_AUDIT_MAX);
        e = b->ops->event_head(b->store, &head_seq, head_hash);
        if (e >= 0)
                e = b->ops->events_list(b->store, (int64_t) since, request, (unsigned) limit,
                                        &events);
        if (e < 0)
                return store_error(ret, e);
        *ret = json_pack("{s:o, s:{s:I, s:s}}", "events", events, "head", "seq",
                         (json_int_t) head_seq, "hash", head_hash);
        return 200;
}

int lb_svc_token_create(struct lb_broker *b, const struct lb_caller *c, json_t *body,
                        json_t **ret) {
        static const struct field fields[] = {
                { "principal", F_NAME, true, LB_NAME_MAX },
                { "role", F_NAME, true, 16 },
                { "host", F_NAME, false, LB_NAME_MAX },
        };
        _cleanup_free_ char *id = NULL, *secret_hex = NULL, *token = NULL, *hash = NULL;
        unsigned char secret[32];
        const char *role, *host;
        struct lb_token tk;
        struct txn t;
        int st, e;

        if (!(c->roles & LB_ROLE_ADMIN))
                return lb_error(ret, 403, "%s is not an admin", c->principal);
        if ((st = check_body(body, fields, ELEMENTSOF(fields), ret)))
                return st;
        role = jstr(body, "role");
        host = jstr(body, "host");
        if (!lb_role_from_string(role))
                return lb_error(ret, 400, "role: must be operator, approver, auditor, host or admin");
        if (streq(role, "host") && !host)
                return lb_error(ret, 400, "host: required for a host token");
        if (!streq(role, "host") && host)
                return lb_error(ret, 400, "host: only host tokens are bound to a host");
        if (lb_random_id("t-", 6, &id) < 0 || lb_random_bytes(secret, sizeof(secret)) < 0)
                return lb_error(ret, 500, "no randomness");
        secret_hex = lb_hexencode(secret, sizeof(secret));
        lb_explicit_bzero(secret, sizeof(secret));
        token = secret_hex ? lb_strjoin("lbt_", secret_hex) : NULL;
        hash = token ? lb_sha256_hex(token, strlen(token)) : NULL;
        if (!hash)
                return lb_error(ret, 500, "out of memory");
        if ((e = txn_begin(&t, b)) < 0) {
                txn_done(&t);
                return store_error(ret, e);
        }
        tk = (struct lb_token) { .id = id, .principal = (char *) jstr(body, "principal"),
                                 .role = (char *) role, .host = (char *) host,
                                 .created_at = t.now };
        e = b->ops->token_add(b->store, &tk, hash);
        if (e >= 0)
                e = emit(&t, "TokenCreate", NULL, NULL, c->principal, "admin", c->from,
                         json_pack("{s:s, s:s, s:s, s:s?}", "token", id, "principal",
                                   tk.principal, "role", role, "host", host));
        e = txn_end(&t, e);
        if (e < 0)
                return store_error(ret, e);
        *ret = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o}", "id", id, "principal", tk.principal,
                         "role", role, "host", host, "token", token, "created_at",
                         time_json(tk.created_at));
        if (!host)
                json_object_set_new(*ret, "host", json_null());
        lb_explicit_bzero(token, strlen(token));
        lb_explicit_bzero(secret_hex, strlen(secret_hex));
        return 201;
}

int lb_svc_token_list(struct lb_broker *b, const struct lb_caller *c, json_t **ret) {
        struct lb_token *v = NULL;
        size_t n = 0;
        json_t *a;
        int e;

        if (!(c->roles & LB_ROLE_ADMIN))
                return lb_error(ret, 403, "%s is not an admin", c->principal);
        e = b->ops->token_list(b->store, &v, &n);
        if (e < 0)
                return store_error(ret, e);
        a = json_array();
        for (size_t i = 0; i < n; i++) {
                json_array_append_new(
                        a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", v[i].id, "principal",
                                     v[i].principal, "role", v[i].role, "host",
                                     v[i].host ? json_string(v[i].host) : json_null(),
                                     "created_at", time_json(v[i].created_at), "revoked_at",
                                     time_json(v[i].revoked_at)));
                lb_token_done(&v[i]);
        }
        free(v);
        *ret = json_pack("{s:o}", "tokens", a);
        return 200;
}

int lb_svc_token_revoke(struct lb_broker *b, const struct lb_caller *c, const char *id,
                        json_t **ret) {
        struct txn t;
        int e;

        if (!(c->roles & LB_ROLE_ADMIN))
                return lb_error(ret, 403, "%s is not an admin", c->principal);
        if (!lb_name_valid(id, 64))
                return lb_error(ret, 404, "no token %s", LB_TEXT_CUT(id, 64));
        if ((e = txn_begin(&t, b)) < 0) {
                txn_done(&t);
                return store_error(ret, e);
        }
        e = b->ops->token_revoke(b->store, id, t.now);
        if (e == -ENOENT) {
                txn_abort(&t);
                return lb_error(ret, 404, "no active token %s", id);
        }
        if (e >= 0)
                e = emit(&t, "TokenRevoke", NULL, NULL, c->principal, "admin", c->from,
                         json_pack("{s:s}", "token", id));
        e = txn_end(&t, e);
        if (e < 0)
                return store_error(ret, e);
        *ret = json_pack("{s:s, s:b}", "id", id, "revoked", 1);
        return 200;
}

int lb_svc_token_auth(struct lb_broker *b, const char *bearer, struct lb_token *ret_token) {
        _cleanup_free_ char *hash = NULL;
        if (!bearer || strncmp(bearer, "lbt_", 4) != 0 || strlen(bearer) > 200)
                return -ENOENT;
        hash = lb_sha256_hex(bearer, strlen(bearer));
        if (!hash)
                return -ENOMEM;
        return b->ops->token_find(b->store, hash, ret_token);
}

int lb_svc_expire_due(struct lb_broker *b) {
        _cleanup_strv_free_ char **ids = NULL;
        int n, done = 0, e;

        n = b->ops->request_due(b->store, lb_broker_now(b), 200, &ids);
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                _cleanup_request_ struct lb_request *r = NULL;
                struct txn t;
                if ((e = txn_begin(&t, b)) < 0) {
                        txn_done(&t);
                        return e;
                }
                e = b->ops->request_get(b->store, true, ids[i], &r);
                if (e >= 0)
                        e = expire_in_txn(&t, r);
                if (e > 0) {
                        e = txn_end(&t, 0);
                        if (e >= 0)
                                done++;
                } else
                        txn_abort(&t);
                if (e < 0)
                        return e;
        }
        return done;
}

int64_t lb_svc_next_wait(struct lb_broker *b, int64_t max_wait) {
        int64_t next = 0, now = lb_broker_now(b);
        if (b->ops->request_next_deadline(b->store, &next) < 0 || next == 0)
                return max_wait;
        if (next <= now)
                return 0;
        return MIN(next - now, max_wait);
}
