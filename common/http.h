/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A small HTTP client for the broker API, over libcurl. The base is either
 * "unix:/path/to/socket" (HTTP over a unix socket) or "https://host:port".
 * Safe in a PAM module: CURLOPT_NOSIGNAL, no global cleanup, no redirects,
 * no proxies from the environment, a hard deadline, a cap on the answer. */

struct lb_http_opts {
        const char *base;       /* required */
        const char *token;      /* bearer token, or NULL */
        const char *ca_file;    /* CA bundle for https, or NULL for the system's */
        unsigned timeout_ms;    /* whole-call deadline; 0 = 5000 */
        size_t max_response;    /* 0 = 1 MiB */
};

struct lb_http_response {
        long status;            /* HTTP status */
        char *body;             /* NUL-terminated (may contain NULs before) */
        size_t len;
};

void lb_http_response_done(struct lb_http_response *r);

/* method: "GET", "POST", "DELETE". path starts with "/v1/". body may be NULL.
 * Returns 0 when an HTTP answer arrived (any status), or:
 *   -ETIMEDOUT     deadline passed
 *   -ECONNREFUSED  nothing listening / socket missing
 *   -EPROTO        TLS or protocol failure
 *   -EFBIG         answer larger than max_response
 *   -EINVAL        bad base URL
 *   -EIO           any other transport failure */
int lb_http_request(const struct lb_http_opts *o, const char *method, const char *path,
                    const char *body, struct lb_http_response *ret);

/* Percent-encode a query parameter value. */
char *lb_http_escape(const char *s);

/* Read a bearer token from a file (first line, trimmed; must not be group or
 * world readable unless owned by root and mode 0640 or stricter). */
int lb_http_read_token(const char *path, char **ret);

/* One-time library init, safe to call many times (never cleaned up). */
int lb_http_global_init(void);
