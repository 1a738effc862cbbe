/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <openssl/evp.h>

#include "chain.h"
#include "util.h"

char *lb_chain_canonical(json_t *obj, const char *const *omit) {
        json_auto_t *copy = NULL;

        if (!json_is_object(obj))
                return NULL;
        copy = json_copy(obj); /* shallow: members are shared, only the object is new */
        if (!copy)
                return NULL;
        for (const char *const *o = omit; o && *o; o++)
                json_object_del(copy, *o);
        return json_dumps(copy, LB_CANON_FLAGS);
}

int lb_chain_hex_valid(const char *s) {
        if (!s || strlen(s) != LB_CHAIN_HEX_LEN)
                return 0;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return 0;
        return 1;
}

int lb_chain_hash(const char *prev, json_t *obj, const char *const *omit,
                  char out[LB_CHAIN_HEX_LEN + 1]) {
        _cleanup_free_ char *canon = NULL, *hex = NULL;
        unsigned char d[LB_SHA256_LEN];
        EVP_MD_CTX *ctx;
        int ok;

        if (!lb_chain_hex_valid(prev))
                return -EINVAL;
        canon = lb_chain_canonical(obj, omit);
        if (!canon)
                return -ENOMEM;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, prev, LB_CHAIN_HEX_LEN) && EVP_DigestUpdate(ctx, "\n", 1) &&
             EVP_DigestUpdate(ctx, canon, strlen(canon)) && EVP_DigestFinal_ex(ctx, d, NULL);
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return -EIO;
        hex = lb_hexencode(d, sizeof(d));
        if (!hex)
                return -ENOMEM;
        memcpy(out, hex, LB_CHAIN_HEX_LEN + 1);
        return 0;
}
