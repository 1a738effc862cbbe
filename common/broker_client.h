/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "http.h"

/* The host side of the broker API (docs/API.md): decisions, keys, sessions.
 * Pure parsers (lb_*_parse) take bytes and fill structs; lb_broker_* do the
 * call. Anything that is not a well-formed, expected answer is an error, and
 * callers treat every error as "no" (fail closed). */

struct lb_broker {
        struct lb_http_opts http;
        char *token;
};

/* From host configuration: broker, token_file, ca_file, timeout_ms. */
int lb_broker_init(struct lb_broker *b, const struct lb_host_conf *c);
/* Directly, e.g. from lockboxctl: base, token (copied; may be NULL). */
int lb_broker_init_base(struct lb_broker *b, const char *base, const char *token,
                        const char *ca_file, unsigned timeout_ms);
void lb_broker_done(struct lb_broker *b);

/* Map an HTTP status to -errno: 400 -EINVAL, 401/403 -EACCES, 404 -ENOENT,
 * 409 -EBUSY, 413 -E2BIG, 429 -EAGAIN, 5xx -EIO, other non-2xx -EPROTO. */
int lb_http_status_to_errno(long status);

/* Generic call: body may be NULL; on 2xx *ret_json gets the parsed object.
 * On an API error with a JSON body, *ret_error (if given) gets "error: detail". */
int lb_broker_call(struct lb_broker *b, const char *method, const char *path, json_t *body,
                   json_t **ret_json, char **ret_error);

struct lb_access {
        bool allow;
        char *request;      /* when allowed */
        char *operator_;    /* principal that asked, when allowed */
        int64_t not_after;  /* epoch seconds, when allowed */
        int64_t remaining_s;/* seconds left by the broker's clock, when allowed */
        char *reason;       /* when refused */
        char *hint;         /* when refused: how to ask for access, may be NULL */
        char *host;         /* the host and account the answer is about (may be NULL): */
        char *user;         /* callers check them against what they asked */
};
void lb_access_done(struct lb_access *a);
int lb_access_parse(const char *json, size_t len, struct lb_access *ret);
int lb_broker_access(struct lb_broker *b, const char *host, const char *user,
                     struct lb_access *ret);

struct lb_key {
        char *request;
        char *public_key;   /* "ssh-ed25519 AAAA..." (type and base64 only) */
        char *fingerprint;  /* "SHA256:..." */
        int64_t not_after;
        int64_t remaining_s;
};
struct lb_keys {
        struct lb_key *keys;
        size_t n;
};
void lb_keys_done(struct lb_keys *k);
int lb_keys_parse(const char *json, size_t len, struct lb_keys *ret);
/* fingerprint may be NULL */
int lb_broker_keys(struct lb_broker *b, const char *host, const char *user,
                   const char *fingerprint, struct lb_keys *ret);

struct lb_session {
        char *session;
        char *request;
        char *operator_;
        char *host;
        char *user;
        char *state;        /* "open" | "ended" */
        bool allow;         /* still allowed (request approved, not expired/revoked) */
        int64_t not_after;
        int64_t remaining_s;
        char *reason;       /* why not allowed, when !allow */
};
void lb_session_done(struct lb_session *s);
int lb_session_parse(const char *json, size_t len, struct lb_session *ret);

struct lb_session_open {
        const char *host;
        const char *user;
        const char *public_key;    /* "type base64" from SSH_AUTH_INFO_0 */
        const char *remote;        /* PAM_RHOST, may be NULL */
        const char *tty;           /* may be NULL */
        int64_t pid;               /* sshd session pid, 0 if unknown */
        int64_t audit_session;     /* /proc/self/sessionid, -1 if unset */
};
int lb_broker_session_open(struct lb_broker *b, const struct lb_session_open *o,
                           struct lb_session *ret, char **ret_error);
int lb_broker_session_get(struct lb_broker *b, const char *id, struct lb_session *ret);
int lb_broker_session_end(struct lb_broker *b, const char *id, const char *reason);
