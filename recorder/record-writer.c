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
                                  .flush_ms = 250 };
}

static int send_span(struct lb_writer *w, const struct lb_entry_span *sp) {
        struct lb_sink_entry e = {
                .kind = sp->kind, .seq_first = sp->seq_first, .seq_last = sp->seq_last,
                .records = w->buf.p, .records_len = sp->len, .n_records = sp->n_records,
                .resent = w->gap,
        };
        json_auto_t *j = NULL;

        if (streq(sp->kind, "cmd")) {
                j = json_loadb(w->buf.p, sp->len, 0, NULL);
                if (j) {
                        e.argv_text = json_string_value(json_object_get(j, "argv_text"));
                        e.cwd = json_string_value(json_object_get(j, "cwd"));
                        e.exe = json_string_value(json_object_get(j, "exe"));
                        e.pid = json_integer_value(json_object_get(j, "pid"));
                }
        }
        if (w->sink->available && !w->sink->available(w->sink))
                return -ENOTCONN;
        return lb_sink_send(w->sink, &e);
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
                r = send_span(w, &sp);
                if (r < 0) {
                        w->gap = true;
                        if (atomic_load(&w->down_since) == 0)
                                atomic_store(&w->down_since, MAX(now_ms, (uint64_t) 1));
                        return r;
                }
                if (w->gap)
                        atomic_fetch_add(&w->resent, 1);
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
        return sent ? 1 : 0;
}

bool lb_writer_caught_up(struct lb_writer *w) {
        return atomic_load(&w->sent_off) == atomic_load(&w->spool->size);
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static void *writer_thread(void *userdata) {
        struct lb_writer *w = userdata;
        uint64_t stop_at = 0;

        for (;;) {
                bool stopping = atomic_load(&w->stop);
                uint64_t now = lb_now_ms();
                int r;

                if (stopping && stop_at == 0)
                        stop_at = now + w->stop_timeout_ms;
                r = lb_writer_step(w, now, stopping);
                if (stopping && (lb_writer_caught_up(w) || now >= stop_at))
                        break;
                if (r < 0)
                        sleep_ms(200);
                else if (r == 0)
                        sleep_ms(10);
        }
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
        return lb_writer_caught_up(w) ? 0 : -ETIMEDOUT;
}

void lb_writer_done(struct lb_writer *w) {
        lb_buf_done(&w->buf);
}
