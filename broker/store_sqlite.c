/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <pthread.h>
#include <sqlite3.h>

#include "chain.h"
#include "lifecycle.h"
#include "store.h"
#include "util.h"

/* SQLite backend: one writer connection (behind a mutex, in WAL mode with
 * synchronous=FULL) and one reader connection per thread, each with its own
 * cache of prepared statements. Readers never fsync and never block the writer. */

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000
#define STMT_CACHE 64

struct conn {
        sqlite3 *db;
        struct {
                const char *sql;
                sqlite3_stmt *st;
        } cache[STMT_CACHE];
        size_t n;
};

struct lb_store {
        char *path;
        pthread_mutex_t write_lock;
        struct conn *writer;
        pthread_key_t reader_key;
        bool in_txn;
};

static const char schema[] =
        "CREATE TABLE requests ("
        "  rid INTEGER PRIMARY KEY,"
        "  id TEXT NOT NULL UNIQUE,"
        "  state TEXT NOT NULL,"
        "  operator TEXT NOT NULL,"
        "  deadline INTEGER NOT NULL,"
        "  body TEXT NOT NULL);"
        "CREATE INDEX requests_deadline ON requests(deadline) WHERE deadline > 0;"
        "CREATE INDEX requests_operator ON requests(operator, rid);"
        "CREATE INDEX requests_state ON requests(state, rid);"
        "CREATE TABLE request_hosts ("
        "  host TEXT NOT NULL,"
        "  user TEXT NOT NULL,"
        "  rid INTEGER NOT NULL REFERENCES requests(rid),"
        "  state TEXT NOT NULL,"
        "  not_after INTEGER NOT NULL,"
        "  PRIMARY KEY (host, user, rid)) WITHOUT ROWID;"
        "CREATE INDEX request_hosts_access ON request_hosts(host, user, state, not_after);"
        "CREATE INDEX request_hosts_rid ON request_hosts(rid);"
        "CREATE TABLE keys ("
        "  id TEXT PRIMARY KEY,"
        "  rid INTEGER NOT NULL REFERENCES requests(rid),"
        "  public_key TEXT NOT NULL,"
        "  fingerprint TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  session TEXT,"
        "  UNIQUE (rid, public_key));"
        "CREATE INDEX keys_public_key ON keys(public_key);"
        "CREATE TABLE sessions ("
        "  id TEXT PRIMARY KEY,"
        "  rid INTEGER NOT NULL REFERENCES requests(rid),"
        "  key TEXT NOT NULL UNIQUE,"
        "  open INTEGER NOT NULL,"
        "  body TEXT NOT NULL);"
        "CREATE INDEX sessions_open ON sessions(rid, open);"
        "CREATE TABLE events ("
        "  seq INTEGER PRIMARY KEY,"
        "  request TEXT,"
        "  body TEXT NOT NULL,"
        "  prev TEXT NOT NULL,"
        "  hash TEXT NOT NULL);"
        "CREATE INDEX events_request ON events(request, seq);"
        "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events"
        "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
        "CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events"
        "  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
        "CREATE TABLE outbox ("
        "  id INTEGER PRIMARY KEY,"
        "  seq INTEGER NOT NULL,"
        "  grp TEXT NOT NULL,"
        "  target TEXT NOT NULL,"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  next_at INTEGER NOT NULL,"
        "  last_error TEXT);"
        "CREATE INDEX outbox_group ON outbox(grp, target, id);"
        "CREATE TABLE tokens ("
        "  id TEXT PRIMARY KEY,"
        "  hash TEXT NOT NULL UNIQUE,"
        "  principal TEXT NOT NULL,"
        "  role TEXT NOT NULL,"
        "  host TEXT,"
        "  created_at INTEGER NOT NULL,"
        "  revoked_at INTEGER);";

/* ---- connections and statements -------------------------------------- */

static void conn_free(struct conn *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++)
                sqlite3_finalize(c->cache[i].st);
        sqlite3_close_v2(c->db);
        free(c);
}

static void conn_free_void(void *p) {
        conn_free(p);
}

static int sql_error(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        default:
                return -EIO;
        }
}

static int exec(sqlite3 *db, const char *sql) {
        return sql_error(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

static int conn_open(const char *path, bool writer, struct conn **ret) {
        struct conn *c = calloc(1, sizeof(*c));
        int rc;

        if (!c)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | (writer ? SQLITE_OPEN_CREATE : 0) |
                                     SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                int e = rc == SQLITE_CANTOPEN ? -ENOENT : sql_error(rc);
                conn_free(c);
                return e ? e : -EIO;
        }
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        if (exec(c->db, "PRAGMA foreign_keys=ON") < 0 ||
            exec(c->db, "PRAGMA synchronous=FULL") < 0 ||
            (!writer && exec(c->db, "PRAGMA query_only=ON") < 0)) {
                conn_free(c);
                return -EIO;
        }
        *ret = c;
        return 0;
}

static sqlite3_stmt *stmt(struct conn *c, const char *sql) {
        sqlite3_stmt *st = NULL;
        for (size_t i = 0; i < c->n; i++)
                if (c->cache[i].sql == sql) {
                        st = c->cache[i].st;
                        sqlite3_reset(st);
                        sqlite3_clear_bindings(st);
                        return st;
                }
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
                return NULL;
        if (c->n < STMT_CACHE) {
                c->cache[c->n].sql = sql;
                c->cache[c->n].st = st;
                c->n++;
        }
        /* a full cache never happens with the fixed set of statements below */
        return st;
}

static struct conn *reader(struct lb_store *s) {
        struct conn *c = pthread_getspecific(s->reader_key);
        if (c)
                return c;
        if (conn_open(s->path, false, &c) < 0)
                return NULL;
        if (pthread_setspecific(s->reader_key, c) != 0) {
                conn_free(c);
                return NULL;
        }
        return c;
}

static struct conn *pick(struct lb_store *s, bool in_txn) {
        return in_txn ? s->writer : reader(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

static char *col_strdup(sqlite3_stmt *st, int i) {
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *) t) : NULL;
}

/* ---- open / close ---------------------------------------------------- */

static int migrate(struct conn *w) {
        sqlite3_stmt *st;
        int version, r;

        st = stmt(w, "PRAGMA user_version");
        if (!st || sqlite3_step(st) != SQLITE_ROW)
                return -EIO;
        version = sqlite3_column_int(st, 0);
        sqlite3_reset(st);
        if (version == SCHEMA_VERSION)
                return 0;
        if (version > SCHEMA_VERSION)
                return -EPROTONOSUPPORT; /* a newer broker made it */
        r = exec(w->db, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        if ((r = exec(w->db, schema)) < 0 ||
            (r = exec(w->db, "PRAGMA user_version = 1")) < 0) {
                exec(w->db, "ROLLBACK");
                return r;
        }
        return exec(w->db, "COMMIT");
}

static void sqlite_close(struct lb_store *s) {
        if (!s)
                return;
        conn_free(pthread_getspecific(s->reader_key));
        pthread_setspecific(s->reader_key, NULL);
        pthread_key_delete(s->reader_key);
        conn_free(s->writer);
        pthread_mutex_destroy(&s->write_lock);
        free(s->path);
        free(s);
}

static int sqlite_open(const char *path, struct lb_store **ret) {
        struct lb_store *s = calloc(1, sizeof(*s));
        sqlite3_stmt *st;
        int r;

        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->write_lock, NULL);
        if (pthread_key_create(&s->reader_key, conn_free_void) != 0) {
                free(s);
                return -ENOMEM;
        }
        s->path = strdup(path);
        if (!s->path) {
                sqlite_close(s);
                return -ENOMEM;
        }
        r = conn_open(path, true, &s->writer);
        if (r < 0) {
                sqlite_close(s);
                return r;
        }
        st = stmt(s->writer, "PRAGMA journal_mode=WAL");
        if (!st || sqlite3_step(st) != SQLITE_ROW ||
            strcasecmp((const char *) sqlite3_column_text(st, 0), "wal") != 0) {
                sqlite_close(s);
                return -EIO;
        }
        sqlite3_reset(st);
        r = migrate(s->writer);
        if (r < 0) {
                sqlite_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

static int sqlite_health(struct lb_store *s) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        int rc;

        if (!c)
                return -EIO;
        st = stmt(c, "SELECT count(*) FROM sqlite_schema");
        if (!st)
                return -EIO;
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        return rc == SQLITE_ROW ? 0 : -EIO;
}

/* ---- transactions ---------------------------------------------------- */

static int sqlite_begin(struct lb_store *s) {
        int r;
        pthread_mutex_lock(&s->write_lock);
        r = exec(s->writer->db, "BEGIN IMMEDIATE");
        if (r < 0) {
                pthread_mutex_unlock(&s->write_lock);
                return r;
        }
        s->in_txn = true;
        return 0;
}

static int sqlite_commit(struct lb_store *s) {
        int r = exec(s->writer->db, "COMMIT");
        if (r < 0)
                exec(s->writer->db, "ROLLBACK");
        s->in_txn = false;
        pthread_mutex_unlock(&s->write_lock);
        return r;
}

static void sqlite_rollback(struct lb_store *s) {
        exec(s->writer->db, "ROLLBACK");
        s->in_txn = false;
        pthread_mutex_unlock(&s->write_lock);
}

/* ---- requests -------------------------------------------------------- */

static int request_from_body(const char *body, struct lb_request **ret) {
        json_auto_t *j = json_loads(body, 0, NULL);
        if (!j)
                return -EBADMSG;
        return lb_request_from_json(j, ret);
}

static int sqlite_request_get(struct lb_store *s, bool in_txn, const char *id,
                              struct lb_request **ret) {
        struct conn *c = pick(s, in_txn);
        sqlite3_stmt *st;
        int rc, r;

        if (!c || !(st = stmt(c, "SELECT body FROM requests WHERE id = ?1")))
                return -EIO;
        bind_text(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                r = -ENOENT;
        else if (rc != SQLITE_ROW)
                r = -EIO;
        else
                r = request_from_body((const char *) sqlite3_column_text(st, 0), ret);
        sqlite3_reset(st);
        return r;
}

static const char sql_list[] =
        "SELECT body FROM requests r WHERE"
        " (?1 IS NULL OR r.state = ?1 OR (?1 = 'expired' AND r.deadline > 0 AND r.deadline <= ?5))"
        " AND (?2 IS NULL OR r.operator = ?2)"
        " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM request_hosts h WHERE h.rid = r.rid AND h.host = ?3))"
        " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(r.body, '$.approvers') a WHERE a.value = ?4))"
        " ORDER BY r.rid DESC LIMIT ?6";

static int sqlite_request_list(struct lb_store *s, const struct lb_request_filter *f,
                               int (*cb)(void *userdata, struct lb_request *r), void *userdata) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        int rc, r = 0;

        if (!c || !(st = stmt(c, sql_list)))
                return -EIO;
        bind_text(st, 1, f->state);
        bind_text(st, 2, f->operator_);
        bind_text(st, 3, f->host);
        bind_text(st, 4, f->approver);
        sqlite3_bind_int64(st, 5, f->now);
        sqlite3_bind_int64(st, 6, f->limit ? f->limit : 1000);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct lb_request *req;
                r = request_from_body((const char *) sqlite3_column_text(st, 0), &req);
                if (r < 0)
                        break;
                r = cb(userdata, req);
                if (r < 0)
                        break;
        }
        if (r >= 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = -EIO;
        sqlite3_reset(st);
        return r < 0 ? r : 0;
}

static int step_done(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : sql_error(rc) ? sql_error(rc) : -EIO;
}

static int sqlite_request_put(struct lb_store *s, const struct lb_request *r, bool create) {
        struct conn *c = s->writer;
        json_auto_t *j = NULL;
        _cleanup_free_ char *body = NULL;
        sqlite3_stmt *st;
        int64_t rid, deadline = lb_lc_next_deadline(r);
        const char *state = lb_state_to_string(r->state);
        int e;

        if (!s->in_txn)
                return -EINVAL;
        j = lb_request_to_store_json(r);
        if (!j || !(body = json_dumps(j, JSON_COMPACT)))
                return -ENOMEM;
        if (create) {
                st = stmt(c, "INSERT INTO requests (id, state, operator, deadline, body)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)");
                if (!st)
                        return -EIO;
                bind_text(st, 1, r->id);
                bind_text(st, 2, state);
                bind_text(st, 3, r->operator_);
                sqlite3_bind_int64(st, 4, deadline);
                bind_text(st, 5, body);
                if ((e = step_done(st)) < 0)
                        return e;
                rid = sqlite3_last_insert_rowid(c->db);
                st = stmt(c, "INSERT INTO request_hosts (host, user, rid, state, not_after)"
                             " VALUES (?1, ?2, ?3, ?4, 0)");
                if (!st)
                        return -EIO;
                for (char **h = r->hosts; h && *h; h++) {
                        sqlite3_reset(st);
                        sqlite3_clear_bindings(st);
                        bind_text(st, 1, *h);
                        bind_text(st, 2, r->user);
                        sqlite3_bind_int64(st, 3, rid);
                        bind_text(st, 4, state);
                        if ((e = step_done(st)) < 0)
                                return e;
                }
                return 0;
        }
        st = stmt(c, "UPDATE requests SET state = ?2, deadline = ?3, body = ?4 WHERE id = ?1");
        if (!st)
                return -EIO;
        bind_text(st, 1, r->id);
        bind_text(st, 2, state);
        sqlite3_bind_int64(st, 3, deadline);
        bind_text(st, 4, body);
        if ((e = step_done(st)) < 0)
                return e;
        if (sqlite3_changes(c->db) != 1)
                return -ENOENT;
        st = stmt(c, "UPDATE request_hosts SET state = ?2, not_after = ?3"
                     " WHERE rid = (SELECT rid FROM requests WHERE id = ?1)");
        if (!st)
                return -EIO;
        bind_text(st, 1, r->id);
        bind_text(st, 2, state);
        sqlite3_bind_int64(st, 3, r->not_after);
        return step_done(st);
}

static int sqlite_request_due(struct lb_store *s, int64_t now, unsigned limit, char ***ret_ids) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        char **ids;
        size_t n = 0;
        int rc;

        if (!c || !(st = stmt(c, "SELECT id FROM requests WHERE deadline > 0 AND deadline <= ?1"
                                 " ORDER BY deadline LIMIT ?2")))
                return -EIO;
        ids = calloc(limit + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit)
                if (!(ids[n++] = col_strdup(st, 0)))
                        break;
        sqlite3_reset(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
                lb_strv_free(ids);
                return -EIO;
        }
        *ret_ids = ids;
        return (int) n;
}

static int sqlite_request_next_deadline(struct lb_store *s, int64_t *ret) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        int rc;

        if (!c || !(st = stmt(c, "SELECT min(deadline) FROM requests WHERE deadline > 0")))
                return -EIO;
        rc = sqlite3_step(st);
        *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        return rc == SQLITE_ROW ? 0 : -EIO;
}

static int one_request(struct conn *c, const char *sql, const char *host, const char *user,
                       int64_t now, struct lb_request **ret) {
        sqlite3_stmt *st = stmt(c, sql);
        int rc, r = 0;

        *ret = NULL;
        if (!st)
                return -EIO;
        bind_text(st, 1, host);
        bind_text(st, 2, user);
        sqlite3_bind_int64(st, 3, now);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = request_from_body((const char *) sqlite3_column_text(st, 0), ret);
        else if (rc != SQLITE_DONE)
                r = -EIO;
        sqlite3_reset(st);
        return r;
}

static int sqlite_access_find(struct lb_store *s, const char *host, const char *user, int64_t now,
                              struct lb_request **ret_allowed, struct lb_request **ret_newest) {
        struct conn *c = reader(s);
        int r;

        if (!c)
                return -EIO;
        r = one_request(c,
                        "SELECT r.body FROM request_hosts h JOIN requests r ON r.rid = h.rid"
                        " WHERE h.host = ?1 AND h.user = ?2 AND h.state = 'approved'"
                        " AND h.not_after > ?3 ORDER BY h.not_after DESC LIMIT 1",
                        host, user, now, ret_allowed);
        if (r < 0 || *ret_allowed || !ret_newest)
                return r;
        r = one_request(c,
                        "SELECT r.body FROM request_hosts h JOIN requests r ON r.rid = h.rid"
                        " WHERE h.host = ?1 AND h.user = ?2 AND ?3 IS NOT NULL"
                        " ORDER BY h.rid DESC LIMIT 1",
                        host, user, now, ret_newest);
        return r;
}

/* ---- keys ------------------------------------------------------------ */

void lb_key_done(struct lb_key *k) {
        free(k->id);
        free(k->request);
        free(k->public_key);
        free(k->fingerprint);
        free(k->session);
        *k = (struct lb_key) {};
}

static int sqlite_key_add(struct lb_store *s, const struct lb_key *k) {
        sqlite3_stmt *st = stmt(s->writer,
                                "INSERT INTO keys (id, rid, public_key, fingerprint, created_at)"
                                " SELECT ?1, rid, ?3, ?4, ?5 FROM requests WHERE id = ?2");
        int e;
        if (!st || !s->in_txn)
                return -EIO;
        bind_text(st, 1, k->id);
        bind_text(st, 2, k->request);
        bind_text(st, 3, k->public_key);
        bind_text(st, 4, k->fingerprint);
        sqlite3_bind_int64(st, 5, k->created_at);
        if ((e = step_done(st)) < 0)
                return e;
        return sqlite3_changes(s->writer->db) == 1 ? 0 : -ENOENT;
}

static int sqlite_keys_list(struct lb_store *s, const char *host, const char *user,
                            const char *fingerprint, int64_t now, struct lb_key **ret,
                            size_t *ret_n) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        struct lb_key *v = NULL;
        size_t n = 0;
        int rc;

        if (!c || !(st = stmt(c, "SELECT k.id, r.id, k.public_key, k.fingerprint, k.created_at,"
                                 " h.not_after FROM request_hosts h"
                                 " JOIN keys k ON k.rid = h.rid JOIN requests r ON r.rid = h.rid"
                                 " WHERE h.host = ?1 AND h.user = ?2 AND h.state = 'approved'"
                                 " AND h.not_after > ?3 AND k.session IS NULL"
                                 " AND (?4 IS NULL OR k.fingerprint = ?4)"
                                 " ORDER BY k.created_at, k.id LIMIT 100")))
                return -EIO;
        bind_text(st, 1, host);
        bind_text(st, 2, user);
        sqlite3_bind_int64(st, 3, now);
        bind_text(st, 4, fingerprint);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct lb_key *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        break;
                v = nv;
                v[n++] = (struct lb_key) { .id = col_strdup(st, 0), .request = col_strdup(st, 1),
                                           .public_key = col_strdup(st, 2),
                                           .fingerprint = col_strdup(st, 3),
                                           .created_at = sqlite3_column_int64(st, 4),
                                           .not_after = sqlite3_column_int64(st, 5) };
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
                for (size_t i = 0; i < n; i++)
                        lb_key_done(&v[i]);
                free(v);
                return -EIO;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int sqlite_key_find(struct lb_store *s, const char *host, const char *user,
                           const char *public_key, struct lb_key *ret) {
        sqlite3_stmt *st = stmt(s->writer,
                                "SELECT k.id, r.id, k.public_key, k.fingerprint, k.created_at,"
                                " k.session FROM keys k JOIN request_hosts h ON h.rid = k.rid"
                                " JOIN requests r ON r.rid = k.rid"
                                " WHERE k.public_key = ?1 AND h.host = ?2 AND h.user = ?3"
                                " ORDER BY (k.session IS NULL) DESC, k.rid DESC LIMIT 1");
        int rc, r = 0;

        if (!st || !s->in_txn)
                return -EIO;
        bind_text(st, 1, public_key);
        bind_text(st, 2, host);
        bind_text(st, 3, user);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = (struct lb_key) { .id = col_strdup(st, 0), .request = col_strdup(st, 1),
                                         .public_key = col_strdup(st, 2),
                                         .fingerprint = col_strdup(st, 3),
                                         .created_at = sqlite3_column_int64(st, 4),
                                         .session = col_strdup(st, 5) };
        else
                r = rc == SQLITE_DONE ? -ENOENT : -EIO;
        sqlite3_reset(st);
        return r;
}

static int sqlite_key_consume(struct lb_store *s, const char *key_id, const char *session_id) {
        sqlite3_stmt *st = stmt(s->writer,
                                "UPDATE keys SET session = ?2 WHERE id = ?1 AND session IS NULL");
        int e;
        if (!st || !s->in_txn)
                return -EIO;
        bind_text(st, 1, key_id);
        bind_text(st, 2, session_id);
        if ((e = step_done(st)) < 0)
                return e;
        return sqlite3_changes(s->writer->db) == 1 ? 0 : -EALREADY;
}

/* ---- sessions -------------------------------------------------------- */

void lb_session_free(struct lb_session *se) {
        if (!se)
                return;
        free(se->id);
        free(se->request);
        free(se->key);
        free(se->operator_);
        free(se->host);
        free(se->user);
        free(se->remote);
        free(se->tty);
        free(se->end_reason);
        free(se);
}

static json_t *session_store_json(const struct lb_session *se) {
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:s*, s:I, s:I, s:b, s:I, s:I, s:s*}",
                         "id", se->id, "request", se->request, "key", se->key, "operator",
                         se->operator_, "host", se->host, "user", se->user, "remote", se->remote,
                         "tty", se->tty, "pid", (json_int_t) se->pid, "audit_session",
                         (json_int_t) se->audit_session, "open", se->open, "opened_at",
                         (json_int_t) se->opened_at, "ended_at", (json_int_t) se->ended_at,
                         "end_reason", se->end_reason);
}

static int session_from_body(const char *body, struct lb_session **ret) {
        json_auto_t *j = json_loads(body, 0, NULL);
        struct lb_session *se;
        const char *id = NULL, *request = NULL, *key = NULL, *op = NULL, *host = NULL,
                   *user = NULL, *remote = NULL, *tty = NULL, *why = NULL;
        json_int_t pid, ases, opened, ended;
        int open;

        if (!j || json_unpack(j, "{s:s, s:s, s:s, s:s, s:s, s:s, s?s, s?s, s:I, s:I, s:b, s:I,"
                                 " s:I, s?s}",
                              "id", &id, "request", &request, "key", &key, "operator", &op,
                              "host", &host, "user", &user, "remote", &remote, "tty", &tty,
                              "pid", &pid, "audit_session", &ases, "open", &open, "opened_at",
                              &opened, "ended_at", &ended, "end_reason", &why) < 0)
                return -EBADMSG;
        se = calloc(1, sizeof(*se));
        if (!se)
                return -ENOMEM;
        se->id = strdup(id);
        se->request = strdup(request);
        se->key = strdup(key);
        se->operator_ = strdup(op);
        se->host = strdup(host);
        se->user = strdup(user);
        se->remote = remote ? strdup(remote) : NULL;
        se->tty = tty ? strdup(tty) : NULL;
        se->end_reason = why ? strdup(why) : NULL;
        se->pid = pid;
        se->audit_session = ases;
        se->open = open;
        se->opened_at = opened;
        se->ended_at = ended;
        if (!se->id || !se->request || !se->key || !se->operator_ || !se->host || !se->user) {
                lb_session_free(se);
                return -ENOMEM;
        }
        *ret = se;
        return 0;
}

static int sqlite_session_put(struct lb_store *s, const struct lb_session *se, bool create) {
        json_auto_t *j = session_store_json(se);
        _cleanup_free_ char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        sqlite3_stmt *st;
        int e;

        if (!body)
                return -ENOMEM;
        if (!s->in_txn)
                return -EINVAL;
        if (create)
                st = stmt(s->writer, "INSERT INTO sessions (id, rid, key, open, body)"
                                     " SELECT ?1, rid, ?3, ?4, ?5 FROM requests WHERE id = ?2");
        else
                st = stmt(s->writer,
                          "UPDATE sessions SET open = ?4, body = ?5 WHERE id = ?1 AND ?2 IS NOT NULL"
                          " AND ?3 IS NOT NULL");
        if (!st)
                return -EIO;
        bind_text(st, 1, se->id);
        bind_text(st, 2, se->request);
        bind_text(st, 3, se->key);
        sqlite3_bind_int(st, 4, se->open);
        bind_text(st, 5, body);
        if ((e = step_done(st)) < 0)
                return e;
        return sqlite3_changes(s->writer->db) == 1 ? 0 : -ENOENT;
}

static int sqlite_session_get(struct lb_store *s, bool in_txn, const char *id,
                              struct lb_session **ret) {
        struct conn *c = pick(s, in_txn);
        sqlite3_stmt *st;
        int rc, r;

        if (!c || !(st = stmt(c, "SELECT body FROM sessions WHERE id = ?1")))
                return -EIO;
        bind_text(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = session_from_body((const char *) sqlite3_column_text(st, 0), ret);
        else
                r = rc == SQLITE_DONE ? -ENOENT : -EIO;
        sqlite3_reset(st);
        return r;
}

static int sqlite_sessions_open(struct lb_store *s, const char *request_id,
                                struct lb_session ***ret, size_t *ret_n) {
        sqlite3_stmt *st = stmt(s->writer,
                                "SELECT body FROM sessions WHERE open = 1 AND rid ="
                                " (SELECT rid FROM requests WHERE id = ?1) ORDER BY id");
        struct lb_session **v = NULL;
        size_t n = 0;
        int rc, r = 0;

        if (!st || !s->in_txn)
                return -EIO;
        bind_text(st, 1, request_id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct lb_session **nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                r = session_from_body((const char *) sqlite3_column_text(st, 0), &v[n]);
                if (r < 0)
                        break;
                n++;
        }
        sqlite3_reset(st);
        if (r >= 0 && rc != SQLITE_DONE)
                r = -EIO;
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        lb_session_free(v[i]);
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- audit trail and outbox ------------------------------------------ */

static const char *const chain_omit[] = { "prev", "hash", NULL };

static int sqlite_event_head_conn(struct conn *c, int64_t *ret_seq, char ret_hash[65]) {
        sqlite3_stmt *st = stmt(c, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
        int rc;
        if (!st)
                return -EIO;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *h = (const char *) sqlite3_column_text(st, 1);
                *ret_seq = sqlite3_column_int64(st, 0);
                snprintf(ret_hash, 65, "%s", h ? h : "");
        } else if (rc == SQLITE_DONE) {
                *ret_seq = 0;
                memcpy(ret_hash, LB_CHAIN_ZERO, 65);
        }
        sqlite3_reset(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static int sqlite_event_head(struct lb_store *s, int64_t *ret_seq, char ret_hash[65]) {
        struct conn *c = reader(s);
        return c ? sqlite_event_head_conn(c, ret_seq, ret_hash) : -EIO;
}

static int sqlite_event_append(struct lb_store *s, json_t *ev, char *const *targets,
                               int64_t now) {
        struct conn *c = s->writer;
        char prev[65], hash[65];
        _cleanup_free_ char *canon = NULL;
        sqlite3_stmt *st;
        const char *request;
        int64_t seq;
        int e;

        if (!s->in_txn)
                return -EINVAL;
        if ((e = sqlite_event_head_conn(c, &seq, prev)) < 0)
                return e;
        if (!lb_chain_hex_valid(prev))
                return -EBADMSG;
        seq++;
        json_object_set_new(ev, "seq", json_integer(seq));
        json_object_del(ev, "prev");
        json_object_del(ev, "hash");
        if ((e = lb_chain_hash(prev, ev, chain_omit, hash)) < 0)
                return e;
        canon = lb_chain_canonical(ev, chain_omit);
        if (!canon)
                return -ENOMEM;
        request = json_string_value(json_object_get(ev, "request"));
        st = stmt(c, "INSERT INTO events (seq, request, body, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, seq);
        bind_text(st, 2, request);
        bind_text(st, 3, canon);
        bind_text(st, 4, prev);
        bind_text(st, 5, hash);
        if ((e = step_done(st)) < 0)
                return e;
        st = stmt(c, "INSERT INTO outbox (seq, grp, target, next_at) VALUES (?1, ?2, ?3, ?4)");
        if (!st)
                return -EIO;
        for (char *const *t = targets; t && *t; t++) {
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
                sqlite3_bind_int64(st, 1, seq);
                bind_text(st, 2, request ? request : "");
                bind_text(st, 3, *t);
                sqlite3_bind_int64(st, 4, now);
                if ((e = step_done(st)) < 0)
                        return e;
        }
        json_object_set_new(ev, "prev", json_string(prev));
        json_object_set_new(ev, "hash", json_string(hash));
        return 0;
}

static json_t *event_from_row(sqlite3_stmt *st) {
        json_t *ev = json_loads((const char *) sqlite3_column_text(st, 1), 0, NULL);
        if (!json_is_object(ev)) {
                json_decref(ev);
                /* keep the row visible to a verifier: a body that is not an event */
                ev = json_pack("{s:I, s:s}", "seq", (json_int_t) sqlite3_column_int64(st, 0),
                               "unreadable", "body is not a JSON object");
        }
        json_object_set_new(ev, "prev", json_string((const char *) sqlite3_column_text(st, 2)));
        json_object_set_new(ev, "hash", json_string((const char *) sqlite3_column_text(st, 3)));
        return ev;
}

static int sqlite_events_list(struct lb_store *s, int64_t since, const char *request,
                              unsigned limit, json_t **ret_events) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        json_t *a;
        int rc;

        if (!c)
                return -EIO;
        st = request ? stmt(c, "SELECT seq, body, prev, hash FROM events WHERE request = ?2"
                               " AND seq > ?1 ORDER BY seq LIMIT ?3")
                     : stmt(c, "SELECT seq, body, prev, hash FROM events WHERE seq > ?1"
                               " ORDER BY seq LIMIT ?3");
        if (!st)
                return -EIO;
        a = json_array();
        if (!a)
                return -ENOMEM;
        sqlite3_bind_int64(st, 1, since);
        if (request)
                bind_text(st, 2, request);
        sqlite3_bind_int64(st, 3, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                json_array_append_new(a, event_from_row(st));
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
                json_decref(a);
                return -EIO;
        }
        *ret_events = a;
        return 0;
}

void lb_outbox_item_done(struct lb_outbox_item *o) {
        free(o->target);
        free(o->event);
        *o = (struct lb_outbox_item) {};
}

static int sqlite_outbox_due(struct lb_store *s, int64_t now, unsigned limit,
                             struct lb_outbox_item **ret, size_t *ret_n) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        struct lb_outbox_item *v;
        size_t n = 0;
        int rc;

        /* the head of each (request, target) group; a head that is not due yet holds
         * back the rest of its group, not the others */
        if (!c || !(st = stmt(c, "SELECT o.id, o.seq, o.target, o.attempts, e.body, e.prev, e.hash"
                                 " FROM (SELECT min(id) AS id FROM outbox GROUP BY grp, target) g"
                                 " JOIN outbox o ON o.id = g.id JOIN events e ON e.seq = o.seq"
                                 " WHERE o.next_at <= ?1 ORDER BY o.id LIMIT ?2")))
                return -EIO;
        v = calloc(limit + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit) {
                json_auto_t *ev = json_loads((const char *) sqlite3_column_text(st, 4), 0, NULL);
                if (ev) {
                        json_object_set_new(ev, "prev",
                                            json_string((const char *) sqlite3_column_text(st, 5)));
                        json_object_set_new(ev, "hash",
                                            json_string((const char *) sqlite3_column_text(st, 6)));
                }
                v[n] = (struct lb_outbox_item) {
                        .id = sqlite3_column_int64(st, 0),
                        .seq = sqlite3_column_int64(st, 1),
                        .target = col_strdup(st, 2),
                        .attempts = (unsigned) sqlite3_column_int(st, 3),
                        .event = ev ? json_dumps(ev, LB_CANON_FLAGS) : NULL,
                };
                n++;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
                for (size_t i = 0; i < n; i++)
                        lb_outbox_item_done(&v[i]);
                free(v);
                return -EIO;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int sqlite_outbox_done(struct lb_store *s, int64_t id) {
        sqlite3_stmt *st = stmt(s->writer, "DELETE FROM outbox WHERE id = ?1");
        if (!st || !s->in_txn)
                return -EIO;
        sqlite3_bind_int64(st, 1, id);
        return step_done(st);
}

static int sqlite_outbox_retry(struct lb_store *s, int64_t id, int64_t next_at,
                               const char *error) {
        sqlite3_stmt *st = stmt(s->writer, "UPDATE outbox SET attempts = attempts + 1,"
                                           " next_at = ?2, last_error = ?3 WHERE id = ?1");
        if (!st || !s->in_txn)
                return -EIO;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, next_at);
        bind_text(st, 3, error);
        return step_done(st);
}

static int sqlite_outbox_count(struct lb_store *s, int64_t *ret) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        int rc;
        if (!c || !(st = stmt(c, "SELECT count(*) FROM outbox")))
                return -EIO;
        rc = sqlite3_step(st);
        *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        return rc == SQLITE_ROW ? 0 : -EIO;
}

/* ---- tokens ---------------------------------------------------------- */

void lb_token_done(struct lb_token *t) {
        free(t->id);
        free(t->principal);
        free(t->role);
        free(t->host);
        *t = (struct lb_token) {};
}

static int sqlite_token_add(struct lb_store *s, const struct lb_token *t, const char *hash) {
        sqlite3_stmt *st = stmt(s->writer, "INSERT INTO tokens (id, hash, principal, role, host,"
                                           " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (!st || !s->in_txn)
                return -EIO;
        bind_text(st, 1, t->id);
        bind_text(st, 2, hash);
        bind_text(st, 3, t->principal);
        bind_text(st, 4, t->role);
        bind_text(st, 5, t->host);
        sqlite3_bind_int64(st, 6, t->created_at);
        return step_done(st);
}

static struct lb_token token_from_row(sqlite3_stmt *st) {
        return (struct lb_token) { .id = col_strdup(st, 0), .principal = col_strdup(st, 1),
                                   .role = col_strdup(st, 2), .host = col_strdup(st, 3),
                                   .created_at = sqlite3_column_int64(st, 4),
                                   .revoked_at = sqlite3_column_int64(st, 5) };
}

static int sqlite_token_find(struct lb_store *s, const char *hash, struct lb_token *ret) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        int rc;
        if (!c || !(st = stmt(c, "SELECT id, principal, role, host, created_at, revoked_at"
                                 " FROM tokens WHERE hash = ?1 AND revoked_at IS NULL")))
                return -EIO;
        bind_text(st, 1, hash);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = token_from_row(st);
        sqlite3_reset(st);
        return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sqlite_token_list(struct lb_store *s, struct lb_token **ret, size_t *ret_n) {
        struct conn *c = reader(s);
        sqlite3_stmt *st;
        struct lb_token *v = NULL;
        size_t n = 0;
        int rc;
        if (!c || !(st = stmt(c, "SELECT id, principal, role, host, created_at, revoked_at"
                                 " FROM tokens ORDER BY created_at, id LIMIT 10000")))
                return -EIO;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct lb_token *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        break;
                v = nv;
                v[n++] = token_from_row(st);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
                for (size_t i = 0; i < n; i++)
                        lb_token_done(&v[i]);
                free(v);
                return -EIO;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int sqlite_token_revoke(struct lb_store *s, const char *id, int64_t now) {
        sqlite3_stmt *st = stmt(s->writer, "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1"
                                           " AND revoked_at IS NULL");
        int e;
        if (!st || !s->in_txn)
                return -EIO;
        bind_text(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        if ((e = step_done(st)) < 0)
                return e;
        return sqlite3_changes(s->writer->db) == 1 ? 0 : -ENOENT;
}

const struct lb_store_ops lb_store_sqlite = {
        .name = "sqlite",
        .open = sqlite_open,
        .close = sqlite_close,
        .health = sqlite_health,
        .begin = sqlite_begin,
        .commit = sqlite_commit,
        .rollback = sqlite_rollback,
        .request_get = sqlite_request_get,
        .request_list = sqlite_request_list,
        .request_put = sqlite_request_put,
        .request_due = sqlite_request_due,
        .request_next_deadline = sqlite_request_next_deadline,
        .access_find = sqlite_access_find,
        .key_add = sqlite_key_add,
        .keys_list = sqlite_keys_list,
        .key_find = sqlite_key_find,
        .key_consume = sqlite_key_consume,
        .session_put = sqlite_session_put,
        .session_get = sqlite_session_get,
        .sessions_open = sqlite_sessions_open,
        .event_append = sqlite_event_append,
        .events_list = sqlite_events_list,
        .event_head = sqlite_event_head,
        .outbox_due = sqlite_outbox_due,
        .outbox_done = sqlite_outbox_done,
        .outbox_retry = sqlite_outbox_retry,
        .outbox_count = sqlite_outbox_count,
        .token_add = sqlite_token_add,
        .token_find = sqlite_token_find,
        .token_list = sqlite_token_list,
        .token_revoke = sqlite_token_revoke,
};
