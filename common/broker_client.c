/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "broker_client.h"
#include "timeutil.h"
#include "util.h"

#define LB_ID_MAX 64

#define _cleanup_json_ json_auto_t

int lb_broker_init_base(struct lb_broker *b, const char *base, const char *token,
                        const char *ca_file, unsigned timeout_ms) {
        *b = (struct lb_broker) {};
        if (isempty(base))
                return -EINVAL;
        b->http.base = strdup(base);
        b->http.ca_file = ca_file ? strdup(ca_file) : NULL;
        b->token = token ? strdup(token) : NULL;
        if (!b->http.base || (ca_file && !b->http.ca_file) || (token && !b->token)) {
                lb_broker_done(b);
                return -ENOMEM;
        }
        b->http.token = b->token;
        b->http.timeout_ms = timeout_ms;
        return 0;
}

int lb_broker_init(struct lb_broker *b, const struct lb_host_conf *c) {
        _cleanup_free_ char *token = NULL;
        int r;

        if (c->token_file) {
                r = lb_http_read_token(c->token_file, &token);
                if (r < 0)
                        return r;
        }
        r = lb_broker_init_base(b, c->broker, token, c->ca_file, c->timeout_ms);
        if (token)
                lb_explicit_bzero(token, strlen(token));
        return r;
}

void lb_broker_done(struct lb_broker *b) {
        free((char *) b->http.base);
        free((char *) b->http.ca_file);
        if (b->token) {
                lb_explicit_bzero(b->token, strlen(b->token));
                free(b->token);
        }
        *b = (struct lb_broker) {};
}

int lb_http_status_to_errno(long status) {
        if (status >= 200 && status < 300)
                return 0;
        switch (status) {
        case 400: return -EINVAL;
        case 401:
        case 403: return -EACCES;
        case 404: return -ENOENT;
        case 409: return -EBUSY;
        case 413: return -E2BIG;
        case 429: return -EAGAIN;
        default: return status >= 500 && status < 600 ? -EIO : -EPROTO;
        }
}

int lb_broker_call(struct lb_broker *b, const char *method, const char *path, json_t *body,
                   json_t **ret_json, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        struct lb_http_response resp = {};
        _cleanup_json_ *j = NULL;
        json_error_t jerr;
        int r;

        if (body) {
                text = json_dumps(body, JSON_COMPACT);
                if (!text)
                        return -ENOMEM;
        }
        r = lb_http_request(&b->http, method, path, text, &resp);
        if (r < 0)
                return r;
        j = json_loadb(resp.body, resp.len, JSON_REJECT_DUPLICATES, &jerr);
        r = lb_http_status_to_errno(resp.status);
        lb_http_response_done(&resp);
        if (r < 0) {
                if (ret_error && json_is_object(j)) {
                        const char *e = json_string_value(json_object_get(j, "error"));
                        const char *d = json_string_value(json_object_get(j, "detail"));
                        *ret_error = lb_asprintf("%s%s%s", e ? e : "error", d ? ": " : "",
                                                 d ? d : "");
                }
                return r;
        }
        if (!json_is_object(j))
                return -EBADMSG;
        if (ret_json)
                *ret_json = TAKE_PTR(j);
        return 0;
}

/* Optional string member: missing or null gives NULL; any other type is an error. */
static int get_str(json_t *o, const char *k, bool required, char **ret) {
        json_t *v = json_object_get(o, k);

        *ret = NULL;
        if (!v || json_is_null(v))
                return required ? -EBADMSG : 0;
        if (!json_is_string(v))
                return -EBADMSG;
        *ret = strndup(json_string_value(v), json_string_length(v));
        if (!*ret)
                return -ENOMEM;
        if (strlen(*ret) != json_string_length(v)) /* NUL inside */
                return -EBADMSG;
        return 0;
}

static int get_int(json_t *o, const char *k, bool required, int64_t *ret) {
        json_t *v = json_object_get(o, k);

        if (!v || json_is_null(v)) {
                *ret = 0;
                return required ? -EBADMSG : 0;
        }
        if (!json_is_integer(v))
                return -EBADMSG;
        *ret = (int64_t) json_integer_value(v);
        return 0;
}

static int get_time(json_t *o, const char *k, bool required, int64_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r = get_str(o, k, required, &s);

        *ret = 0;
        if (r < 0 || !s)
                return r;
        return lb_time_parse(s, ret);
}

static int load_object(const char *json, size_t len, json_t **ret) {
        json_error_t jerr;
        json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);

        if (!j)
                return -EBADMSG;
        if (!json_is_object(j)) {
                json_decref(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

void lb_access_done(struct lb_access *a) {
        free(a->request);
        free(a->operator_);
        free(a->reason);
        free(a->hint);
        free(a->host);
        free(a->user);
        *a = (struct lb_access) {};
}

static int access_from_json(json_t *j, struct lb_access *ret) {
        struct lb_access a = {};
        json_t *allow = json_object_get(j, "allow");
        int r;

        if (!json_is_boolean(allow))
                return -EBADMSG;
        a.allow = json_is_true(allow);
        if ((r = get_str(j, "host", false, &a.host)) < 0 ||
            (r = get_str(j, "user", false, &a.user)) < 0)
                goto fail;
        if (a.allow) {
                if ((r = get_str(j, "request", true, &a.request)) < 0 ||
                    (r = get_str(j, "operator", false, &a.operator_)) < 0 ||
                    (r = get_time(j, "not_after", true, &a.not_after)) < 0 ||
                    (r = get_int(j, "remaining_s", true, &a.remaining_s)) < 0)
                        goto fail;
                /* an "allow" with no time left, or an id we would not print, is not an allow */
                if (a.remaining_s <= 0 || !lb_name_valid(a.request, LB_ID_MAX)) {
                        r = -EBADMSG;
                        goto fail;
                }
        } else {
                if ((r = get_str(j, "reason", false, &a.reason)) < 0 ||
                    (r = get_str(j, "hint", false, &a.hint)) < 0)
                        goto fail;
        }
        *ret = a;
        return 0;
fail:
        lb_access_done(&a);
        return r;
}

int lb_access_parse(const char *json, size_t len, struct lb_access *ret) {
        _cleanup_json_ *j = NULL;
        int r = load_object(json, len, &j);

        return r < 0 ? r : access_from_json(j, ret);
}

int lb_broker_access(struct lb_broker *b, const char *host, const char *user,
                     struct lb_access *ret) {
        _cleanup_free_ char *h = lb_http_escape(host), *u = lb_http_escape(user), *path = NULL;
        _cleanup_json_ *j = NULL;
        int r;

        if (!h || !u)
                return -ENOMEM;
        path = lb_asprintf("/v1/access?host=%s&user=%s", h, u);
        if (!path)
                return -ENOMEM;
        r = lb_broker_call(b, "GET", path, NULL, &j, NULL);
        if (r < 0)
                return r;
        return access_from_json(j, ret);
}

void lb_keys_done(struct lb_keys *k) {
        for (size_t i = 0; i < k->n; i++) {
                free(k->keys[i].request);
                free(k->keys[i].public_key);
                free(k->keys[i].fingerprint);
        }
        free(k->keys);
        *k = (struct lb_keys) {};
}

static int keys_from_json(json_t *j, struct lb_keys *ret) {
        struct lb_keys k = {};
        json_t *arr = json_object_get(j, "keys"), *e;
        size_t i;
        int r;

        if (!json_is_array(arr))
                return -EBADMSG;
        if (json_array_size(arr) > 1024)
                return -E2BIG;
        k.keys = calloc(json_array_size(arr) + 1, sizeof(struct lb_key));
        if (!k.keys)
                return -ENOMEM;
        json_array_foreach(arr, i, e) {
                struct lb_key *key = &k.keys[k.n++];
                if (!json_is_object(e)) {
                        r = -EBADMSG;
                        goto fail;
                }
                if ((r = get_str(e, "request", true, &key->request)) < 0 ||
                    (r = get_str(e, "public_key", true, &key->public_key)) < 0 ||
                    (r = get_str(e, "fingerprint", true, &key->fingerprint)) < 0 ||
                    (r = get_time(e, "not_after", true, &key->not_after)) < 0 ||
                    (r = get_int(e, "remaining_s", true, &key->remaining_s)) < 0)
                        goto fail;
                if (!lb_name_valid(key->request, LB_ID_MAX)) {
                        r = -EBADMSG;
                        goto fail;
                }
        }
        *ret = k;
        return 0;
fail:
        lb_keys_done(&k);
        return r;
}

int lb_keys_parse(const char *json, size_t len, struct lb_keys *ret) {
        _cleanup_json_ *j = NULL;
        int r = load_object(json, len, &j);

        return r < 0 ? r : keys_from_json(j, ret);
}

int lb_broker_keys(struct lb_broker *b, const char *host, const char *user,
                   const char *fingerprint, struct lb_keys *ret) {
        _cleanup_free_ char *h = lb_http_escape(host), *u = lb_http_escape(user), *path = NULL,
                            *f = fingerprint ? lb_http_escape(fingerprint) : NULL;
        _cleanup_json_ *j = NULL;
        int r;

        if (!h || !u || (fingerprint && !f))
                return -ENOMEM;
        path = f ? lb_asprintf("/v1/keys?host=%s&user=%s&fingerprint=%s", h, u, f)
                 : lb_asprintf("/v1/keys?host=%s&user=%s", h, u);
        if (!path)
                return -ENOMEM;
        r = lb_broker_call(b, "GET", path, NULL, &j, NULL);
        if (r < 0)
                return r;
        return keys_from_json(j, ret);
}

void lb_session_done(struct lb_session *s) {
        free(s->session);
        free(s->request);
        free(s->operator_);
        free(s->host);
        free(s->user);
        free(s->state);
        free(s->reason);
        *s = (struct lb_session) {};
}

static int session_from_json(json_t *j, struct lb_session *ret) {
        struct lb_session s = {};
        json_t *allow = json_object_get(j, "allow");
        int r;

        if (!json_is_boolean(allow))
                return -EBADMSG;
        s.allow = json_is_true(allow);
        if ((r = get_str(j, "session", true, &s.session)) < 0 ||
            (r = get_str(j, "request", true, &s.request)) < 0 ||
            (r = get_str(j, "operator", false, &s.operator_)) < 0 ||
            (r = get_str(j, "host", false, &s.host)) < 0 ||
            (r = get_str(j, "user", false, &s.user)) < 0 ||
            (r = get_str(j, "state", true, &s.state)) < 0 ||
            (r = get_str(j, "reason", false, &s.reason)) < 0 ||
            (r = get_time(j, "not_after", s.allow, &s.not_after)) < 0 ||
            (r = get_int(j, "remaining_s", s.allow, &s.remaining_s)) < 0)
                goto fail;
        if (!lb_name_valid(s.session, LB_ID_MAX) || !lb_name_valid(s.request, LB_ID_MAX) ||
            (s.allow && (s.remaining_s <= 0 || !streq(s.state, "open")))) {
                r = -EBADMSG;
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        lb_session_done(&s);
        return r;
}

int lb_session_parse(const char *json, size_t len, struct lb_session *ret) {
        _cleanup_json_ *j = NULL;
        int r = load_object(json, len, &j);

        return r < 0 ? r : session_from_json(j, ret);
}

int lb_broker_session_open(struct lb_broker *b, const struct lb_session_open *o,
                           struct lb_session *ret, char **ret_error) {
        _cleanup_json_ *body = NULL, *j = NULL;
        int r;

        body = json_pack("{s:s, s:s, s:s}", "host", o->host, "user", o->user, "public_key",
                         o->public_key);
        if (!body)
                return -ENOMEM;
        if (o->remote)
                json_object_set_new(body, "remote", json_string(o->remote));
        if (o->tty)
                json_object_set_new(body, "tty", json_string(o->tty));
        if (o->pid > 0)
                json_object_set_new(body, "pid", json_integer(o->pid));
        if (o->audit_session >= 0)
                json_object_set_new(body, "audit_session", json_integer(o->audit_session));
        r = lb_broker_call(b, "POST", "/v1/sessions", body, &j, ret_error);
        if (r < 0)
                return r;
        return session_from_json(j, ret);
}

int lb_broker_session_get(struct lb_broker *b, const char *id, struct lb_session *ret) {
        _cleanup_free_ char *e = NULL, *path = NULL;
        _cleanup_json_ *j = NULL;
        int r;

        if (!lb_name_valid(id, LB_ID_MAX))
                return -EINVAL;
        e = lb_http_escape(id);
        path = e ? lb_asprintf("/v1/sessions/%s", e) : NULL;
        if (!path)
                return -ENOMEM;
        r = lb_broker_call(b, "GET", path, NULL, &j, NULL);
        if (r < 0)
                return r;
        return session_from_json(j, ret);
}

int lb_broker_session_end(struct lb_broker *b, const char *id, const char *reason) {
        _cleanup_free_ char *e = NULL, *path = NULL;
        _cleanup_json_ *body = NULL;

        if (!lb_name_valid(id, LB_ID_MAX))
                return -EINVAL;
        e = lb_http_escape(id);
        path = e ? lb_asprintf("/v1/sessions/%s/end", e) : NULL;
        if (!path)
                return -ENOMEM;
        body = json_pack("{s:s}", "reason", reason ? reason : "exit");
        if (!body)
                return -ENOMEM;
        return lb_broker_call(b, "POST", path, body, NULL, NULL);
}
