/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>

#include "sshkey.h"
#include "util.h"

#define LB_SSHKEY_MAX_B64 16384
#define LB_AUTHINFO_MAX (64 * 1024)

static const char *const key_types[] = {
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "ssh-rsa",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
};

static int known_type(const char *t, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
                if (strlen(key_types[i]) == n && strneq(key_types[i], t, n))
                        return 1;
        return 0;
}

int lb_sshkey_normalize(const char *line, char **ret) {
        const char *p = line, *type, *b64;
        size_t tl, bl, bloblen;
        _cleanup_free_ unsigned char *blob = NULL;
        uint32_t inner;
        int r;

        if (!line)
                return -EINVAL;
        while (*p == ' ' || *p == '\t')
                p++;
        type = p;
        tl = strcspn(p, " \t");
        if (!known_type(type, tl))
                return -EINVAL;
        p += tl;
        if (*p != ' ' && *p != '\t')
                return -EINVAL;
        while (*p == ' ' || *p == '\t')
                p++;
        b64 = p;
        bl = strcspn(p, " \t\r\n");
        if (bl == 0 || bl > LB_SSHKEY_MAX_B64)
                return -EINVAL;
        /* anything after is a comment; control characters are not allowed anywhere */
        for (const char *q = line; *q; q++)
                if ((unsigned char) *q < 0x20 && *q != ' ' && *q != '\t')
                        return -EINVAL;
        r = lb_base64_decode(b64, bl, &blob, &bloblen);
        if (r < 0)
                return r;
        if (bloblen < 4)
                return -EINVAL;
        memcpy(&inner, blob, 4);
        inner = ntohl(inner);
        if (inner != tl || bloblen < 4 + (size_t) inner || memcmp(blob + 4, type, tl) != 0)
                return -EINVAL;
        *ret = lb_asprintf("%.*s %.*s", (int) tl, type, (int) bl, b64);
        return *ret ? 0 : -ENOMEM;
}

int lb_sshkey_fingerprint(const char *key, char **ret) {
        _cleanup_free_ char *norm = NULL, *b64 = NULL;
        _cleanup_free_ unsigned char *blob = NULL;
        unsigned char d[LB_SHA256_LEN];
        size_t bloblen;
        const char *sp;
        int r;

        r = lb_sshkey_normalize(key, &norm);
        if (r < 0)
                return r;
        sp = strchr(norm, ' ');
        r = lb_base64_decode(sp + 1, strlen(sp + 1), &blob, &bloblen);
        if (r < 0)
                return r;
        lb_sha256(blob, bloblen, d);
        b64 = lb_base64_encode(d, sizeof(d), false);
        if (!b64)
                return -ENOMEM;
        *ret = lb_strjoin("SHA256:", b64);
        return *ret ? 0 : -ENOMEM;
}

int lb_authinfo_parse(const char *info, char **ret_key) {
        _cleanup_free_ char *found = NULL;
        const char *p = info;

        if (!info)
                return -ENOENT;
        if (strlen(info) > LB_AUTHINFO_MAX)
                return -E2BIG;
        while (*p) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, n);

                if (!line)
                        return -ENOMEM;
                if (strneq(line, "publickey ", 10)) {
                        char *k = NULL;
                        int r = lb_sshkey_normalize(line + 10, &k);
                        if (r < 0)
                                return -EBADMSG;
                        free(found);
                        found = k;
                }
                p += n;
                if (*p == '\n')
                        p++;
        }
        if (!found)
                return -ENOENT;
        *ret_key = TAKE_PTR(found);
        return 0;
}
