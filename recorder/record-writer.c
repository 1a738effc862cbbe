/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <time.h>

#include "record-writer.h"
#include "util.h"

/* kind and seq of one spool line. Our lines are compact JSON with sorted keys
 * and every '"' inside a string escaped, so the first "kind":" and ,"seq":
 * are the members. */
static int line_meta(const char *p, size_t n, const char **ret_kind, uint64_t *ret_seq) {
        static const char *const kinds[] = { "start", "out", "in", "resize", "cmd",
                                             "warn", "end", "note" };
        const char *k = memmem(p, n, "\"kind\":\"", 8), *s = memmem(p, n, ",\"seq\":", 7);
        uint64_t seq = 0;
        size_t i;

        if (!k || !s)
                return -EBADMSG;
        k += 8;
        for (i = 0; i < ELEMENTSOF(kinds); i++) {
                size_t l = strlen(kinds[i]);
                if ((size_t) (p + n - k) > l && strneq(k, kinds[i], l) && k[l] == '"')
                        break;
        }
        if (i == ELEMENTSOF(kinds))
                return -EBADMSG;
        s += 7;
        if (s >= p + n || *s < '0' || *s > '9')
                return -EBADMSG;
        for (; s < p + n && *s >= '0' && *s <= '9'; s++) {
                if (seq > (UINT64_MAX - 9) / 10)
                        return -EBADMSG;
                seq = seq * 10 + (uint64_t) (*s - '0');
        }
        *ret_kind = kinds[i];
        *ret_seq = seq;
        return 0;
}

static bool is_io(const char *kind) {
        return streq(kind, "out") || streq(kind, "in") || streq(kind, "resize");
}

int lb_writer_next_entry(const char *buf, size_t len, size_t max_bytes,
                         struct lb_entry_span *ret) {
        struct lb_entry_span sp = {};
        size_t off = 0;

        while (off < len) {
                const char *nl = memchr(buf + off, '\n', len - off), *kind;
                size_t l;
                uint64_t seq;
                int r;

                if (!nl)
                        break;
                l = (size_t) (nl - (buf + off)) + 1;
                r = line_meta(buf + off, l, &kind, &seq);
                if (r < 0)
                        return r;
                if (sp.n_records == 0) {
                        sp.kind = is_io(kind) ? "io" : kind;
                        sp.seq_first = seq;
                } else if (!is_io(kind) || off + l > max_bytes) {
                        sp.open = false;
                        *ret = sp;
                        return 0;
                }
                sp.seq_last = seq;
                sp.n_records++;
                off += l;
                sp.len = off;
                if (!streq(sp.kind, "io")) {
                        *ret = sp;
                        return 0;
                }
        }
        if (sp.n_records == 0)
                return -EAGAIN;
        sp.open = sp.len < max_bytes;
        *ret = sp;
        return 0;
}

void lb_writer_init(struct lb_writer *w, struct lb_spool *spool, struct lb_sink *sink) {
        *w = (struct lb_writer) { .spool = spool, .sink = sink, .max_bytes = 256 * 1024,
                                  .flush_ms = 250, .check_ms = 1000, .probe_ms = 3000,
                                  .blind_ms = 120000 };
        atomic_store(&w->read_back, sink->read_back ? 0 : -EOPNOTSUPP);
}

static int send_entry(struct lb_sink *sink, const char *buf, const struct lb_entry_span *sp,
                      bool resent, bool unspooled) {
        struct lb_sink_entry e = {
                .kind = sp->kind, .seq_first = sp->seq_first, .seq_last = sp->seq_last,
                .records = buf, .records_len = sp->len, .n_records = sp->n_records,
                .resent = resent, .unspooled = unspooled,
        };
        json_auto_t *j = NULL;

        if (streq(sp->kind, "cmd")) {
                j = json_loadb(buf, sp->len, 0, NULL);
                if (j) {
                        e.argv_text = json_string_value(json_object_get(j, "argv_text"));
                        e.cwd = json_string_value(json_object_get(j, "cwd"));
                        e.exe = json_string_value(json_object_get(j, "exe"));
                        e.pid = json_integer_value(json_object_get(j, "pid"));
                }
        }
        return lb_sink_send(sink, &e);
}

static int send_span(struct lb_writer *w, const char *buf, const struct lb_entry_span *sp,
                     bool resent) {
        return send_entry(w->sink, buf, sp, resent, false);
}

int lb_writer_send_unspooled(struct lb_sink *sink, const char *buf, size_t len) {
        size_t off = 0;
        int ret = 0;

        while (off < len) {
                struct lb_entry_span sp;
                /* max_bytes 1: every line its own entry */
                int r = lb_writer_next_entry(buf + off, len - off, 1, &sp);

                if (r < 0)
                        return ret < 0 ? ret : r;
                r = send_entry(sink, buf + off, &sp, false, true);
                if (r < 0 && ret == 0)
                        ret = r;
                off += sp.len;
        }
        return ret;
}

/* ---- read-back ---- */

#define INFLIGHT_MAX (1u << 20)

static void read_back_off(struct lb_writer *w, int error) {
        atomic_store(&w->read_back, error);
        w->n_inflight = 0;
}

static void inflight_add(struct lb_writer *w, const struct lb_inflight *f) {
        if (atomic_load(&w->read_back) < 0)
                return;
        if (w->n_inflight == w->cap_inflight) {
                size_t cap = w->cap_inflight ? w->cap_inflight * 2 : 64;
                struct lb_inflight *n = cap <= INFLIGHT_MAX
                                                ? realloc(w->inflight, cap * sizeof(*n))
                                                : NULL;
                if (!n) {
                        read_back_off(w, -E2BIG);
                        return;
                }
                w->inflight = n;
                w->cap_inflight = cap;
        }
        w->inflight[w->n_inflight++] = *f;
        if (w->first_sent == 0)
                w->first_sent = MAX(f->sent_ms, (uint64_t) 1);
}

static void inflight_remove(struct lb_writer *w, size_t i) {
        memmove(w->inflight + i, w->inflight + i + 1,
                (w->n_inflight - i - 1) * sizeof(*w->inflight));
        w->n_inflight--;
}

struct seen_ctx {
        struct lb_writer *w;
        uint64_t now;
};

static void on_seen(void *userdata, uint64_t first, uint64_t last) {
        struct seen_ctx *c = userdata;
        struct lb_writer *w = c->w;

        for (size_t i = 0; i < w->n_inflight; i++) {
                struct lb_inflight *f = &w->inflight[i];
                if (f->seq_first != first || f->seq_last != last)
                        continue;
                w->seen_ordinal = MAX(w->seen_ordinal, f->ordinal);
                w->seen_any = true;
                w->last_seen = c->now;
                inflight_remove(w, i);
                return;
        }
}

/* Send inflight[i] again from the spool; it moves to the end, with a new
 * ordinal. */
static int resend(struct lb_writer *w, size_t i, uint64_t now) {
        struct lb_inflight f = w->inflight[i];
        struct lb_entry_span sp;
        _cleanup_free_ char *buf = malloc(f.len ? f.len : 1);
        ssize_t n;
        int r;

        if (!buf)
                return -ENOMEM;
        n = pread(w->spool->fd, buf, f.len, (off_t) f.off);
        if (n < 0)
                return -errno;
        if ((size_t) n != f.len)
                return -EIO;
        r = lb_writer_next_entry(buf, f.len, f.len, &sp);
        if (r < 0)
                return r;
        if (sp.len != f.len || sp.seq_first != f.seq_first || sp.seq_last != f.seq_last)
                return -EBADMSG;
        r = send_span(w, buf, &sp, true);
        if (r < 0)
                return r;
        inflight_remove(w, i);
        f.ordinal = ++w->next_ordinal;
        f.sent_ms = now;
        inflight_add(w, &f);
        return 0;
}

static bool read_back_fatal(int r) {
        return r == -EACCES || r == -EPERM || r == -ENOENT || r == -EOPNOTSUPP ||
               r == -ENOMEM;
}

/* Read the sink back; re-send what it dropped; probe when it is quiet.
 * Returns 1 if it sent something, 0 if not, <0 if a send failed. */
static int confirm(struct lb_writer *w, uint64_t now, bool final) {
        struct seen_ctx c = { w, now };
        bool sent = false;
        size_t n_dropped = 0;
        int r;

        if (atomic_load(&w->read_back) < 0 || w->n_inflight == 0)
                return 0;
        if (now - w->last_check < (final ? 5 : w->check_ms))
                return 0;
        w->last_check = now;
        r = w->sink->read_back(w->sink, false, on_seen, &c);
        if (r < 0) {
                if (read_back_fatal(r))
                        read_back_off(w, r);
                return 0;
        }
        for (size_t i = 0; i < w->n_inflight; i++)
                if (w->inflight[i].ordinal < w->seen_ordinal)
                        n_dropped++;
        if (n_dropped > 0) {
                /* sure before re-sending: everything again, from the start */
                r = w->sink->read_back(w->sink, true, on_seen, &c);
                if (r < 0)
                        return 0;
                /* the oldest first; each re-send goes to the end */
                n_dropped = 0;
                for (size_t i = 0; i < w->n_inflight; i++)
                        if (w->inflight[i].ordinal < w->seen_ordinal)
                                n_dropped++;
                for (size_t k = 0; k < n_dropped; k++) {
                        r = resend(w, 0, now);
                        if (r < 0)
                                return r;
                        atomic_fetch_add(&w->dropped, 1);
                        sent = true;
                }
                return sent ? 1 : 0;
        }
        if (w->n_inflight == 0)
                return 0;
        if (!w->seen_any && now - w->first_sent >= w->blind_ms) {
                /* journald takes our entries but never shows them (Storage=none,
                 * a journal we cannot see): confirming is impossible */
                read_back_off(w, -ENODATA);
                return 0;
        }
        if (now - w->inflight[0].sent_ms >= w->probe_ms && now - w->last_seen >= w->probe_ms) {
                r = resend(w, 0, now);
                if (r < 0)
                        return r;
                atomic_fetch_add(&w->probes, 1);
                w->last_seen = now; /* one probe per quiet probe_ms */
                return 1;
        }
        return 0;
}

int lb_writer_step(struct lb_writer *w, uint64_t now_ms, bool final) {
        uint64_t end = atomic_load(&w->spool->size);
        bool sent = false;
        int r;

        if (w->read_off < end && w->buf.len < 2 * w->max_bytes) {
                size_t want = (size_t) MIN(end - w->read_off, (uint64_t) (2 * w->max_bytes));
                ssize_t n;

                r = lb_buf_reserve(&w->buf, want);
                if (r < 0)
                        return r;
                n = pread(w->spool->fd, w->buf.p + w->buf.len, want, (off_t) w->read_off);
                if (n < 0)
                        return -errno;
                if (w->buf.len == 0 && n > 0)
                        w->pending_since = now_ms;
                w->buf.len += (size_t) n;
                w->read_off += (uint64_t) n;
        }

        for (;;) {
                struct lb_entry_span sp;

                r = lb_writer_next_entry(w->buf.p, w->buf.len, w->max_bytes, &sp);
                if (r == -EAGAIN)
                        break;
                if (r < 0)
                        return r;
                if (sp.open && !final && now_ms - w->pending_since < w->flush_ms)
                        break;
                r = send_span(w, w->buf.p, &sp, w->gap);
                if (r < 0) {
                        w->gap = true;
                        if (atomic_load(&w->down_since) == 0)
                                atomic_store(&w->down_since, MAX(now_ms, (uint64_t) 1));
                        return r;
                }
                if (w->gap)
                        atomic_fetch_add(&w->resent, 1);
                inflight_add(w, &(struct lb_inflight) {
                        .off = atomic_load(&w->sent_off), .seq_first = sp.seq_first,
                        .seq_last = sp.seq_last, .ordinal = ++w->next_ordinal, .sent_ms = now_ms,
                        .len = (uint32_t) sp.len });
                memmove(w->buf.p, w->buf.p + sp.len, w->buf.len - sp.len);
                w->buf.len -= sp.len;
                atomic_fetch_add(&w->sent_off, sp.len);
                atomic_store(&w->sent_seq, sp.seq_last);
                atomic_store(&w->down_since, 0);
                w->pending_since = now_ms;
                sent = true;
        }
        if (w->buf.len == 0 && w->read_off == atomic_load(&w->spool->size))
                w->gap = false;
        r = confirm(w, now_ms, final);
        if (r < 0) {
                w->gap = true;
                return r;
        }
        return sent || r > 0 ? 1 : 0;
}

bool lb_writer_caught_up(struct lb_writer *w) {
        return atomic_load(&w->sent_off) == atomic_load(&w->spool->size);
}

bool lb_writer_settled(struct lb_writer *w) {
        return lb_writer_caught_up(w) && (atomic_load(&w->read_back) < 0 || w->n_inflight == 0);
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

int lb_writer_drain(struct lb_writer *w, uint64_t timeout_ms) {
        uint64_t until = lb_now_ms() + timeout_ms;

        for (;;) {
                uint64_t now = lb_now_ms();
                int r = lb_writer_step(w, now, true);

                if (lb_writer_settled(w))
                        return 0;
                if (now >= until)
                        return -ETIMEDOUT;
                sleep_ms(r < 0 ? 200 : 10);
        }
}

static void *writer_thread(void *userdata) {
        struct lb_writer *w = userdata;

        while (!atomic_load(&w->stop)) {
                int r = lb_writer_step(w, lb_now_ms(), false);
                if (r < 0)
                        sleep_ms(200);
                else if (r == 0)
                        sleep_ms(10);
        }
        (void) lb_writer_drain(w, w->stop_timeout_ms);
        return NULL;
}

int lb_writer_start(struct lb_writer *w) {
        int r = pthread_create(&w->thread, NULL, writer_thread, w);
        if (r != 0)
                return -r;
        w->running = true;
        return 0;
}

int lb_writer_stop(struct lb_writer *w, uint64_t timeout_ms) {
        if (!w->running)
                return 0;
        w->stop_timeout_ms = timeout_ms;
        atomic_store(&w->stop, true);
        pthread_join(w->thread, NULL);
        w->running = false;
        return lb_writer_settled(w) ? 0 : -ETIMEDOUT;
}

void lb_writer_done(struct lb_writer *w) {
        lb_buf_done(&w->buf);
        free(w->inflight);
        w->inflight = NULL;
        w->n_inflight = w->cap_inflight = 0;
}
