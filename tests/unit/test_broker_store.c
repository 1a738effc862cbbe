/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The broker's calls over the real SQLite store (a file in a temp dir) with an
 * injected clock and injected group members: access follows the lifecycle,
 * timers expire requests without anyone asking, revoke ends sessions at once,
 * a key opens one session, the audit chain verifies and a changed row is
 * detected, the outbox keeps per-request order. No root, no network. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "audit.h"
#include "broker_conf.h"
#include "notify.h"
#include "server.h"
#include "service.h"
#include "util.h"

#define T0 1795341600
#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMEOl5iMblBfhFYRC7WyTMr7xet5Iaeyez6YRphvL+pr"

static char dir[] = "/tmp/lbx-unit-broker.XXXXXX";
static char dbpath[128];
static int64_t now;
static struct lb_broker_conf conf;
static struct lb_broker b;
static struct lb_store *store;
static char *group[8];

static const struct lb_caller alice = { .principal = "alice", .roles = LB_ROLE_OPERATOR, .from = "test" };
static const struct lb_caller bob = { .principal = "bob", .roles = LB_ROLE_APPROVER, .from = "test" };
static const struct lb_caller carol = { .principal = "carol", .roles = LB_ROLE_APPROVER, .from = "test" };
static const struct lb_caller dave = { .principal = "dave", .roles = LB_ROLE_APPROVER, .from = "test" };
static const struct lb_caller host = { .principal = "root", .roles = LB_ROLE_HOST | LB_ROLE_ADMIN, .from = "test" };
static const struct lb_caller web2 = { .principal = "web2", .roles = LB_ROLE_HOST, .host_binding = "web2", .from = "test" };
static const struct lb_caller auditor = { .principal = "eve", .roles = LB_ROLE_AUDITOR, .from = "test" };

static int64_t test_clock(void *userdata) {
        return now;
}

static int test_members(void *userdata, const char *g, char ***ret) {
        char **v = calloc(ELEMENTSOF(group) + 1, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(group) && group[i]; i++)
                v[n++] = strdup(group[i]);
        *ret = v;
        return 0;
}

static void start(const char *notify_command) {
        ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/lbx-unit-broker.XXXXXX")));
        snprintf(dbpath, sizeof(dbpath), "%s/lockboxd.db", dir);
        lb_broker_conf_init(&conf);
        ck_assert_int_eq(lb_broker_conf_set(&conf, "min_duration", "1s"), 0);
        if (notify_command)
                ck_assert_int_eq(lb_broker_conf_set(&conf, "notify_command", notify_command), 0);
        ck_assert_int_eq(lb_store_sqlite.open(dbpath, &store), 0);
        ck_assert_int_eq(lb_broker_init(&b, &conf, &lb_store_sqlite, store), 0);
        b.clock = test_clock;
        b.members = test_members;
        now = T0;
        memset(group, 0, sizeof(group));
        group[0] = "bob";
        group[1] = "carol";
        group[2] = "alice";
}

static void setup(void) {
        start(NULL);
}

static void teardown(void) {
        char cmd[256];
        lb_broker_done(&b);
        lb_store_sqlite.close(store);
        lb_broker_conf_done(&conf);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static json_t *body(const char *s) {
        json_t *j = json_loads(s, 0, NULL);
        ck_assert_ptr_nonnull(j);
        return j;
}

static char *create(const char *json) {
        json_auto_t *in = body(json);
        json_auto_t *out = NULL;
        int st = lb_svc_request_create(&b, &alice, in, &out);
        ck_assert_msg(st == 201, "create: %d %s", st, json_dumps(out, 0));
        return strdup(json_string_value(json_object_get(out, "id")));
}

static int action(const struct lb_caller *c, const char *id, const char *what, const char *json) {
        json_auto_t *in = body(json ? json : "{}");
        json_auto_t *out = NULL;
        return lb_svc_request_action(&b, c, id, what, in, &out);
}

static bool access_allowed(const char *h, const char *u, json_t **ret) {
        struct lb_query q = { .n = 2, .key = { "host", "user" }, .value = { h, u } };
        json_t *out = NULL;
        ck_assert_int_eq(lb_svc_access(&b, &host, &q, &out), 200);
        bool allow = json_is_true(json_object_get(out, "allow"));
        if (ret)
                *ret = out;
        else
                json_decref(out);
        return allow;
}

static const char *state_of(const char *id) {
        static char buf[32];
        json_auto_t *out = NULL;
        ck_assert_int_eq(lb_svc_request_get(&b, &auditor, id, &out), 200);
        snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(out, "state")));
        return buf;
}

static json_t *all_events(void) {
        json_t *ev = NULL;
        ck_assert_int_eq(lb_store_sqlite.events_list(store, 0, NULL, 100000, &ev), 0);
        return ev;
}

static int count_type(json_t *events, const char *type) {
        size_t i;
        json_t *e;
        int n = 0;
        json_array_foreach(events, i, e)
                if (streq(json_string_value(json_object_get(e, "type")), type))
                        n++;
        return n;
}

START_TEST(test_access_follows_lifecycle) {
        _cleanup_free_ char *id = create("{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"r\","
                                         "\"ticket\":\"T\",\"duration_s\":600}");
        json_t *a = NULL;

        ck_assert(!access_allowed("web1", "vendor", &a));
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "reason")), "is pending"));
        json_decref(a);
        /* an approver added to the group after creation cannot approve */
        group[3] = "dave";
        ck_assert_int_eq(action(&dave, id, "approve", NULL), 403);
        /* self-approval: alice holds the approver role too, but is the requester */
        {
                struct lb_caller both = alice;
                both.roles |= LB_ROLE_APPROVER;
                ck_assert_int_eq(action(&both, id, "approve", NULL), 403);
        }
        now += 30;
        ck_assert_int_eq(action(&bob, id, "approve", "{\"comment\":\"ok\"}"), 200);
        ck_assert(access_allowed("web1", "vendor", &a));
        /* the clock started at approval, not at creation */
        ck_assert_int_eq(json_integer_value(json_object_get(a, "remaining_s")), 600);
        json_decref(a);
        ck_assert(!access_allowed("web2", "vendor", NULL));
        ck_assert(!access_allowed("web1", "other", NULL));
        now += 599;
        ck_assert(access_allowed("web1", "vendor", NULL));
        now += 1;
        /* past not_after: denied at once, before any timer ran */
        ck_assert(!access_allowed("web1", "vendor", &a));
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "reason")), "expired"));
        json_decref(a);
        ck_assert_str_eq(state_of(id), "expired");
        /* the timer writes the Expire event */
        ck_assert_int_eq(lb_svc_expire_due(&b), 1);
        ck_assert_int_eq(lb_svc_expire_due(&b), 0);
        {
                json_auto_t *ev = all_events();
                ck_assert_int_eq(count_type(ev, "Expire"), 1);
        }
}
END_TEST

START_TEST(test_pending_expiry_by_timer) {
        _cleanup_free_ char *id = create("{\"host\":\"web1\",\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"T\"}");
        now += (int64_t) conf.policy.pending_ttl - 1;
        ck_assert_int_eq(lb_svc_expire_due(&b), 0);
        ck_assert_int_eq(lb_svc_next_wait(&b, 1000), 1);
        now += 1;
        ck_assert_int_eq(lb_svc_expire_due(&b), 1);
        ck_assert_str_eq(state_of(id), "expired");
        ck_assert_int_eq(action(&bob, id, "approve", NULL), 409);
        json_auto_t *ev = all_events();
        json_t *last = json_array_get(ev, json_array_size(ev) - 1);
        ck_assert_str_eq(json_string_value(json_object_get(last, "type")), "Expire");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(last, "detail"), "reason")),
                         "pending_ttl");
}
END_TEST

static json_t *open_session(const struct lb_caller *c, const char *h, int *status) {
        json_auto_t *in = json_pack("{s:s, s:s, s:s, s:s}", "host", h, "user", "vendor",
                                    "public_key", KEY1, "remote", "127.0.0.1");
        json_t *out = NULL;
        *status = lb_svc_session_open(&b, c, in, &out);
        return out;
}

START_TEST(test_keys_sessions_revoke) {
        _cleanup_free_ char *id = create("{\"hosts\":[\"web1\",\"web2\"],\"user\":\"vendor\",\"reason\":\"r\","
                                         "\"ticket\":\"T\",\"duration_s\":3600}");
        json_auto_t *kin = json_pack("{s:s}", "public_key", KEY1 " comment");
        json_t *out = NULL, *se;
        char sid[64];
        int st;

        /* no key on a pending request */
        ck_assert_int_eq(lb_svc_key_register(&b, &alice, id, kin, &out), 409);
        json_decref(out);
        ck_assert_int_eq(action(&bob, id, "approve", NULL), 200);
        /* only the requester registers keys */
        {
                struct lb_caller mallory = { .principal = "mallory", .roles = LB_ROLE_OPERATOR, .from = "t" };
                ck_assert_int_eq(lb_svc_key_register(&b, &mallory, id, kin, &out), 403);
                json_decref(out);
        }
        ck_assert_int_eq(lb_svc_key_register(&b, &alice, id, kin, &out), 201);
        json_decref(out);
        ck_assert_int_eq(lb_svc_key_register(&b, &alice, id, kin, &out), 409);
        json_decref(out);
        {
                struct lb_query q = { .n = 2, .key = { "host", "user" }, .value = { "web1", "vendor" } };
                ck_assert_int_eq(lb_svc_keys(&b, &host, &q, &out), 200);
                ck_assert_uint_eq(json_array_size(json_object_get(out, "keys")), 1);
                json_decref(out);
                /* a host token bound to web2 may not ask about web1 */
                ck_assert_int_eq(lb_svc_keys(&b, &web2, &q, &out), 403);
                json_decref(out);
        }
        se = open_session(&host, "web1", &st);
        ck_assert_int_eq(st, 201);
        snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(se, "session")));
        json_decref(se);
        /* a key opens exactly one session, on any of the request's hosts */
        se = open_session(&host, "web1", &st);
        ck_assert_int_eq(st, 409);
        json_decref(se);
        se = open_session(&web2, "web2", &st);
        ck_assert_int_eq(st, 409);
        json_decref(se);
        se = open_session(&host, "web3", &st);
        ck_assert_int_eq(st, 404);
        json_decref(se);
        {
                struct lb_query q = { .n = 2, .key = { "host", "user" }, .value = { "web1", "vendor" } };
                ck_assert_int_eq(lb_svc_keys(&b, &host, &q, &out), 200);
                ck_assert_uint_eq(json_array_size(json_object_get(out, "keys")), 0);
                json_decref(out);
        }
        ck_assert_int_eq(lb_svc_session_get(&b, &host, sid, &out), 200);
        ck_assert(json_is_true(json_object_get(out, "allow")));
        json_decref(out);
        /* revoke ends access at once, sessions included */
        now += 10;
        ck_assert_int_eq(action(&carol, id, "revoke", "{}"), 400); /* reason required */
        ck_assert_int_eq(action(&carol, id, "revoke", "{\"reason\":\"incident\"}"), 200);
        ck_assert(!access_allowed("web1", "vendor", NULL));
        ck_assert_int_eq(lb_svc_session_get(&b, &host, sid, &out), 200);
        ck_assert(json_is_false(json_object_get(out, "allow")));
        ck_assert_str_eq(json_string_value(json_object_get(out, "state")), "ended");
        ck_assert_str_eq(json_string_value(json_object_get(out, "reason")), "revoked: incident");
        json_decref(out);
        {
                json_auto_t *ev = all_events();
                json_t *last = json_array_get(ev, json_array_size(ev) - 1);
                ck_assert_str_eq(json_string_value(json_object_get(last, "type")), "SessionEnd");
                ck_assert_str_eq(json_string_value(json_object_get(last, "session")), sid);
        }
        /* ending an ended session is fine */
        {
                json_auto_t *in = body("{\"reason\":\"exit\"}");
                ck_assert_int_eq(lb_svc_session_end(&b, &host, sid, in, &out), 200);
                json_decref(out);
        }
}
END_TEST

START_TEST(test_bad_input) {
        static const char *const bad[] = {
                "{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"T\",\"extra\":1}",
                "{\"hosts\":\"web1\",\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"T\"}",
                "{\"hosts\":[\"web 1\"],\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"T\"}",
                "{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"r\"}",
                "{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"T\",\"duration_s\":\"2h\"}",
                "{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"T\",\"duration_s\":-5}",
        };
        static const char *const field[] = { "extra", "hosts", "hosts", "ticket", "duration_s", "duration_s" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_auto_t *in = body(bad[i]);
                json_auto_t *out = NULL;
                ck_assert_int_eq(lb_svc_request_create(&b, &alice, in, &out), 400);
                ck_assert_msg(strstr(json_string_value(json_object_get(out, "detail")), field[i]),
                              "detail of %s does not name %s", bad[i], field[i]);
        }
        {
                char *big = malloc(5000);
                memset(big, 'a', 4999);
                big[4999] = 0;
                json_auto_t *in = json_pack("{s:[s], s:s, s:s, s:s}", "hosts", "web1", "user", "v",
                                            "reason", big, "ticket", "T");
                json_auto_t *out = NULL;
                ck_assert_int_eq(lb_svc_request_create(&b, &alice, in, &out), 400);
                ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(out, "detail")), "reason"));
                free(big);
        }
        {
                json_auto_t *in = body("{\"hosts\":[\"web1\"],\"user\":\"v\",\"reason\":\"r\",\"ticket\":\"T\"}");
                json_auto_t *out = NULL;
                ck_assert_int_eq(lb_svc_request_create(&b, &bob, in, &out), 403);
        }
}
END_TEST

START_TEST(test_chain_verifies_and_tamper_detected) {
        _cleanup_free_ char *id = create("{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"T\"}");
        _cleanup_free_ char *id2 = create("{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"r2\",\"ticket\":\"T\"}");
        _cleanup_free_ char *detail = NULL;
        json_t *ev;
        sqlite3 *db;
        int64_t head;

        ck_assert_int_eq(action(&bob, id, "approve", NULL), 200);
        ck_assert_int_eq(action(&carol, id2, "deny", "{\"reason\":\"no\"}"), 200);
        ck_assert_int_eq(action(&alice, id, "complete", NULL), 200);
        ev = all_events();
        ck_assert_int_eq(json_array_size(ev), 5);
        ck_assert_int_eq(lb_audit_verify(ev, NULL, &head, &detail), 0);
        ck_assert_int_eq(head, 5);
        json_decref(ev);

        /* the trail is append-only for the broker's own connection */
        ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
        ck_assert_int_ne(sqlite3_exec(db, "UPDATE events SET body = body WHERE seq = 2", NULL, NULL, NULL),
                         SQLITE_OK);
        /* someone with write access drops the guard and changes a row */
        ck_assert_int_eq(sqlite3_exec(db, "DROP TRIGGER events_append_only_update;"
                                          "UPDATE events SET body = replace(body, '\"bob\"', '\"mallory\"')"
                                          " WHERE seq = 2", NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_changes(db), 1);
        sqlite3_close(db);
        ev = all_events();
        ck_assert_int_eq(lb_audit_verify(ev, NULL, &head, &detail), -EBADMSG);
        ck_assert_ptr_nonnull(strstr(detail, "seq 2"));
        json_decref(ev);
        free(detail);
        detail = NULL;

        /* a deleted row is a gap */
        ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, "DROP TRIGGER events_append_only_delete;"
                                          "DELETE FROM events WHERE seq = 4", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        ev = all_events();
        ck_assert_int_eq(lb_audit_verify(ev, NULL, &head, &detail), -EBADMSG);
        json_decref(ev);
}
END_TEST

START_TEST(test_schema_version_and_pragmas) {
        sqlite3 *db;
        sqlite3_stmt *st;
        ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
        ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
        sqlite3_finalize(st);
        ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_str_eq((const char *) sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        /* the access query uses the index, no full scan */
        ck_assert_int_eq(sqlite3_prepare_v2(db,
                "EXPLAIN QUERY PLAN SELECT r.body FROM request_hosts h JOIN requests r ON r.rid = h.rid"
                " WHERE h.host = 'a' AND h.user = 'b' AND h.state = 'approved' AND h.not_after > 5"
                " ORDER BY h.not_after DESC LIMIT 1", -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *d = (const char *) sqlite3_column_text(st, 3);
                ck_assert_msg(!strstr(d, "SCAN h") && !strstr(d, "SCAN request_hosts"), "plan: %s", d);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        /* a store written by a newer broker is refused */
        ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        {
                struct lb_store *s2 = NULL;
                ck_assert_int_eq(lb_store_sqlite.open(dbpath, &s2), -EPROTONOSUPPORT);
        }
}
END_TEST

START_TEST(test_notify_command_ignores_stdin) {
        /* the command never reads its stdin: an event bigger than a pipe holds
         * must not kill the caller with SIGPIPE (the write gets EPIPE) */
        size_t n = 256 * 1024;
        char *ev = malloc(n + 16);
        char *err = NULL;

        ck_assert_ptr_nonnull(ev);
        memcpy(ev, "{\"x\":\"", 6);
        memset(ev + 6, 'a', n);
        strcpy(ev + 6 + n, "\"}");
        ck_assert_int_eq(lb_notify_deliver(&b, "command", ev, &err), 0);
        free(err);
        free(ev);
}
END_TEST

static void setup_notify(void) {
        /* a command that fails for one request (named in $BLOCK) and records the rest */
        char cmd[512];
        static char outfile[256];
        ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/lbx-unit-broker.XXXXXX")));
        snprintf(outfile, sizeof(outfile), "%s/notified", dir);
        snprintf(cmd, sizeof(cmd),
                 "if [ -e %s/block-$LOCKBOX_REQUEST ]; then exit 1; fi; "
                 "echo \"$LOCKBOX_REQUEST $LOCKBOX_EVENT\" >> %s", dir, outfile);
        snprintf(dbpath, sizeof(dbpath), "%s/lockboxd.db", dir);
        lb_broker_conf_init(&conf);
        ck_assert_int_eq(lb_broker_conf_set(&conf, "notify_command", cmd), 0);
        ck_assert_int_eq(lb_store_sqlite.open(dbpath, &store), 0);
        ck_assert_int_eq(lb_broker_init(&b, &conf, &lb_store_sqlite, store), 0);
        b.clock = test_clock;
        b.members = test_members;
        now = T0;
        memset(group, 0, sizeof(group));
        group[0] = "bob";
        group[1] = "carol";
}

static char *read_notified(void) {
        char path[300];
        char *data = NULL;
        size_t len;
        snprintf(path, sizeof(path), "%s/notified", dir);
        if (lb_read_file(path, 1 << 20, &data, &len) < 0)
                return strdup("");
        return data;
}

static int drain(void) {
        int total = 0, r;
        while ((r = lb_notify_run_once(&b)) > 0)
                total += r;
        ck_assert_int_ge(r, 0);
        return total;
}

START_TEST(test_outbox_order_and_retry) {
        _cleanup_free_ char *r1 = create("{\"hosts\":[\"web1\"],\"user\":\"v\",\"reason\":\"r\",\"ticket\":\"T\"}");
        _cleanup_free_ char *r2 = create("{\"hosts\":[\"web1\"],\"user\":\"v\",\"reason\":\"r\",\"ticket\":\"T\"}");
        char blockfile[300], line[128];
        _cleanup_free_ char *got = NULL;
        int64_t left;

        /* r1's receiver fails: r1's events wait, r2's go through */
        snprintf(blockfile, sizeof(blockfile), "%s/block-%s", dir, r1);
        ck_assert_int_ge(open(blockfile, O_CREAT | O_WRONLY | O_CLOEXEC, 0600), 0);
        ck_assert_int_eq(action(&bob, r1, "approve", NULL), 200);
        ck_assert_int_eq(action(&bob, r2, "approve", NULL), 200);
        ck_assert_int_eq(drain(), 2);
        got = read_notified();
        snprintf(line, sizeof(line), "%s Create\n%s Approve\n", r2, r2);
        ck_assert_str_eq(got, line);
        free(got);
        ck_assert_int_eq(lb_store_sqlite.outbox_count(store, &left), 0);
        ck_assert_int_eq(left, 2);
        /* backoff: not retried before its time */
        ck_assert_int_eq(drain(), 0);
        unlink(blockfile);
        ck_assert_int_eq(drain(), 0);
        now += 1;
        ck_assert_int_eq(drain(), 2);
        got = read_notified();
        snprintf(line, sizeof(line), "%s Create\n%s Approve\n%s Create\n%s Approve\n", r2, r2, r1, r1);
        ck_assert_str_eq(got, line);
        ck_assert_int_eq(lb_store_sqlite.outbox_count(store, &left), 0);
        ck_assert_int_eq(left, 0);
        ck_assert_int_eq(lb_notify_backoff(0, 300), 1);
        ck_assert_int_eq(lb_notify_backoff(3, 300), 8);
        ck_assert_int_eq(lb_notify_backoff(30, 300), 300);
}
END_TEST

START_TEST(test_conf_setter) {
        struct lb_broker_conf c;
        _cleanup_free_ char *d = NULL;
        lb_broker_conf_init(&c);
        ck_assert_int_eq(lb_broker_conf_set(&c, "pending_ttl", "2d"), 0);
        ck_assert_uint_eq(c.policy.pending_ttl, 2 * 86400);
        ck_assert_int_eq(lb_broker_conf_set(&c, "max_duration", "8h"), 0);
        /* the socket: a group and a mode that keeps others out by default */
        ck_assert_str_eq(c.socket_group, "lockbox-clients");
        ck_assert_uint_eq(c.socket_mode, 0660);
        ck_assert_int_eq(lb_broker_conf_set(&c, "socket_mode", "0600"), 0);
        ck_assert_int_eq(lb_broker_conf_set(&c, "socket_mode", "0777"), -ERANGE);
        ck_assert_int_eq(lb_broker_conf_set(&c, "socket_mode", "0060"), -ERANGE);
        ck_assert_int_eq(lb_broker_conf_set(&c, "socket_mode", "1660"), -ERANGE);
        ck_assert_int_eq(lb_broker_conf_set(&c, "socket_mode", "rw"), -EINVAL);
        ck_assert_uint_eq(c.socket_mode, 0600);
        ck_assert_int_eq(lb_broker_conf_set(&c, "socket_group", "none"), 0);
        ck_assert_ptr_null(c.socket_group);
        ck_assert_int_eq(lb_broker_conf_set(&c, "request_timeout", "61s"), -ERANGE);
        ck_assert_int_eq(lb_broker_conf_set(&c, "request_timeout", "2s"), 0);
        ck_assert_uint_eq(c.request_timeout, 2);
        ck_assert_uint_eq(c.max_per_uid, 16);
        ck_assert_uint_eq(c.reserved_connections, 32);
        ck_assert_int_eq(lb_broker_conf_check(&c, &d), 0);
        ck_assert_int_eq(lb_broker_conf_set(&c, "max_connections_per_uid", "250"), 0);
        ck_assert_int_eq(lb_broker_conf_check(&c, &d), -EINVAL); /* more than 256 - 32 */
        free(d);
        d = NULL;
        ck_assert_int_eq(lb_broker_conf_set(&c, "max_connections_per_uid", "16"), 0);
        ck_assert_int_eq(lb_broker_conf_set(&c, "reserved_connections", "256"), 0);
        ck_assert_int_eq(lb_broker_conf_check(&c, &d), -EINVAL);
        free(d);
        d = NULL;
        ck_assert_int_eq(lb_broker_conf_set(&c, "reserved_connections", "32"), 0);
        ck_assert_int_eq(lb_broker_conf_set(&c, "webhook", "http://127.0.0.1:1/a"), 0);
        ck_assert_int_eq(lb_broker_conf_set(&c, "webhook", "http://127.0.0.1:2/b, http://127.0.0.1:3/c"), 0);
        ck_assert_uint_eq(lb_strv_length(c.webhooks), 3);
        ck_assert_int_eq(lb_broker_conf_set(&c, "no_such_key", "1"), -ENOENT);
        ck_assert_int_eq(lb_broker_conf_set(&c, "approvals_required", "0"), -EINVAL);
        ck_assert_int_eq(lb_broker_conf_set(&c, "default_duration", "forever"), -EINVAL);
        /* the policy has upper bounds, refused at parse with their range */
        ck_assert_int_eq(lb_broker_conf_set(&c, "max_duration", "7d"), 0);
        ck_assert_int_eq(lb_broker_conf_set(&c, "max_duration", "7d1s"), -ERANGE);
        ck_assert_int_eq(lb_broker_conf_set(&c, "default_duration", "3000000000000000000s"), -ERANGE);
        ck_assert_int_eq(lb_broker_conf_set(&c, "min_duration", "8d"), -ERANGE);
        ck_assert_int_eq(lb_broker_conf_set(&c, "pending_ttl", "30d"), 0);
        ck_assert_int_eq(lb_broker_conf_set(&c, "pending_ttl", "31d"), -ERANGE);
        ck_assert_int_eq(lb_broker_conf_set(&c, "pending_ttl", "9223372036854775807"), -ERANGE);
        ck_assert_uint_eq(c.policy.pending_ttl, 30 * 86400);
        ck_assert_uint_eq(c.policy.max_duration, 7 * 86400);
        ck_assert_str_eq(lb_broker_conf_range("max_duration"), "1s..7d");
        ck_assert_str_eq(lb_broker_conf_range("pending_ttl"), "1s..30d");
        ck_assert_int_eq(lb_broker_conf_set(&c, "max_duration", "8h"), 0);
        ck_assert_int_eq(lb_broker_conf_check(&c, &d), 0);
        ck_assert_int_eq(lb_broker_conf_set(&c, "listen", "127.0.0.1:8443"), 0);
        ck_assert_int_eq(lb_broker_conf_check(&c, &d), -EINVAL); /* TLS files missing */
        lb_broker_conf_done(&c);
}
END_TEST

START_TEST(test_routing) {
        static const struct {
                const char *method, *path, *body;
                int status;
                const char *detail;
        } cases[] = {
                { "GET", "/v1/health", NULL, 200, NULL },
                { "DELETE", "/v1/requests", NULL, 405, "GET or POST" },
                { "GET", "/v1/nothing", NULL, 404, "no such path" },
                { "GET", "/v2/health", NULL, 404, NULL },
                { "GET", "/v1/requests/", NULL, 404, NULL },
                { "POST", "/v1/requests", "{\"hosts\":", 400, "bad JSON" },
                { "POST", "/v1/requests", "{\"a\":1,\"a\":2}", 400, "duplicate" },
                { "POST", "/v1/requests", "[]", 400, "JSON object" },
                { "POST", "/v1/requests/r-1/explode", "{}", 404, NULL },
                { "GET", "/v1/requests/r-1/approve", NULL, 405, "POST" },
                { "GET", "/v1/requests/r-000000000000", NULL, 404, "no request" },
                { "GET", "/v1/access", "x", 400, "no body" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_auto_t *out = NULL;
                int st = lb_server_route(&b, &host, cases[i].method, cases[i].path, cases[i].body,
                                         cases[i].body ? strlen(cases[i].body) : 0, NULL, &out);
                ck_assert_msg(st == cases[i].status, "%s %s: %d", cases[i].method, cases[i].path, st);
                ck_assert_ptr_nonnull(out);
                if (cases[i].detail)
                        ck_assert_msg(strstr(json_string_value(json_object_get(out, "detail")),
                                             cases[i].detail), "%s %s: %s", cases[i].method,
                                      cases[i].path, json_string_value(json_object_get(out, "detail")));
        }
        /* hostile bytes anywhere in a call: a 4xx with a JSON error that encodes
         * (fuzz findings: a long multibyte key cut inside a character, a raw
         * byte in a query name; both answered 500 "out of memory") */
        {
                char body[256] = "{\"a"; /* odd: byte 64 falls inside a character */
                for (int i = 0; i < 40; i++)
                        strcat(body, "\xc3\xa9");
                strcat(body, "\":1}");
                static const struct {
                        const char *method, *path, *body;
                        const char *qk, *qv;
                        int status;
                } hostile[] = {
                        { "POST", "/v1/requests", NULL, NULL, NULL, 400 },
                        { "GET", "/v1/access", NULL, "\xff", "1", 400 },
                        { "GET", "/v1/access", NULL, "\xe2\x82", "1", 400 },
                        { "GET", "/v1/requests", NULL, "state", "\xff\xfe", 400 },
                        { "GET", "/v1/requests", NULL, "host", "\xc3", 400 },
                        { "GET", "/v1/keys", NULL, "host", "a\x1b[2J", 400 },
                        { "GET", "/v1/requests/r-\xc3\xa9\xc3", NULL, NULL, NULL, 404 },
                        { "GET", "/v1/sessions/\xff", NULL, NULL, NULL, 404 },
                        { "POST", "/v1/sessions/\xff\xfe/end", "{}", NULL, NULL, 404 },
                        { "POST", "/v1/tokens/\xff/revoke", "{}", NULL, NULL, 404 },
                        { "POST", "/v1/requests/\xff/approve", "{}", NULL, NULL, 404 },
                        { "POST", "/v1/requests", "{\"a\":\"\xff\"}", NULL, NULL, 400 },
                        { "GET", "/v1/\xff", NULL, NULL, NULL, 404 },
                };
                for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                        struct lb_query q = { .n = hostile[i].qk ? 1 : 0,
                                              .key = { hostile[i].qk }, .value = { hostile[i].qv } };
                        const char *bd = hostile[i].body ? hostile[i].body : (i == 0 ? body : NULL);
                        struct lb_caller all = { .principal = "root", .from = "test",
                                                 .roles = LB_ROLE_OPERATOR | LB_ROLE_APPROVER |
                                                          LB_ROLE_AUDITOR | LB_ROLE_HOST |
                                                          LB_ROLE_ADMIN };
                        json_auto_t *out = NULL;
                        int st = lb_server_route(&b, &all, hostile[i].method, hostile[i].path, bd,
                                                 bd ? strlen(bd) : 0, &q, &out);
                        ck_assert_msg(st == hostile[i].status, "hostile %zu: %d", i, st);
                        ck_assert_msg(out != NULL, "hostile %zu: no JSON body", i);
                        ck_assert_ptr_nonnull(json_string_value(json_object_get(out, "detail")));
                        {
                                char *dump = json_dumps(out, 0);
                                ck_assert_msg(dump != NULL, "hostile %zu: body does not encode", i);
                                free(dump);
                        }
                }
        }
        /* an unknown query parameter is named */
        {
                struct lb_query q = { .n = 3, .key = { "host", "user", "hots" }, .value = { "a", "b", "c" } };
                json_auto_t *out = NULL;
                ck_assert_int_eq(lb_server_route(&b, &host, "GET", "/v1/access", NULL, 0, &q, &out), 400);
                ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(out, "detail")), "hots"));
        }
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("broker_store");
        TCase *tc = tcase_create("store");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_access_follows_lifecycle);
        tcase_add_test(tc, test_pending_expiry_by_timer);
        tcase_add_test(tc, test_keys_sessions_revoke);
        tcase_add_test(tc, test_bad_input);
        tcase_add_test(tc, test_chain_verifies_and_tamper_detected);
        tcase_add_test(tc, test_schema_version_and_pragmas);
        tcase_add_test(tc, test_conf_setter);
        tcase_add_test(tc, test_routing);
        suite_add_tcase(s, tc);
        tc = tcase_create("outbox");
        tcase_add_checked_fixture(tc, setup_notify, teardown);
        tcase_add_test(tc, test_outbox_order_and_retry);
        tcase_add_test(tc, test_notify_command_ignores_stdin);
        tcase_set_timeout(tc, 30);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(suite());
        int failed;
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
