/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include <openssl/evp.h>

#include "record.h"
#include "util.h"

void lb_buf_done(struct lb_buf *b) {
        free(b->p);
        *b = (struct lb_buf) {};
}

int lb_buf_reserve(struct lb_buf *b, size_t more) {
        size_t want;
        char *p;

        if (b->len + more < b->len)
                return -ENOMEM;
        want = b->len + more;
        if (want <= b->cap)
                return 0;
        want = MAX(want, b->cap * 2);
        want = MAX(want, (size_t) 4096);
        p = realloc(b->p, want);
        if (!p)
                return -ENOMEM;
        b->p = p;
        b->cap = want;
        return 0;
}

int lb_buf_append(struct lb_buf *b, const void *p, size_t n) {
        int r;
        if (n == 0) /* an empty buffer has no pointer to add 0 to */
                return 0;
        r = lb_buf_reserve(b, n);
        if (r < 0)
                return r;
        memcpy(b->p + b->len, p, n);
        b->len += n;
        return 0;
}

void lb_rec_chain_init(struct lb_rec_chain *c) {
        c->seq = 0;
        memcpy(c->prev, LB_CHAIN_ZERO, sizeof(c->prev));
}

int lb_rec_finish(struct lb_rec_chain *c, json_t *obj, struct lb_buf *out) {
        static const char *const omit[] = { "hash", NULL };
        char hash[LB_CHAIN_HEX_LEN + 1];
        _cleanup_free_ char *line = NULL;
        size_t n;
        int r;

        if (json_object_set_new(obj, "seq", json_integer((json_int_t) (c->seq + 1))) < 0)
                return -ENOMEM;
        json_object_del(obj, "hash");
        r = lb_chain_hash(c->prev, obj, omit, hash);
        if (r < 0)
                return r;
        if (json_object_set_new(obj, "hash", json_string(hash)) < 0)
                return -ENOMEM;
        line = json_dumps(obj, LB_CANON_FLAGS);
        if (!line)
                return -ENOMEM;
        n = strlen(line);
        r = lb_buf_reserve(out, n + 1);
        if (r < 0)
                return r;
        memcpy(out->p + out->len, line, n);
        out->p[out->len + n] = '\n';
        out->len += n + 1;
        c->seq++;
        memcpy(c->prev, hash, sizeof(hash));
        return 0;
}

static size_t b64_encode(char *dst, const unsigned char *src, size_t n) {
        /* EVP_EncodeBlock: standard alphabet, padded, NUL-terminated */
        size_t o = 0;
        while (n > 0) {
                size_t chunk = MIN(n, (size_t) 3 * 1024 * 1024); /* int-sized pieces, multiple of 3 */
                o += (size_t) EVP_EncodeBlock((unsigned char *) dst + o, src, (int) chunk);
                src += chunk;
                n -= chunk;
        }
        return o;
}

int lb_rec_io(struct lb_rec_chain *c, const char *kind, const char *stream, uint64_t t,
              const void *data, size_t len, bool masked, struct lb_buf *out) {
        unsigned char d[LB_SHA256_LEN];
        char tail[160];
        size_t start = out->len, head_len, hash_at, b64len;
        EVP_MD_CTX *ctx;
        int r, ok, tn;

        if (masked) {
                json_auto_t *o = json_pack("{s:I, s:s, s:I, s:b, s:s}", "t", (json_int_t) t,
                                           "kind", kind, "len", (json_int_t) len, "masked", 1,
                                           "stream", stream);
                return o ? lb_rec_finish(c, o, out) : -ENOMEM;
        }

        /* Sorted keys: data, hash, kind, len, seq, stream, t. The canonical
         * form is the same line without ",\"hash\":\"...\"". */
        tn = snprintf(tail, sizeof(tail), ",\"kind\":\"%s\",\"len\":%zu,\"seq\":%" PRIu64
                      ",\"stream\":\"%s\",\"t\":%" PRIu64 "}",
                      kind, len, c->seq + 1, stream, t);
        if (tn < 0 || (size_t) tn >= sizeof(tail))
                return -EINVAL;
        b64len = (len + 2) / 3 * 4;
        r = lb_buf_reserve(out, 9 + b64len + 1 + 9 + LB_CHAIN_HEX_LEN + 1 + (size_t) tn + 2);
        if (r < 0)
                return r;
        memcpy(out->p + out->len, "{\"data\":\"", 9);
        out->len += 9;
        out->len += b64_encode(out->p + out->len, data, len);
        out->p[out->len++] = '"';
        head_len = out->len - start;
        hash_at = out->len;

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, c->prev, LB_CHAIN_HEX_LEN) && EVP_DigestUpdate(ctx, "\n", 1) &&
             EVP_DigestUpdate(ctx, out->p + start, head_len) &&
             EVP_DigestUpdate(ctx, tail, (size_t) tn) && EVP_DigestFinal_ex(ctx, d, NULL);
        EVP_MD_CTX_free(ctx);
        if (!ok) {
                out->len = start;
                return -EIO;
        }
        memcpy(out->p + hash_at, ",\"hash\":\"", 9);
        for (size_t i = 0; i < sizeof(d); i++) {
                static const char hx[] = "0123456789abcdef";
                out->p[hash_at + 9 + 2 * i] = hx[d[i] >> 4];
                out->p[hash_at + 9 + 2 * i + 1] = hx[d[i] & 15];
        }
        out->p[hash_at + 9 + LB_CHAIN_HEX_LEN] = '"';
        memcpy(c->prev, out->p + hash_at + 9, LB_CHAIN_HEX_LEN);
        c->prev[LB_CHAIN_HEX_LEN] = 0;
        out->len = hash_at + 9 + LB_CHAIN_HEX_LEN + 1;
        memcpy(out->p + out->len, tail, (size_t) tn);
        out->len += (size_t) tn;
        out->p[out->len++] = '\n';
        c->seq++;
        return 0;
}

static bool shell_plain(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || strchr("@%+=:,./_-", ch)))
                        return false;
        }
        return true;
}

char *lb_rec_argv_text(char *const *argv, const size_t *lens, size_t argc) {
        struct lb_buf b = {};
        int r = 0;

        for (size_t i = 0; i < argc && r >= 0; i++) {
                if (i > 0)
                        r = lb_buf_append(&b, " ", 1);
                if (shell_plain(argv[i], lens[i])) {
                        r = r < 0 ? r : lb_buf_append(&b, argv[i], lens[i]);
                        continue;
                }
                /* 'quoted', with ' as '\'' and bytes that are not printable
                 * UTF-8 (NUL too) as \xNN via lb_term_safe */
                r = r < 0 ? r : lb_buf_append(&b, "'", 1);
                for (size_t j = 0; j < lens[i] && r >= 0;) {
                        size_t k = j;
                        while (k < lens[i] && argv[i][k] != '\'' && argv[i][k] != 0)
                                k++;
                        if (k > j) {
                                _cleanup_free_ char *piece = strndup(argv[i] + j, k - j);
                                _cleanup_free_ char *safe = piece ? lb_term_safe(piece) : NULL;
                                r = safe ? lb_buf_append(&b, safe, strlen(safe)) : -ENOMEM;
                        }
                        if (r >= 0 && k < lens[i])
                                r = lb_buf_append(&b, argv[i][k] == '\'' ? "'\\''" : "\\x00",
                                                  4);
                        j = k + 1;
                }
                r = r < 0 ? r : lb_buf_append(&b, "'", 1);
        }
        if (r >= 0)
                r = lb_buf_append(&b, "", 1);
        if (r < 0) {
                lb_buf_done(&b);
                return NULL;
        }
        return b.p ? b.p : strdup("");
}
