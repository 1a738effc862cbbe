/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "replay-asciicast.h"
#include "replay-sanitize.h"
#include "timeutil.h"
#include "util.h"

/* Length of a valid UTF-8 sequence at p: >0 valid, 0 invalid, -1 a valid
 * prefix cut by the end of the buffer. */
static int utf8_len(const unsigned char *p, size_t n) {
        size_t len;
        uint32_t cp;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
                len = 2;
                cp = p[0] & 0x1f;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                len = 3;
                cp = p[0] & 0x0f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                len = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if (i >= n) {
                        /* cut short: is what we have a possible prefix? */
                        if (len == 3 && i == 2 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
                                return 0;
                        if (len == 4 && i >= 2 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
                                return 0;
                        return -1;
                }
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return (int) len;
}

int lb_asciicast_string(struct lb_buf *b, const void *data, size_t n, bool carry, size_t *ret_used) {
        const unsigned char *p = data;
        size_t i = 0;
        int r;

        if ((r = lb_buf_put(b, "\"", 1)) < 0)
                return r;
        while (i < n) {
                int l = utf8_len(p + i, n - i);
                char esc[8];

                if (l < 0 && carry)
                        break;
                if (l <= 0) {
                        snprintf(esc, sizeof(esc), "\\udc%02x", p[i]);
                        r = lb_buf_puts(b, esc);
                        l = 1;
                } else if (l == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
                        snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
                        r = lb_buf_puts(b, esc);
                } else if (l == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f) {
                        /* C1 controls (U+0080..U+009F): JSON allows them raw,
                         * but a .cast file printed on a terminal that acts
                         * on UTF-8 C1 (CSI is U+009B) would run them */
                        snprintf(esc, sizeof(esc), "\\u%04x", p[i + 1]);
                        r = lb_buf_puts(b, esc);
                } else if (l == 1 && (p[i] == '"' || p[i] == '\\')) {
                        esc[0] = '\\';
                        esc[1] = (char) p[i];
                        r = lb_buf_put(b, esc, 2);
                } else
                        r = lb_buf_put(b, p + i, (size_t) l);
                if (r < 0)
                        return r;
                i += (size_t) l;
        }
        if ((r = lb_buf_put(b, "\"", 1)) < 0)
                return r;
        if (ret_used)
                *ret_used = i;
        return 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int lb_asciicast_unescape(const char *s, size_t len, struct lb_buf *out) {
        for (size_t i = 0; i < len;) {
                unsigned cp = 0;
                unsigned char u[4];
                size_t ul;
                int r;

                if (s[i] != '\\') {
                        if ((r = lb_buf_put(out, s + i, 1)) < 0)
                                return r;
                        i++;
                        continue;
                }
                if (i + 1 >= len)
                        return -EBADMSG;
                switch (s[i + 1]) {
                case '"': case '\\': case '/':
                        r = lb_buf_put(out, s + i + 1, 1);
                        i += 2;
                        if (r < 0)
                                return r;
                        continue;
                case 'n': u[0] = '\n'; break;
                case 't': u[0] = '\t'; break;
                case 'r': u[0] = '\r'; break;
                case 'b': u[0] = '\b'; break;
                case 'f': u[0] = '\f'; break;
                case 'u':
                        if (i + 6 > len)
                                return -EBADMSG;
                        for (size_t k = 2; k < 6; k++) {
                                int h = hexval(s[i + k]);
                                if (h < 0)
                                        return -EBADMSG;
                                cp = cp * 16 + (unsigned) h;
                        }
                        break;
                default:
                        return -EBADMSG;
                }
                if (s[i + 1] != 'u') {
                        i += 2;
                        if ((r = lb_buf_put(out, u, 1)) < 0)
                                return r;
                        continue;
                }
                i += 6;
                if (cp >= 0xdc80 && cp <= 0xdcff) {
                        u[0] = (unsigned char) (cp - 0xdc00);
                        ul = 1;
                } else if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= len && s[i] == '\\' && s[i + 1] == 'u') {
                        unsigned lo = 0;
                        for (size_t k = 2; k < 6; k++) {
                                int h = hexval(s[i + k]);
                                if (h < 0)
                                        return -EBADMSG;
                                lo = lo * 16 + (unsigned) h;
                        }
                        if (lo < 0xdc00 || lo > 0xdfff)
                                return -EBADMSG;
                        i += 6;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        u[0] = (unsigned char) (0xf0 | (cp >> 18));
                        u[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
                        u[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
                        u[3] = (unsigned char) (0x80 | (cp & 0x3f));
                        ul = 4;
                } else if (cp < 0x80) {
                        u[0] = (unsigned char) cp;
                        ul = 1;
                } else if (cp < 0x800) {
                        u[0] = (unsigned char) (0xc0 | (cp >> 6));
                        u[1] = (unsigned char) (0x80 | (cp & 0x3f));
                        ul = 2;
                } else {
                        u[0] = (unsigned char) (0xe0 | (cp >> 12));
                        u[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
                        u[2] = (unsigned char) (0x80 | (cp & 0x3f));
                        ul = 3;
                }
                if ((r = lb_buf_put(out, u, ul)) < 0)
                        return r;
        }
        return 0;
}

static int write_event(FILE *f, uint64_t t, const char *type, struct lb_buf *pending, bool carry,
                       size_t *ret_used) {
        struct lb_buf line = {};
        char head[64];
        int r;

        snprintf(head, sizeof(head), "[%" PRIu64 ".%03u, \"%s\", ", t / 1000, (unsigned) (t % 1000), type);
        r = lb_buf_puts(&line, head);
        if (r >= 0)
                r = lb_asciicast_string(&line, pending->p, pending->n, carry, ret_used);
        if (r >= 0)
                r = lb_buf_puts(&line, "]\n");
        if (r >= 0 && fwrite(line.p, 1, line.n, f) != line.n)
                r = -EIO;
        lb_buf_done(&line);
        return r;
}

/* Writes the buffered bytes of one stream as an event, keeping a cut UTF-8
 * character for the next one. */
static int flush_stream(FILE *f, uint64_t t, const char *type, struct lb_buf *pend, bool carry) {
        size_t used = 0;
        int r;

        if (pend->n == 0)
                return 0;
        r = write_event(f, t, type, pend, carry, &used);
        if (r < 0)
                return r;
        memmove(pend->p, pend->p + used, pend->n - used);
        pend->n -= used;
        return 0;
}

int lb_asciicast_export(struct lb_recording *r, bool sanitize, bool reveal_hidden, FILE *f) {
        struct lb_buf out = {}, in = {};
        json_auto_t *header = NULL, *env = NULL;
        _cleanup_free_ char *hdr = NULL, *title = NULL;
        const struct lb_rec *start;
        struct lb_sanitizer san;
        int64_t ts = 0;
        int k = 0;

        lb_sanitize_init(&san);

        lb_recording_sort(r);
        start = r->n > 0 && streq(r->recs[0].kind, "start") ? &r->recs[0] : NULL;
        if (start) {
                const char *tm = lb_json_str(start->obj, "time");
                if (tm)
                        (void) lb_time_parse(tm, &ts);
                title = lb_asprintf("lockbox %s: %s (%s@%s) for %s",
                                    strna(lb_json_str(start->obj, "session")),
                                    strna(lb_json_str(start->obj, "operator")),
                                    strna(lb_json_str(start->obj, "user")),
                                    strna(lb_json_str(start->obj, "host")),
                                    strna(lb_json_str(start->obj, "request")));
        }
        env = json_pack("{s:s?}", "TERM", start ? lb_json_str(start->obj, "term") : NULL);
        header = json_pack("{s:i, s:I, s:I, s:I, s:O, s:s?}", "version", 2, "width",
                           start ? json_integer_value(json_object_get(start->obj, "cols")) : 80,
                           "height",
                           start ? json_integer_value(json_object_get(start->obj, "rows")) : 24,
                           "timestamp", (json_int_t) ts, "env", env, "title", title);
        if (!header)
                return -ENOMEM;
        if (json_integer_value(json_object_get(header, "width")) <= 0)
                json_object_set_new(header, "width", json_integer(80));
        if (json_integer_value(json_object_get(header, "height")) <= 0)
                json_object_set_new(header, "height", json_integer(24));
        hdr = json_dumps(header, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!hdr)
                return -ENOMEM;
        if (fprintf(f, "%s\n", hdr) < 0)
                return -EIO;

        for (size_t i = 0; i < r->n && k >= 0; i++) {
                const struct lb_rec *rec = &r->recs[i];
                _cleanup_free_ unsigned char *data = NULL;
                size_t len = 0;
                const char *stream;

                if (streq(rec->kind, "resize")) {
                        char sz[64];
                        struct lb_buf tmp = {};
                        snprintf(sz, sizeof(sz), "%" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT,
                                 json_integer_value(json_object_get(rec->obj, "cols")),
                                 json_integer_value(json_object_get(rec->obj, "rows")));
                        k = lb_buf_puts(&tmp, sz);
                        if (k >= 0)
                                k = write_event(f, rec->t, "r", &tmp, false, NULL);
                        lb_buf_done(&tmp);
                        continue;
                }
                if (!streq(rec->kind, "out") && !streq(rec->kind, "in"))
                        continue;
                if (!reveal_hidden && lb_rec_hidden_input(rec))
                        continue; /* typed with echo off: shown only when asked */
                if (lb_rec_data(rec, &data, &len) < 0)
                        continue; /* masked input has no data */
                stream = lb_json_str(rec->obj, "stream");
                if (streq(rec->kind, "out")) {
                        /* stdout and stderr of a command both show as output */
                        if (sanitize) {
                                _cleanup_free_ unsigned char *clean = malloc(len + LB_SANITIZE_SLACK);
                                if (!clean) {
                                        k = -ENOMEM;
                                        break;
                                }
                                len = lb_sanitize(&san, data, len, clean);
                                free(data);
                                data = TAKE_PTR(clean);
                        }
                        k = lb_buf_put(&out, data, len);
                        if (k >= 0)
                                k = flush_stream(f, rec->t, "o", &out, true);
                } else if (!stream || streq(stream, "tty") || streq(stream, "stdin")) {
                        k = lb_buf_put(&in, data, len);
                        if (k >= 0)
                                k = flush_stream(f, rec->t, "i", &in, true);
                }
        }
        if (k >= 0 && sanitize) {
                unsigned char tail[LB_SANITIZE_SLACK];
                k = lb_buf_put(&out, tail, lb_sanitize_finish(&san, tail));
        }
        if (k >= 0)
                k = flush_stream(f, r->n ? r->recs[r->n - 1].t : 0, "o", &out, false);
        if (k >= 0)
                k = flush_stream(f, r->n ? r->recs[r->n - 1].t : 0, "i", &in, false);
        lb_buf_done(&out);
        lb_buf_done(&in);
        if (k >= 0 && fflush(f) != 0)
                k = -EIO;
        return k;
}
