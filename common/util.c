/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "util.h"

int lb_parse_u64(const char *s, uint64_t max, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE || v > max)
                return -ERANGE;
        if (errno != 0 || !end || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int lb_parse_int(const char *s, int min, int max, int *ret) {
        char *end = NULL;
        long v;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        if (errno != 0 || !end || *end != '\0')
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int lb_parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

int lb_parse_duration(const char *s, uint64_t *ret_seconds) {
        uint64_t total = 0;
        const char *p = s;

        if (isempty(s) || strlen(s) > 64)
                return -EINVAL;
        while (*p) {
                uint64_t n = 0, mult;
                const char *start = p;

                while (isdigit((unsigned char) *p)) {
                        if (n > UINT64_MAX / 10 - 10)
                                return -ERANGE;
                        n = n * 10 + (uint64_t) (*p - '0');
                        p++;
                }
                if (p == start)
                        return -EINVAL;
                switch (*p) {
                case 'd': mult = 86400; p++; break;
                case 'h': mult = 3600; p++; break;
                case 'm': mult = 60; p++; break;
                case 's': mult = 1; p++; break;
                case '\0':
                        if (start != s) /* "1h30" is ambiguous */
                                return -EINVAL;
                        mult = 1;
                        break;
                default: return -EINVAL;
                }
                if (n > (UINT64_MAX - total) / mult)
                        return -ERANGE;
                total += n * mult;
        }
        *ret_seconds = total;
        return 0;
}

const char *lb_format_duration(uint64_t seconds, char *buf, size_t size) {
        static const struct { uint64_t s; char c; } units[] = {
                { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
        };
        size_t off = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (seconds == 0) {
                snprintf(buf, size, "0s");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units) && off < size; i++) {
                if (seconds < units[i].s)
                        continue;
                int k = snprintf(buf + off, size - off, "%llu%c",
                                 (unsigned long long) (seconds / units[i].s), units[i].c);
                if (k < 0)
                        break;
                off += (size_t) k;
                seconds %= units[i].s;
        }
        return buf;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *p, size_t avail) {
        uint32_t cp;
        size_t n;

        if (p[0] < 0x80)
                return 1;
        if ((p[0] & 0xE0) == 0xC0) {
                n = 2;
                cp = p[0] & 0x1F;
        } else if ((p[0] & 0xF0) == 0xE0) {
                n = 3;
                cp = p[0] & 0x0F;
        } else if ((p[0] & 0xF8) == 0xF0) {
                n = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        if (n > avail)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return n;
}

bool lb_utf8_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;

        for (size_t i = 0; i < len;) {
                size_t n = utf8_seq_len(p + i, len - i);
                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

char *lb_term_safe(const char *s) {
        const unsigned char *p = (const unsigned char *) (s ? s : "");
        size_t len = strlen((const char *) p), o = 0;
        char *out = malloc(len * 4 + 1);

        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_seq_len(p + i, len - i);
                bool c1 = n == 2 && p[i] == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F;

                if (n == 0 || c1 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7F))) {
                        /* one byte escaped; for C1 escape both bytes */
                        size_t k = c1 ? 2 : 1;
                        for (size_t j = 0; j < k; j++)
                                o += (size_t) sprintf(out + o, "\\x%02x", p[i + j]);
                        i += k;
                        continue;
                }
                memcpy(out + o, p + i, n);
                o += n;
                i += n;
        }
        out[o] = '\0';
        return out;
}

bool lb_name_valid(const char *s, size_t max) {
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (!(isalnum(c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-'))
                        return false;
        }
        return true;
}

char *lb_strjoin(const char *a, const char *b) {
        size_t la = strlen(a), lbn = strlen(b);
        char *r = malloc(la + lbn + 1);

        if (!r)
                return NULL;
        memcpy(r, a, la);
        memcpy(r + la, b, lbn + 1);
        return r;
}

char *lb_asprintf(const char *fmt, ...) {
        va_list ap;
        char *r = NULL;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&r, fmt, ap);
        va_end(ap);
        return k < 0 ? NULL : r;
}

char **lb_strv_split(const char *s, const char *sep) {
        size_t n = 0, cap = 4;
        char **v = calloc(cap + 1, sizeof(char *));
        const char *p = s ? s : "";

        if (!v)
                return NULL;
        while (*p) {
                size_t k;

                p += strspn(p, sep);
                if (!*p)
                        break;
                k = strcspn(p, sep);
                if (n == cap) {
                        char **nv = reallocarray(v, cap * 2 + 1, sizeof(char *));
                        if (!nv)
                                goto oom;
                        v = nv;
                        cap *= 2;
                }
                v[n] = strndup(p, k);
                if (!v[n])
                        goto oom;
                v[++n] = NULL;
                p += k;
        }
        return v;
oom:
        lb_strv_free(v);
        return NULL;
}

void lb_strv_free(char **v) {
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

bool lb_strv_contains(char *const *v, const char *s) {
        for (; v && *v; v++)
                if (streq(*v, s))
                        return true;
        return false;
}

size_t lb_strv_length(char *const *v) {
        size_t n = 0;
        for (; v && *v; v++)
                n++;
        return n;
}

char *lb_hexencode(const void *p, size_t n) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *b = p;
        char *r = malloc(n * 2 + 1);

        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                r[2 * i] = hex[b[i] >> 4];
                r[2 * i + 1] = hex[b[i] & 15];
        }
        r[2 * n] = '\0';
        return r;
}

static int b64_val(unsigned char c) {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
}

int lb_base64_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len) {
        _cleanup_free_ unsigned char *out = NULL;
        size_t o = 0, pad = 0;
        uint32_t acc = 0;
        int bits = 0;

        while (len > 0 && s[len - 1] == '=' && pad < 2) {
                len--;
                pad++;
        }
        if ((len + pad) % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
                return -EINVAL;
        out = malloc(len / 4 * 3 + 3);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                int v = b64_val((unsigned char) s[i]);
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (unsigned char) (acc >> bits);
                }
        }
        /* leftover bits must be zero for a canonical encoding */
        if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
                return -EINVAL;
        *ret = TAKE_PTR(out);
        *ret_len = o;
        return 0;
}

char *lb_base64_encode(const void *p, size_t n, bool pad) {
        static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *b = p;
        char *r = malloc((n + 2) / 3 * 4 + 1);
        size_t o = 0, i = 0;

        if (!r)
                return NULL;
        for (; i + 2 < n; i += 3) {
                uint32_t v = ((uint32_t) b[i] << 16) | ((uint32_t) b[i + 1] << 8) | b[i + 2];
                r[o++] = tbl[v >> 18];
                r[o++] = tbl[(v >> 12) & 63];
                r[o++] = tbl[(v >> 6) & 63];
                r[o++] = tbl[v & 63];
        }
        if (i < n) {
                uint32_t v = (uint32_t) b[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t) b[i + 1] << 8;
                r[o++] = tbl[v >> 18];
                r[o++] = tbl[(v >> 12) & 63];
                if (i + 1 < n)
                        r[o++] = tbl[(v >> 6) & 63];
                else if (pad)
                        r[o++] = '=';
                if (pad)
                        r[o++] = '=';
        }
        r[o] = '\0';
        return r;
}

void lb_sha256(const void *p, size_t n, unsigned char out[LB_SHA256_LEN]) {
        SHA256(p, n, out);
}

char *lb_sha256_hex(const void *p, size_t n) {
        unsigned char d[LB_SHA256_LEN];

        lb_sha256(p, n, d);
        return lb_hexencode(d, sizeof(d));
}

int lb_random_bytes(void *p, size_t n) {
        unsigned char *b = p;

        while (n > 0) {
                ssize_t k = getrandom(b, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                b += k;
                n -= (size_t) k;
        }
        return 0;
}

int lb_random_id(const char *prefix, size_t nbytes, char **ret) {
        unsigned char buf[64];
        _cleanup_free_ char *hex = NULL;
        int r;

        if (nbytes == 0 || nbytes > sizeof(buf))
                return -EINVAL;
        r = lb_random_bytes(buf, nbytes);
        if (r < 0)
                return r;
        hex = lb_hexencode(buf, nbytes);
        if (!hex)
                return -ENOMEM;
        *ret = lb_strjoin(prefix ? prefix : "", hex);
        return *ret ? 0 : -ENOMEM;
}

int lb_user_in_group(const char *user, const char *group) {
        struct passwd pwbuf, *pw = NULL;
        struct group grbuf, *gr = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ gid_t *groups = NULL;
        size_t bufsize = 16384;
        int ngroups = 64, r;

        if (isempty(user) || isempty(group))
                return -EINVAL;
        buf = malloc(bufsize);
        if (!buf)
                return -ENOMEM;
        r = getgrnam_r(group, &grbuf, buf, bufsize, &gr);
        if (r != 0)
                return -r;
        if (!gr)
                return 0; /* no such group: nobody is in it */
        for (char **m = gr->gr_mem; m && *m; m++)
                if (streq(*m, user))
                        return 1;
        gid_t gid = gr->gr_gid;
        r = getpwnam_r(user, &pwbuf, buf, bufsize, &pw);
        if (r != 0)
                return -r;
        if (!pw)
                return 0;
        if (pw->pw_gid == gid)
                return 1;
        for (int tries = 0; tries < 4; tries++) {
                int n = ngroups;
                free(groups);
                groups = calloc((size_t) n, sizeof(gid_t));
                if (!groups)
                        return -ENOMEM;
                if (getgrouplist(user, pw->pw_gid, groups, &n) >= 0) {
                        for (int i = 0; i < n; i++)
                                if (groups[i] == gid)
                                        return 1;
                        return 0;
                }
                ngroups = n > ngroups ? n : ngroups * 2;
        }
        return -E2BIG;
}

int lb_read_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 4096;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;
                if (len == cap) {
                        if (cap >= max)
                                return -EFBIG;
                        size_t ncap = MIN(cap * 2, max);
                        char *nb = realloc(buf, ncap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int lb_write_all(int fd, const void *p, size_t n) {
        const char *b = p;

        while (n > 0) {
                ssize_t k = write(fd, b, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                b += k;
                n -= (size_t) k;
        }
        return 0;
}

int lb_service_groups(const char *user, gid_t gid, gid_t **ret, size_t *ret_n,
                      bool *ret_journal_added) {
        struct group *jg = getgrnam("systemd-journal");
        _cleanup_free_ gid_t *v = NULL;
        bool added = false;
        int n = 16;

        for (;;) {
                gid_t *nv = reallocarray(v, (size_t) n + 1, sizeof(gid_t));
                int want = n;
                if (!nv)
                        return -ENOMEM;
                v = nv;
                if (getgrouplist(user, gid, v, &want) >= 0) {
                        n = want;
                        break;
                }
                if (want <= n || want > 65536)
                        return -E2BIG;
                n = want;
        }
        if (jg) {
                bool have = false;
                for (int i = 0; i < n; i++)
                        have = have || v[i] == jg->gr_gid;
                if (!have) {
                        v[n++] = jg->gr_gid;
                        added = true;
                }
        }
        if (ret_journal_added)
                *ret_journal_added = added;
        *ret = v;
        *ret_n = (size_t) n;
        v = NULL;
        return 0;
}
