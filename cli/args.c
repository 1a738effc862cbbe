/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "http.h"
#include "util.h"

bool lb_ctl_broker_valid(const char *url) {
        if (isempty(url))
                return false;
        if (strneq(url, "unix:", 5))
                return url[5] == '/' && url[6] != '\0';
        if (strneq(url, "https://", 8)) {
                const char *h = url + 8;
                size_t n = strcspn(h, "/?#");

                if (n == 0 || h[0] == ':' || h[0] == '@')
                        return false;
                /* only a host, an optional port and an optional trailing '/' */
                if (h[n] == '/')
                        return h[n + 1] == '\0';
                if (h[n] != '\0')
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (h[i] == '@' || (unsigned char) h[i] <= ' ' || h[i] == 0x7f)
                                return false;
                return true;
        }
        return false;
}

int lb_ctl_query_add(char **path, const char *key, const char *value) {
        _cleanup_free_ char *v = NULL;
        char *n;

        if (isempty(value))
                return 0;
        v = lb_http_escape(value);
        if (!v)
                return -ENOMEM;
        n = lb_asprintf("%s%c%s=%s", *path, strchr(*path, '?') ? '&' : '?', key, v);
        if (!n)
                return -ENOMEM;
        free(*path);
        *path = n;
        return 0;
}

int lb_ctl_query_add_u64(char **path, const char *key, uint64_t value) {
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRIu64, value);
        return lb_ctl_query_add(path, key, buf);
}

static bool in_list(const char *s, const char *const *list) {
        if (!s)
                return false;
        for (; *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

bool lb_ctl_state_valid(const char *s) {
        static const char *const states[] = {
                "pending", "approved", "denied", "expired", "withdrawn", "revoked", "completed", NULL
        };
        return in_list(s, states);
}

bool lb_ctl_role_valid(const char *s) {
        static const char *const roles[] = { "operator", "approver", "auditor", "host", "admin", NULL };
        return in_list(s, roles);
}

int lb_ctl_parse_duration(const char *s, uint64_t *ret_seconds) {
        uint64_t v;
        int r;

        if (isempty(s))
                return -EINVAL;
        r = lb_parse_duration(s, &v);
        if (r < 0)
                return r;
        if (v < 1 || v > 366ULL * 24 * 3600)
                return -ERANGE;
        *ret_seconds = v;
        return 0;
}

int lb_ctl_parse_approvals(const char *s, int *ret) {
        if (isempty(s))
                return -EINVAL;
        return lb_parse_int(s, 1, 100, ret);
}
