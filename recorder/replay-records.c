/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>

#include "replay-buf.h"
#include "replay-records.h"
#include "timeutil.h"
#include "util.h"

#define REORDER_WINDOW 8

static const char *const omit_hash[] = { "hash", NULL };

const char *lb_json_str(json_t *o, const char *key) {
        json_t *v = json_object_get(o, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static void rec_done(struct lb_rec *rec) {
        json_decref(rec->obj);
        free(rec->line);
        *rec = (struct lb_rec) {};
}

void lb_recording_done(struct lb_recording *r) {
        for (size_t i = 0; i < r->n; i++)
                rec_done(&r->recs[i]);
        free(r->recs);
        free(r->conflicts);
        *r = (struct lb_recording) {};
}

static int rec_parse(const char *line, size_t len, struct lb_rec *ret) {
        json_auto_t *o = NULL;
        json_t *seq, *t;
        const char *kind, *hash;
        char *copy;

        if (len == 0 || len > LB_REPLAY_LINE_MAX)
                return -EBADMSG;
        o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(o))
                return -EBADMSG;
        seq = json_object_get(o, "seq");
        t = json_object_get(o, "t");
        kind = lb_json_str(o, "kind");
        hash = lb_json_str(o, "hash");
        if (!json_is_integer(seq) || json_integer_value(seq) < 1 || !json_is_integer(t) ||
            json_integer_value(t) < 0 || !kind || !hash)
                return -EBADMSG;
        /* a hash that is not a chain hash cannot link anything: the line is
         * not a record (and nothing downstream carries its text) */
        if (!lb_chain_hex_valid(hash))
                return -EBADMSG;
        copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, line, len);
        copy[len] = '\0';
        *ret = (struct lb_rec) {
                .seq = (uint64_t) json_integer_value(seq),
                .t = (uint64_t) json_integer_value(t),
                .kind = kind,
                .hash = hash,
                .obj = TAKE_PTR(o),
                .line = copy,
                .line_len = len,
        };
        return 0;
}

static int cmp_seq(const void *a, const void *b, void *userdata) {
        const struct lb_rec *x = a, *y = b;
        struct lb_recording *r = userdata;

        r->comparisons++;
        if (x->seq != y->seq)
                return x->seq < y->seq ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Index of seq in the sorted part, or -1. */
static ssize_t find_sorted(struct lb_recording *r, uint64_t seq) {
        size_t lo = 0, hi = r->sorted_n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                r->comparisons++;
                if (r->recs[mid].seq == seq)
                        return (ssize_t) mid;
                if (r->recs[mid].seq < seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

/* Conflicts are appended as found; verify sorts them and drops repeats. */
static int add_conflict(struct lb_recording *r, uint64_t seq) {
        if ((r->n_conflicts & (r->n_conflicts - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
                size_t cap = r->n_conflicts ? r->n_conflicts * 2 : 4;
                uint64_t *c = realloc(r->conflicts, cap * sizeof(*c));
                if (!c)
                        return -ENOMEM;
                r->conflicts = c;
        }
        r->conflicts[r->n_conflicts++] = seq;
        return 0;
}

/* A record with the seq of old: dropped, as a duplicate or a conflict. */
static int same_seq(struct lb_recording *r, const struct lb_rec *old, struct lb_rec *rec) {
        bool same = old->line_len == rec->line_len && memcmp(old->line, rec->line, rec->line_len) == 0;
        uint64_t seq = old->seq;

        rec_done(rec);
        if (same) {
                r->duplicates++;
                return 0;
        }
        return add_conflict(r, seq);
}

/* Sorts the records that arrived out of order (by seq, then arrival), drops
 * their duplicates and conflicts, and merges them into the sorted part. */
static int sort_in(struct lb_recording *r) {
        struct lb_rec *tail, *merged;
        size_t nt = r->n - r->sorted_n, u = 0, i = 0, j = 0, k = 0;
        int ret = 0;

        if (nt == 0) {
                r->sorted = true;
                return 0;
        }
        tail = r->recs + r->sorted_n; /* recs is NULL while the recording is empty */
        qsort_r(tail, nt, sizeof(*tail), cmp_seq, r);
        for (size_t t = 0; t < nt; t++) {
                if (u > 0 && tail[u - 1].seq == tail[t].seq) {
                        int k2 = same_seq(r, &tail[u - 1], &tail[t]);
                        if (k2 < 0)
                                ret = k2;
                        continue;
                }
                tail[u++] = tail[t];
        }
        nt = u;
        merged = malloc((r->sorted_n + nt) * sizeof(*merged));
        if (!merged) {
                /* keep going without the merge buffer: sort the lot in place */
                r->n = r->sorted_n + nt;
                qsort_r(r->recs, r->n, sizeof(*r->recs), cmp_seq, r);
                r->sorted_n = r->n;
                r->sorted = true;
                return ret;
        }
        while (i < r->sorted_n && j < nt) {
                r->comparisons++;
                merged[k++] = r->recs[i].seq < tail[j].seq ? r->recs[i++] : tail[j++];
        }
        while (i < r->sorted_n)
                merged[k++] = r->recs[i++];
        while (j < nt)
                merged[k++] = tail[j++];
        memcpy(r->recs, merged, k * sizeof(*merged));
        free(merged);
        r->n = r->sorted_n = k;
        r->sorted = true;
        return ret;
}

void lb_recording_sort(struct lb_recording *r) {
        if (!r->sorted)
                (void) sort_in(r);
}

const struct lb_rec *lb_recording_find(struct lb_recording *r, uint64_t seq) {
        ssize_t i;

        lb_recording_sort(r);
        i = find_sorted(r, seq);
        return i < 0 ? NULL : &r->recs[i];
}

int lb_recording_add_line(struct lb_recording *r, const char *line, size_t len) {
        struct lb_rec rec;
        bool in_order;
        int k;

        k = rec_parse(line, len, &rec);
        if (k == -EBADMSG)
                r->malformed++;
        if (k < 0)
                return k;
        rec.order = r->arrivals++;

        /* Records mostly arrive in order: the last one first, then a binary
         * search of the sorted part; anything else waits for sort_in(). */
        in_order = r->sorted_n == r->n && (r->n == 0 || r->recs[r->n - 1].seq < rec.seq);
        if (!in_order) {
                ssize_t i;
                if (r->sorted_n == r->n && r->recs[r->n - 1].seq == rec.seq)
                        i = (ssize_t) r->n - 1;
                else
                        i = find_sorted(r, rec.seq);
                if (i >= 0)
                        return same_seq(r, &r->recs[i], &rec);
        }
        if (r->n >= LB_REPLAY_RECORDS_MAX) {
                rec_done(&rec);
                return -E2BIG;
        }
        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 64;
                struct lb_rec *p = realloc(r->recs, cap * sizeof(*p));
                if (!p) {
                        rec_done(&rec);
                        return -ENOMEM;
                }
                r->recs = p;
                r->cap = cap;
        }
        r->recs[r->n++] = rec;
        if (in_order)
                r->sorted_n = r->n;
        r->sorted = r->sorted_n == r->n;
        return 1;
}

int lb_recording_add_lines(struct lb_recording *r, const char *p, size_t len) {
        int added = 0;

        while (len > 0) {
                const char *nl = memchr(p, '\n', len);
                size_t l = nl ? (size_t) (nl - p) : len;
                int k;

                if (l > 0) {
                        k = lb_recording_add_line(r, p, l);
                        if (k == -ENOMEM || k == -E2BIG)
                                return k;
                        if (k > 0)
                                added++;
                }
                if (!nl)
                        break;
                p = nl + 1;
                len -= l + 1;
        }
        return added;
}

/* ---- verification ---- */

void lb_verify_done(struct lb_verify *v) {
        free(v->problems);
        *v = (struct lb_verify) {};
}

static int add_problem(struct lb_verify *v, enum lb_problem_kind kind, uint64_t first,
                       uint64_t last, uint64_t other) {
        if ((v->n_problems & (v->n_problems - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
                size_t cap = v->n_problems ? v->n_problems * 2 : 4;
                struct lb_problem *p = realloc(v->problems, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                v->problems = p;
        }
        v->problems[v->n_problems++] = (struct lb_problem) { kind, first, last, other };
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static bool hash_is(const char *prev, json_t *obj, const char *want) {
        char h[LB_CHAIN_HEX_LEN + 1];
        return lb_chain_hash(prev, obj, omit_hash, h) == 0 && streq(h, want);
}

/* The record at index i does not chain onto its predecessor: was it written
 * under another seq (reordered), or chained after another record (its
 * predecessor was moved), or changed? */
static void diagnose(struct lb_recording *r, size_t i, enum lb_problem_kind *kind,
                     uint64_t *other) {
        const struct lb_rec *rec = &r->recs[i];
        size_t lo = i > REORDER_WINDOW ? i - REORDER_WINDOW : 0;
        size_t hi = MIN(r->n, i + REORDER_WINDOW + 1);
        json_auto_t *copy = NULL;

        *kind = LB_PROBLEM_CHANGED;
        *other = 0;

        /* intact, but chained after a record that is now elsewhere */
        for (size_t k = lo; k < hi; k++)
                if (k + 1 != i && k != i && lb_chain_hex_valid(r->recs[k].hash) &&
                    hash_is(r->recs[k].hash, rec->obj, rec->hash)) {
                        *kind = LB_PROBLEM_RELINKED;
                        *other = r->recs[k].seq;
                        return;
                }

        /* written as another seq */
        copy = json_copy(rec->obj);
        if (!copy)
                return;
        for (size_t k = lo; k < hi; k++) {
                uint64_t j = r->recs[k].seq;
                if (j == rec->seq)
                        continue;
                if (json_object_set_new(copy, "seq", json_integer((json_int_t) j)) < 0)
                        return;
                if (j == 1 && hash_is(LB_CHAIN_ZERO, copy, rec->hash))
                        goto found;
                for (size_t m = lo; m < hi; m++)
                        if (m != i && lb_chain_hex_valid(r->recs[m].hash) &&
                            hash_is(r->recs[m].hash, copy, rec->hash))
                                goto found;
                continue;
        found:
                *kind = LB_PROBLEM_REORDERED;
                *other = j;
                return;
        }
}

int lb_recording_verify(struct lb_recording *r, struct lb_verify *ret) {
        struct lb_verify v = { .ok = true };
        const char *prev = LB_CHAIN_ZERO;
        uint64_t expected = 1;
        int k;

        lb_recording_sort(r);
        if (r->n == 0) {
                k = add_problem(&v, LB_PROBLEM_EMPTY, 0, 0, 0);
                if (k < 0)
                        return k;
                v.ok = false;
                *ret = v;
                return 0;
        }
        if (r->malformed > 0 && (k = add_problem(&v, LB_PROBLEM_MALFORMED, r->malformed, 0, 0)) < 0)
                goto fail;
        if (r->n_conflicts > 1)
                qsort(r->conflicts, r->n_conflicts, sizeof(r->conflicts[0]), cmp_u64);
        for (size_t i = 0; i < r->n_conflicts; i++)
                if ((i == 0 || r->conflicts[i] != r->conflicts[i - 1]) &&
                    (k = add_problem(&v, LB_PROBLEM_CONFLICT, r->conflicts[i], 0, 0)) < 0)
                        goto fail;
        if (r->recs[0].seq != 1 || !streq(r->recs[0].kind, "start"))
                if ((k = add_problem(&v, LB_PROBLEM_NO_START, 0, 0, 0)) < 0)
                        goto fail;

        for (size_t i = 0; i < r->n; i++) {
                const struct lb_rec *rec = &r->recs[i];

                if (rec->seq > expected) {
                        if ((k = add_problem(&v, LB_PROBLEM_GAP, expected, rec->seq - 1, 0)) < 0)
                                goto fail;
                        prev = NULL; /* the link across a gap cannot be checked */
                }
                if (!lb_chain_hex_valid(rec->hash)) {
                        if ((k = add_problem(&v, LB_PROBLEM_CHANGED, rec->seq, rec->seq, 0)) < 0)
                                goto fail;
                        prev = NULL;
                } else {
                        if (prev && !hash_is(prev, rec->obj, rec->hash)) {
                                enum lb_problem_kind kind;
                                uint64_t other;
                                diagnose(r, i, &kind, &other);
                                if ((k = add_problem(&v, kind, rec->seq, rec->seq, other)) < 0)
                                        goto fail;
                        }
                        prev = rec->hash;
                }
                expected = rec->seq + 1;
                v.count++;
        }
        v.last_seq = r->recs[r->n - 1].seq;
        snprintf(v.head, sizeof(v.head), "%s", r->recs[r->n - 1].hash);
        if (!streq(r->recs[r->n - 1].kind, "end"))
                if ((k = add_problem(&v, LB_PROBLEM_NO_END, v.last_seq, 0, 0)) < 0)
                        goto fail;
        v.ok = v.n_problems == 0;
        *ret = v;
        return 0;
fail:
        lb_verify_done(&v);
        return k;
}

static const char *problem_name(enum lb_problem_kind k) {
        switch (k) {
        case LB_PROBLEM_GAP: return "gap";
        case LB_PROBLEM_CHANGED: return "changed";
        case LB_PROBLEM_REORDERED: return "reordered";
        case LB_PROBLEM_RELINKED: return "relinked";
        case LB_PROBLEM_CONFLICT: return "conflict";
        case LB_PROBLEM_NO_START: return "no_start";
        case LB_PROBLEM_NO_END: return "no_end";
        case LB_PROBLEM_MALFORMED: return "malformed";
        case LB_PROBLEM_EMPTY: return "empty";
        }
        return "unknown";
}

char *lb_problem_format(const struct lb_problem *p) {
        switch (p->kind) {
        case LB_PROBLEM_GAP:
                if (p->first == p->last)
                        return lb_asprintf("gap: seq %" PRIu64 " missing (1 record)", p->first);
                return lb_asprintf("gap: seq %" PRIu64 "-%" PRIu64 " missing (%" PRIu64 " records)",
                                   p->first, p->last, p->last - p->first + 1);
        case LB_PROBLEM_CHANGED:
                return lb_asprintf("break at seq %" PRIu64
                                   ": hash does not match the record (changed payload)",
                                   p->first);
        case LB_PROBLEM_REORDERED:
                return lb_asprintf("break at seq %" PRIu64 ": record was written as seq %" PRIu64
                                   " (reordered)",
                                   p->first, p->other);
        case LB_PROBLEM_RELINKED:
                return lb_asprintf("break at seq %" PRIu64 ": record follows the record now at seq %" PRIu64
                                   " in the chain (reordered)",
                                   p->first, p->other);
        case LB_PROBLEM_CONFLICT:
                return lb_asprintf("break at seq %" PRIu64
                                   ": two different records carry this seq (changed payload)",
                                   p->first);
        case LB_PROBLEM_NO_START:
                return strdup("missing start record (seq 1)");
        case LB_PROBLEM_NO_END:
                return lb_asprintf("missing end record (last is seq %" PRIu64
                                   "): session still live, or recording cut",
                                   p->first);
        case LB_PROBLEM_MALFORMED:
                return lb_asprintf("%" PRIu64 " malformed line(s) that are not records", p->first);
        case LB_PROBLEM_EMPTY:
                return strdup("no records");
        }
        return strdup("unknown problem");
}

json_t *lb_json_text(const char *s) {
        _cleanup_free_ char *esc = NULL;

        if (!s)
                return json_null();
        if (lb_utf8_valid(s, strlen(s)))
                return json_string(s);
        esc = lb_term_safe(s); /* invalid bytes as \xNN: ASCII, so UTF-8 */
        return esc ? json_string(esc) : NULL;
}

/* Sets key to text made JSON-safe by lb_json_text; a NULL s sets nothing. */
static int set_text(json_t *o, const char *key, const char *s) {
        if (!s)
                return 0;
        return json_object_set_new(o, key, lb_json_text(s)) < 0 ? -ENOMEM : 0;
}

json_t *lb_verify_to_json(const struct lb_verify *v) {
        json_t *o, *a;

        o = json_pack("{s:b, s:I, s:I}", "ok", v->ok, "count", (json_int_t) v->count,
                      "last_seq", (json_int_t) v->last_seq);
        if (!o)
                return NULL;
        if (set_text(o, "head", v->count ? v->head : NULL) < 0) {
                json_decref(o);
                return NULL;
        }
        a = json_array();
        if (!a || json_object_set_new(o, "problems", a) < 0) {
                json_decref(o);
                return NULL;
        }
        for (size_t i = 0; i < v->n_problems; i++) {
                const struct lb_problem *p = &v->problems[i];
                _cleanup_free_ char *text = lb_problem_format(p);
                json_t *e = json_pack("{s:s}", "kind", problem_name(p->kind));
                if (!e || set_text(e, "text", text) < 0) {
                        /* out of memory: no report rather than one short of a problem */
                        json_decref(e);
                        json_decref(o);
                        return NULL;
                }
                if (p->kind == LB_PROBLEM_GAP || p->kind == LB_PROBLEM_CHANGED ||
                    p->kind == LB_PROBLEM_REORDERED || p->kind == LB_PROBLEM_RELINKED ||
                    p->kind == LB_PROBLEM_CONFLICT) {
                        json_object_set_new(e, "first", json_integer((json_int_t) p->first));
                        json_object_set_new(e, "last",
                                            json_integer((json_int_t) (p->last ? p->last : p->first)));
                }
                if (p->other)
                        json_object_set_new(e, "other", json_integer((json_int_t) p->other));
                json_array_append_new(a, e);
        }
        return o;
}

/* ---- summaries ---- */

void lb_session_info_done(struct lb_session_info *i) {
        free(i->session);
        free(i->request);
        free(i->operator_);
        free(i->user);
        free(i->host);
        free(i->start);
        free(i->end);
        free(i->reason);
        free(i->mode);
        free(i->not_after);
        *i = (struct lb_session_info) { .start_s = -1 };
}

static void set_str(char **dst, json_t *o, const char *key) {
        const char *s = lb_json_str(o, key);
        if (!s || *dst)
                return;
        *dst = strdup(s);
}

void lb_session_info_add(struct lb_session_info *i, json_t *rec) {
        const char *kind = lb_json_str(rec, "kind");

        if (!kind)
                return;
        if (streq(kind, "start")) {
                set_str(&i->session, rec, "session");
                set_str(&i->request, rec, "request");
                set_str(&i->operator_, rec, "operator");
                set_str(&i->user, rec, "user");
                set_str(&i->host, rec, "host");
                set_str(&i->start, rec, "time");
                set_str(&i->mode, rec, "mode");
                set_str(&i->not_after, rec, "not_after");
                if (i->start && i->start_s < 0) {
                        int64_t t;
                        if (lb_time_parse(i->start, &t) >= 0)
                                i->start_s = t;
                }
        } else if (streq(kind, "end")) {
                set_str(&i->end, rec, "time");
                set_str(&i->reason, rec, "reason");
                i->ended = true;
        } else if (streq(kind, "cmd"))
                i->commands++;
}

json_t *lb_session_info_to_json(const struct lb_session_info *i) {
        const struct {
                const char *key, *val;
        } f[] = {
                { "session", i->session }, { "request", i->request }, { "operator", i->operator_ },
                { "user", i->user },       { "host", i->host },       { "start", i->start },
                { "end", i->end },         { "reason", i->reason },   { "mode", i->mode },
                { "not_after", i->not_after },
        };
        json_t *o = json_object();

        if (!o)
                return NULL;
        /* text is set through lb_json_text: a field that is not UTF-8 is
         * escaped, it never turns the whole summary into NULL */
        for (size_t k = 0; k < ELEMENTSOF(f); k++)
                if (set_text(o, f[k].key, f[k].val) < 0)
                        goto fail;
        if (json_object_set_new(o, "commands", json_integer((json_int_t) i->commands)) < 0 ||
            json_object_set_new(o, "ended", json_boolean(i->ended)) < 0)
                goto fail;
        return o;
fail:
        json_decref(o);
        return NULL;
}

/* ---- payloads ---- */

bool lb_rec_hidden_input(const struct lb_rec *rec) {
        return streq(rec->kind, "in") && json_is_false(json_object_get(rec->obj, "echo"));
}

json_t *lb_rec_masked_copy(const struct lb_rec *rec) {
        json_t *o = json_copy(rec->obj);

        if (!o)
                return NULL;
        (void) json_object_del(o, "data");
        if (json_object_set_new(o, "masked", json_true()) < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int lb_rec_data(const struct lb_rec *rec, unsigned char **ret, size_t *ret_len) {
        const char *d = lb_json_str(rec->obj, "data");

        if (!d)
                return -ENODATA;
        return lb_base64_decode(d, strlen(d), ret, ret_len);
}

int lb_rec_argv(const struct lb_rec *rec, char ***ret, size_t **ret_lens, size_t *ret_n) {
        json_t *a = json_object_get(rec->obj, "argv"), *e;
        size_t n, idx;
        char **v;
        size_t *lens;

        if (!json_is_array(a))
                return -EBADMSG;
        n = json_array_size(a);
        v = calloc(n + 1, sizeof(char *));
        lens = calloc(n + 1, sizeof(size_t));
        if (!v || !lens) {
                free(v);
                free(lens);
                return -ENOMEM;
        }
        json_array_foreach(a, idx, e) {
                unsigned char *b = NULL;
                size_t bl = 0;
                int k;

                if (!json_is_string(e))
                        k = -EBADMSG;
                else
                        k = lb_base64_decode(json_string_value(e), json_string_length(e), &b, &bl);
                if (k >= 0) { /* NUL-terminated too, for callers that print it */
                        unsigned char *z = realloc(b, bl + 1);
                        if (!z) {
                                free(b);
                                k = -ENOMEM;
                        } else {
                                b = z;
                                b[bl] = '\0';
                        }
                }
                if (k < 0) {
                        lb_strv_free(v);
                        free(lens);
                        return k;
                }
                v[idx] = (char *) b;
                lens[idx] = bl;
        }
        *ret = v;
        *ret_lens = lens;
        *ret_n = n;
        return 0;
}

/* Length of the valid, printable UTF-8 character at p (not C1), or 0. */
static size_t utf8_char(const unsigned char *p, size_t n) {
        size_t len;
        uint32_t cp;

        if (p[0] < 0x80)
                return (p[0] >= 0x20 && p[0] != 0x7f) ? 1 : 0;
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
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
                return 0;
        return len;
}

static bool plain_word(const unsigned char *p, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(isalnum(p[i]) || (p[i] && strchr("_@%+=:,./-", p[i]))))
                        return false;
        return true;
}

char *lb_argv_render(char *const *argv, const size_t *lens, size_t n) {
        struct lb_buf b = {};

        for (size_t a = 0; a < n; a++) {
                const unsigned char *p = (const unsigned char *) argv[a];
                size_t len = lens[a];
                bool simple = true;

                if (a > 0 && lb_buf_put(&b, " ", 1) < 0)
                        goto oom;
                if (plain_word(p, len)) {
                        if (lb_buf_put(&b, p, len) < 0)
                                goto oom;
                        continue;
                }
                for (size_t i = 0; i < len;) {
                        size_t l = utf8_char(p + i, len - i);
                        if (l == 0) {
                                simple = false;
                                break;
                        }
                        i += l;
                }
                if (simple) { /* 'text', with ' written as '\'' */
                        if (lb_buf_put(&b, "'", 1) < 0)
                                goto oom;
                        for (size_t i = 0; i < len; i++)
                                if ((p[i] == '\'' ? lb_buf_puts(&b, "'\\''") : lb_buf_put(&b, p + i, 1)) < 0)
                                        goto oom;
                        if (lb_buf_put(&b, "'", 1) < 0)
                                goto oom;
                        continue;
                }
                /* $'...' with \xNN for control bytes and invalid UTF-8 */
                if (lb_buf_puts(&b, "$'") < 0)
                        goto oom;
                for (size_t i = 0; i < len;) {
                        size_t l = utf8_char(p + i, len - i);
                        char esc[8];
                        int r;
                        if (l == 0) {
                                snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
                                r = lb_buf_puts(&b, esc);
                                l = 1;
                        } else if (p[i] == '\'' || p[i] == '\\') {
                                esc[0] = '\\';
                                esc[1] = (char) p[i];
                                r = lb_buf_put(&b, esc, 2);
                        } else
                                r = lb_buf_put(&b, p + i, l);
                        if (r < 0)
                                goto oom;
                        i += l;
                }
                if (lb_buf_put(&b, "'", 1) < 0)
                        goto oom;
        }
        if (!b.p && lb_buf_put(&b, "", 0) < 0)
                return NULL;
        return b.p;
oom:
        lb_buf_done(&b);
        return NULL;
}
