/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The broker's API as a caller reaches it (broker/server.c lb_server_route,
 * broker/service.c): method, path, query parameters and JSON body, from any
 * local user on the socket or any token holder over TLS. Each input runs
 * against a fresh copy of a SQLite store (in /dev/shm) holding one approved request
 * r-000000000001 (alice -> vendor@web1, approved by bob), one pending
 * r-000000000002, a registered key k-000000000001 and a host token, so that
 * every call has something to find.
 *
 * Input: byte 0 picks the caller (operator, approver, auditor, host, host
 * bound to web2, admin, nobody), byte 1 the method; then the path up to
 * '\n', the query string up to '\n' (k=v&k=v, %XX-decoded as libmicrohttpd
 * does), and the body.
 *
 * Checks: every call gets a JSON body; a refusal is {"error","detail"} with
 * strings; the status is never 500 (bad input is the caller's error, 4xx);
 * 2xx answers to the host calls have what the hosts' decoders require; no
 * caller gets a 2xx its role does not allow (no role: only health; auditor:
 * only reads; host calls: only the host role, a bound token only about its
 * own host). */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "broker_conf.h"
#include "fuzz.h"
#include "lifecycle.h"
#include "server.h"
#include "service.h"
#include "util.h"

#define NOW 1795341600
#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMEOl5iMblBfhFYRC7WyTMr7xet5Iaeyez6YRphvL+pr"

static char dir[64], dbpath[96], template[96];
static struct lb_broker_conf conf;

static int64_t fixed_clock(void *userdata) {
        return NOW;
}

static int members(void *userdata, const char *group, char ***ret) {
        *ret = lb_strv_split("bob carol dave alice", " ");
        return *ret ? 0 : -ENOMEM;
}

static const struct lb_caller callers[] = {
        { .principal = "alice", .roles = LB_ROLE_OPERATOR, .from = "fuzz" },
        { .principal = "bob", .roles = LB_ROLE_APPROVER, .from = "fuzz" },
        { .principal = "eve", .roles = LB_ROLE_AUDITOR, .from = "fuzz" },
        { .principal = "web1", .roles = LB_ROLE_HOST, .host_binding = "web1", .from = "fuzz" },
        { .principal = "web2", .roles = LB_ROLE_HOST, .host_binding = "web2", .from = "fuzz" },
        { .principal = "root", .roles = LB_ROLE_ADMIN | LB_ROLE_HOST, .from = "fuzz" },
        { .principal = "mallory", .roles = 0, .from = "fuzz" },
        { .principal = "carol", .roles = LB_ROLE_APPROVER | LB_ROLE_OPERATOR, .from = "fuzz" },
};
static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };

static void make_template(void);
static void copy_file(const char *from, const char *to);
static void wipe(void);

static void cleanup(void) {
        wipe();
        unlink(template);
        rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        snprintf(dir, sizeof(dir), "/dev/shm/lbx-fuzz-route.%d", (int) getpid());
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                abort();
        snprintf(dbpath, sizeof(dbpath), "%s/lockboxd.db", dir);
        snprintf(template, sizeof(template), "%s/template.db", dir);
        lb_broker_conf_init(&conf);
        if (lb_broker_conf_set(&conf, "min_duration", "1s") < 0)
                abort();
        make_template();
        atexit(cleanup);
        return 0;
}

static void wipe(void) {
        char p[128];
        unlink(dbpath);
        snprintf(p, sizeof(p), "%s-wal", dbpath);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", dbpath);
        unlink(p);
}

static void seed(struct lb_broker *b) {
        const struct lb_store_ops *ops = b->ops;
        struct lb_policy pol;
        char *hosts[] = { (char *) "web1", NULL }, *m[] = { (char *) "bob", (char *) "carol", NULL };
        struct lb_create_input in = { .operator_ = "alice", .hosts = hosts, .user = "vendor",
                                      .reason = "disk full", .ticket = "T-1", .duration_s = 7200 };
        struct lb_request *r1 = NULL, *r2 = NULL;
        _cleanup_free_ char *d = NULL;
        struct lb_key k = { .id = (char *) "k-000000000001", .request = (char *) "r-000000000001",
                            .public_key = (char *) KEY1,
                            .fingerprint = (char *) "SHA256:placeholder", .created_at = NOW - 50 };
        struct lb_token t = { .id = (char *) "t-000000000001", .principal = (char *) "web1",
                              .role = (char *) "host", .host = (char *) "web1", .created_at = NOW - 100 };

        /* as the service does it: created pending, then updated */
        lb_policy_init(&pol);
        if (lb_lc_create(&pol, &in, "r-000000000001", m, NOW - 100, &r1, &d) < 0 ||
            lb_lc_create(&pol, &in, "r-000000000002", m, NOW - 30, &r2, &d) < 0)
                abort();
        if (ops->begin(b->store) < 0 || ops->request_put(b->store, r1, true) < 0 ||
            lb_lc_approve(r1, "bob", "ok", NOW - 60, &d) != 1 ||
            ops->request_put(b->store, r1, false) < 0 ||
            ops->request_put(b->store, r2, true) < 0 || ops->key_add(b->store, &k) < 0 ||
            ops->token_add(b->store, &t, "00000000000000000000000000000000000000000000000000000000000000aa") < 0 ||
            ops->commit(b->store) < 0)
                abort();
        lb_request_free(r1);
        lb_request_free(r2);
}

static int64_t fixed_clock(void *userdata);
static int members(void *userdata, const char *group, char ***ret);

/* The seeded store is made once; each input gets a fresh copy of the file. */
static void make_template(void) {
        struct lb_store *store = NULL;
        struct lb_broker b;

        wipe();
        if (lb_store_sqlite.open(dbpath, &store) < 0 ||
            lb_broker_init(&b, &conf, &lb_store_sqlite, store) < 0)
                abort();
        b.clock = fixed_clock;
        b.members = members;
        seed(&b);
        lb_broker_done(&b);
        lb_store_sqlite.close(store); /* the last close folds the WAL into the file */
        copy_file(dbpath, template);
        wipe();
}

static void copy_file(const char *from, const char *to) {
        _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        char buf[65536];
        ssize_t n;

        if (in < 0 || out < 0)
                abort();
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (lb_write_all(out, buf, (size_t) n) < 0)
                        abort();
        if (n < 0)
                abort();
}

static int unhex(int c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* in place, as MHD_http_unescape */
static void unescape(char *s) {
        char *o = s;
        for (; *s; s++) {
                if (s[0] == '%' && unhex(s[1]) >= 0 && unhex(s[2]) >= 0) {
                        *o++ = (char) (unhex(s[1]) * 16 + unhex(s[2]));
                        s += 2;
                } else
                        *o++ = *s;
        }
        *o = '\0';
}

static void parse_query(char *qs, struct lb_query *q) {
        for (char *save = NULL, *kv = strtok_r(qs, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
                char *eq = strchr(kv, '=');
                if (q->n == LB_QUERY_MAX) {
                        q->overflow = true;
                        return;
                }
                if (eq)
                        *eq = '\0';
                unescape(kv);
                if (eq)
                        unescape(eq + 1);
                q->key[q->n] = kv;
                q->value[q->n] = eq ? eq + 1 : NULL;
                q->n++;
        }
}

/* Who may get a 2xx at all (docs/API.md "Roles"): nobody but the host role
 * gets host calls, a host token only about its own host, an auditor only
 * reads, a caller without a role only /v1/health. */
static void check_roles(int st, const struct lb_caller *c, const char *method, const char *path,
                        const struct lb_query *q, const char *body, size_t body_len) {
        bool host_call = (streq(method, "GET") && (streq(path, "/v1/access") || streq(path, "/v1/keys"))) ||
                         (streq(method, "POST") && (streq(path, "/v1/sessions") ||
                                                    (strneq(path, "/v1/sessions/", 13) &&
                                                     strlen(path) > 17 && streq(path + strlen(path) - 4, "/end"))));

        if (st < 200 || st >= 300)
                return;
        FUZZ_CHECK(c->roles || (streq(method, "GET") && streq(path, "/v1/health")),
                   "%s %s: %d for a caller without a role", method, path, st);
        FUZZ_CHECK(c->roles != LB_ROLE_AUDITOR || streq(method, "GET"),
                   "%s %s: %d for an auditor (read-only)", method, path, st);
        FUZZ_CHECK(!host_call || (c->roles & LB_ROLE_HOST), "%s %s: %d for %s, not a host", method,
                   path, st, c->principal);
        if (host_call && c->host_binding && !strneq(path, "/v1/sessions/", 13)) {
                const char *h = NULL;
                json_auto_t *j = NULL;
                if (streq(method, "GET"))
                        h = lb_query_get(q, "host");
                else if ((j = json_loadb(body, body_len, 0, NULL)))
                        h = json_string_value(json_object_get(j, "host"));
                FUZZ_CHECK(h && streq(h, c->host_binding), "%s %s: %d for a token bound to %s about host %s",
                           method, path, st, c->host_binding, h ? h : "(none)");
        }
}

static void check_answer(int st, json_t *out, const char *method, const char *path) {
        _cleanup_free_ char *text = NULL;

        if (!out && fuzz_ignore_known("detail-utf8"))
                return; /* a detail that is not UTF-8: known, being fixed */
        FUZZ_CHECK(out, "%s %s: status %d with no JSON body (the server answers 500 "
                        "\"out of memory\")", method, path, st);
        FUZZ_CHECK(st != 500, "%s %s: 500 for caller input: %s", method, path,
                   (text = json_dumps(out, JSON_COMPACT)) ? text : "?");
        FUZZ_CHECK(st >= 200 && st < 600, "%s %s: status %d", method, path, st);
        FUZZ_CHECK(json_is_object(out) || json_is_array(out), "%s %s: answer is no object", method, path);
        if (st >= 400) {
                FUZZ_CHECK(json_is_string(json_object_get(out, "error")) &&
                                   json_is_string(json_object_get(out, "detail")),
                           "%s %s: refusal %d without error and detail", method, path, st);
                return;
        }
        /* what the hosts' decoders (common/broker_client.c) require of an
         * answer; they cannot be linked here: both sides define lb_broker_init */
        text = json_dumps(out, JSON_COMPACT);
        FUZZ_CHECK(text, "answer does not serialise");
        if (streq(method, "GET") && streq(path, "/v1/access")) {
                json_t *allow = json_object_get(out, "allow");
                FUZZ_CHECK(json_is_boolean(allow), "access answer without allow: %s", text);
                if (json_is_true(allow))
                        FUZZ_CHECK(json_is_string(json_object_get(out, "request")) &&
                                           json_is_string(json_object_get(out, "not_after")) &&
                                           json_integer_value(json_object_get(out, "remaining_s")) > 0,
                                   "an allow the host cannot use: %s", text);
        } else if (streq(method, "GET") && streq(path, "/v1/keys")) {
                FUZZ_CHECK(json_is_array(json_object_get(out, "keys")), "keys answer without keys: %s", text);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct lb_store *store = NULL;
        struct lb_broker b;
        struct lb_query q = {};
        _cleanup_free_ char *path = NULL, *qs = NULL;
        json_t *out = NULL;
        const char *method;
        const struct lb_caller *c;
        int st;

        if (size < 2 || size > LB_BODY_MAX)
                return 0;
        c = &callers[data[0] % ELEMENTSOF(callers)];
        method = methods[data[1] % ELEMENTSOF(methods)];
        data += 2;
        size -= 2;
        fuzz_take(&data, &size, '\n', &path);
        fuzz_take(&data, &size, '\n', &qs);
        unescape(path);
        parse_query(qs, &q);

        wipe();
        copy_file(template, dbpath);
        if (lb_store_sqlite.open(dbpath, &store) < 0 ||
            lb_broker_init(&b, &conf, &lb_store_sqlite, store) < 0)
                abort();
        b.clock = fixed_clock;
        b.members = members;

        st = lb_server_route(&b, c, method, path, (const char *) data, size, &q, &out);
        if (getenv("LB_FUZZ_VERBOSE")) {
                _cleanup_free_ char *t = out ? json_dumps(out, JSON_COMPACT) : NULL;
                fprintf(stderr, "%s %s %s -> %d %.300s\n", c->principal, method, path, st, strna(t));
        }
        check_answer(st, out, method, path);
        check_roles(st, c, method, path, &q, (const char *) data, size);
        json_decref(out);

        lb_broker_done(&b);
        lb_store_sqlite.close(store);
        return 0;
}
