/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "keys_line.h"
#include "sshkey.h"
#include "timeutil.h"
#include "util.h"

#define LB_REQUEST_ID_MAX 64
#define LB_RECORDER_PATH_MAX 1024
/* 9999-12-31T23:59:59Z: the last second sshd's expiry-time (YYYYMMDDHHMMSSZ)
 * can say */
#define LB_KEYS_TIME_MAX INT64_C(253402300799)

bool lb_keys_recorder_valid(const char *path) {
        size_t n;

        if (!path || path[0] != '/')
                return false;
        n = strlen(path);
        if (n > LB_RECORDER_PATH_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = path[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '/' || c == '.' || c == '_' || c == '+' || c == '-'))
                        return false;
        }
        return true;
}

int lb_keys_expiry(const struct lb_key *k, int64_t now, int64_t *ret) {
        int64_t t;

        /* The cap is not optional: an answer without a not_after we can
         * write down is not an answer we print a key for. */
        if (k->not_after <= 0 || k->not_after > LB_KEYS_TIME_MAX)
                return -EBADMSG;
        if (now <= 0 || now > LB_KEYS_TIME_MAX)
                return -ERANGE;
        if (k->remaining_s <= 0)
                return -ESTALE;
        if (__builtin_add_overflow(now, k->remaining_s, &t))
                t = INT64_MAX;
        /* a local clock that runs ahead of the broker's must not stretch access */
        if (t > k->not_after)
                t = k->not_after;
        if (t <= now)
                return -ESTALE;
        *ret = t;
        return 0;
}

bool lb_keys_match(const struct lb_key *k, const char *fingerprint, const char *type,
                   const char *base64) {
        _cleanup_free_ char *norm = NULL, *fp = NULL;
        const char *sp;

        if (lb_sshkey_normalize(k->public_key, &norm) < 0)
                return false;
        if (!isempty(fingerprint)) {
                if (lb_sshkey_fingerprint(norm, &fp) < 0 || !streq(fp, fingerprint))
                        return false;
        }
        sp = strchr(norm, ' ');
        if (!sp)
                return false;
        if (!isempty(type) && (strlen(type) != (size_t) (sp - norm) || !strneq(norm, type, sp - norm)))
                return false;
        if (!isempty(base64) && !streq(sp + 1, base64))
                return false;
        return true;
}

int lb_keys_format_line(const struct lb_key *k, const char *recorder, int64_t now, char **ret) {
        _cleanup_free_ char *norm = NULL;
        char when[32];
        int64_t expiry;
        char *line;
        int r;

        if (!lb_keys_recorder_valid(recorder))
                return -EINVAL;
        if (!lb_name_valid(k->request, LB_REQUEST_ID_MAX))
                return -EINVAL;
        r = lb_sshkey_normalize(k->public_key, &norm);
        if (r < 0)
                return -EINVAL;
        r = lb_keys_expiry(k, now, &expiry);
        if (r < 0)
                return r;
        /* exactly YYYYMMDDHHMMSSZ, or sshd reads another time (or none) */
        if (strlen(lb_time_format_ssh(expiry, when, sizeof(when))) != 15)
                return -ERANGE;
        line = lb_asprintf("restrict,pty,expiry-time=\"%s\",command=\"%s\" %s lockbox:%s", when,
                           recorder, norm, k->request);
        if (!line)
                return -ENOMEM;
        *ret = line;
        return 0;
}
