/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <time.h>

#include "display.h"
#include "timeutil.h"
#include "util.h"

/* Decode one UTF-8 character at p (len bytes left). Returns its length and
 * sets *cp, or 1 with *cp = -1 for a byte that does not start a valid one. */
static size_t utf8_next(const unsigned char *p, size_t len, int32_t *cp) {
        size_t n;
        int32_t c;

        if (p[0] < 0x80) {
                *cp = p[0];
                return 1;
        }
        if (p[0] >= 0xC2 && p[0] <= 0xDF) {
                n = 2;
                c = p[0] & 0x1F;
        } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
                n = 3;
                c = p[0] & 0x0F;
        } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
                n = 4;
                c = p[0] & 0x07;
        } else {
                *cp = -1;
                return 1;
        }
        if (n > len) {
                *cp = -1;
                return 1;
        }
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xC0) != 0x80) {
                        *cp = -1;
                        return 1;
                }
                c = (c << 6) | (p[i] & 0x3F);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
            (c >= 0xD800 && c <= 0xDFFF)) {
                *cp = -1;
                return 1;
        }
        *cp = c;
        return n;
}

/* Characters that print nothing but change how the text around them reads. */
static bool invisible(int32_t c) {
        return (c >= 0x200B && c <= 0x200F) || /* zero width space/joiners, LRM, RLM */
               (c >= 0x2028 && c <= 0x202E) || /* line/paragraph separators, bidi embeddings */
               (c >= 0x2060 && c <= 0x206F) || /* word joiner, bidi isolates, deprecated formats */
               c == 0xFEFF || c == 0x061C ||   /* BOM, Arabic letter mark */
               (c >= 0xFFF9 && c <= 0xFFFB);   /* interlinear annotation */
}

char *lb_ctl_safe(const char *s) {
        _cleanup_free_ char *t = lb_term_safe(s);
        size_t len, o = 0;
        char *out;

        if (!t)
                return NULL;
        len = strlen(t);
        out = malloc(len * 3 + 1); /* 3 bytes become at most "\u{NNNN}" (8) */
        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                int32_t c;
                size_t n = utf8_next((const unsigned char *) t + i, len - i, &c);

                if (c >= 0 && invisible(c))
                        o += (size_t) sprintf(out + o, "\\u{%04" PRIX32 "}", (uint32_t) c);
                else {
                        memcpy(out + o, t + i, n);
                        o += n;
                }
                i += n;
        }
        out[o] = '\0';
        return out;
}

char *lb_ctl_json_safe(const char *json) {
        size_t len = strlen(json), o = 0;
        char *out = malloc(len * 6 + 1); /* 1 byte (DEL) becomes 6 */

        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                int32_t c;
                size_t n = utf8_next((const unsigned char *) json + i, len - i, &c);

                if (c == 0x7F || (c >= 0x80 && c <= 0x9F) || (c >= 0 && invisible(c)))
                        o += (size_t) sprintf(out + o, "\\u%04" PRIX32, (uint32_t) c);
                else {
                        memcpy(out + o, json + i, n);
                        o += n;
                }
                i += n;
        }
        out[o] = '\0';
        return out;
}

static size_t char_width(int32_t c) {
        if (c < 0)
                return 1;
        if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
            (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
            (c >= 0xFE20 && c <= 0xFE2F) || (c >= 0xFE00 && c <= 0xFE0F) || invisible(c))
                return 0;
        if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
            (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
            (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
            (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
            (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
            (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
            (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
                return 2;
        return 1;
}

size_t lb_ctl_width(const char *s) {
        size_t len = strlen(s), w = 0;

        for (size_t i = 0; i < len;) {
                int32_t c;
                i += utf8_next((const unsigned char *) s + i, len - i, &c);
                w += char_width(c);
        }
        return w;
}

char *lb_ctl_truncate(const char *s, size_t width) {
        size_t len = strlen(s), w = 0, i = 0;
        char *out;

        if (lb_ctl_width(s) <= width || width == 0)
                return strdup(width == 0 ? "" : s);
        /* keep whole characters up to width - 1 columns, then "…" */
        while (i < len) {
                int32_t c;
                size_t n = utf8_next((const unsigned char *) s + i, len - i, &c);
                size_t cw = char_width(c);

                if (w + cw > width - 1)
                        break;
                w += cw;
                i += n;
        }
        out = malloc(i + sizeof("…"));
        if (!out)
                return NULL;
        memcpy(out, s, i);
        memcpy(out + i, "…", sizeof("…"));
        return out;
}

const char *lb_ctl_time(int64_t t, bool with_seconds, char *buf, size_t size) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) ||
            strftime(buf, size, with_seconds ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M UTC", &tm) == 0)
                snprintf(buf, size, "@%" PRId64, t);
        return buf;
}

const char *lb_ctl_span(uint64_t s, char *buf, size_t size) {
        static const struct {
                uint64_t len;
                char unit;
        } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                uint64_t a = s / units[i].len, rest;

                if (a == 0)
                        continue;
                rest = i + 1 < ELEMENTSOF(units) ? (s % units[i].len) / units[i + 1].len : 0;
                if (rest > 0)
                        snprintf(buf, size, "%" PRIu64 "%c%" PRIu64 "%c", a, units[i].unit, rest,
                                 units[i + 1].unit);
                else
                        snprintf(buf, size, "%" PRIu64 "%c", a, units[i].unit);
                return buf;
        }
        snprintf(buf, size, "0s");
        return buf;
}

const char *lb_ctl_relative(int64_t t, int64_t now, char *buf, size_t size) {
        char span[32];

        if (t == now)
                snprintf(buf, size, "now");
        else if (t > now)
                snprintf(buf, size, "in %s", lb_ctl_span((uint64_t) (t - now), span, sizeof(span)));
        else
                snprintf(buf, size, "%s ago", lb_ctl_span((uint64_t) (now - t), span, sizeof(span)));
        return buf;
}

const char *lb_ctl_time_rel(int64_t t, int64_t now, char *buf, size_t size) {
        char a[LB_CTL_TIME_LEN], b[48];

        snprintf(buf, size, "%s (%s)", lb_ctl_time(t, false, a, sizeof(a)),
                 lb_ctl_relative(t, now, b, sizeof(b)));
        return buf;
}

struct lb_table {
        size_t ncols;
        char **headers;
        size_t *max;
        char **cells; /* nrows * ncols, already safe */
        size_t nrows, alloc;
};

struct lb_table *lb_table_new(size_t ncols, const char *const *headers) {
        struct lb_table *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        t->ncols = ncols;
        t->headers = calloc(ncols, sizeof(char *));
        t->max = calloc(ncols, sizeof(size_t));
        if (!t->headers || !t->max) {
                lb_table_free(t);
                return NULL;
        }
        for (size_t i = 0; i < ncols; i++) {
                t->headers[i] = lb_ctl_safe(headers[i]);
                if (!t->headers[i]) {
                        lb_table_free(t);
                        return NULL;
                }
        }
        return t;
}

void lb_table_free(struct lb_table *t) {
        if (!t)
                return;
        for (size_t i = 0; t->headers && i < t->ncols; i++)
                free(t->headers[i]);
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->headers);
        free(t->max);
        free(t->cells);
        free(t);
}

void lb_table_set_max(struct lb_table *t, size_t col, size_t width) {
        if (col < t->ncols)
                t->max[col] = width;
}

size_t lb_table_rows(const struct lb_table *t) {
        return t->nrows;
}

int lb_table_add(struct lb_table *t, const char *const *cells) {
        if (t->nrows == t->alloc) {
                size_t na = t->alloc ? t->alloc * 2 : 16;
                char **n = reallocarray(t->cells, na * t->ncols, sizeof(char *));
                if (!n)
                        return -ENOMEM;
                t->cells = n;
                t->alloc = na;
        }
        for (size_t i = 0; i < t->ncols; i++) {
                char *s = lb_ctl_safe(cells[i] ? cells[i] : "-");

                if (s && t->max[i] > 0 && lb_ctl_width(s) > t->max[i]) {
                        char *c = lb_ctl_truncate(s, t->max[i]);
                        free(s);
                        s = c;
                }
                if (!s) {
                        for (size_t j = 0; j < i; j++)
                                free(t->cells[t->nrows * t->ncols + j]);
                        return -ENOMEM;
                }
                t->cells[t->nrows * t->ncols + i] = s;
        }
        t->nrows++;
        return 0;
}

static void print_row(FILE *f, char *const *cells, const size_t *widths, size_t ncols) {
        for (size_t i = 0; i < ncols; i++) {
                fputs(cells[i], f);
                if (i + 1 < ncols) {
                        size_t w = lb_ctl_width(cells[i]);
                        for (size_t k = w; k < widths[i] + 2; k++)
                                fputc(' ', f);
                }
        }
        fputc('\n', f);
}

int lb_table_print(const struct lb_table *t, FILE *f) {
        _cleanup_free_ size_t *widths = calloc(t->ncols, sizeof(size_t));

        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < t->ncols; i++) {
                widths[i] = lb_ctl_width(t->headers[i]);
                for (size_t r = 0; r < t->nrows; r++)
                        widths[i] = MAX(widths[i], lb_ctl_width(t->cells[r * t->ncols + i]));
        }
        print_row(f, t->headers, widths, t->ncols);
        for (size_t r = 0; r < t->nrows; r++)
                print_row(f, t->cells + r * t->ncols, widths, t->ncols);
        return ferror(f) ? -EIO : 0;
}
