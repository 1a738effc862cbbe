/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "record.h"
#include "sink.h"
#include "spool.h"
#include "timeutil.h"

/* The journal writer: a thread that follows the spool (pread, never the byte
 * path) and sends its lines to a sink as entries: cmd/start/end/warn/note one
 * per entry, out/in/resize batched up to max_bytes or flush_ms. An entry is
 * taken off only when the sink took it; after a failure the missing entries
 * are re-sent from the spool, marked resent, once the sink is back.
 *
 * Taken is not kept: journald can take an entry and then lose it (its rate
 * limit, a restart with a full queue). So the writer reads the sink back and
 * holds every sent entry "in flight" until it is seen there. journald stores
 * what it takes in the order it was sent, so an entry in flight that was sent
 * before one that is seen was dropped: it is re-sent from the spool. The last
 * entries have nothing after them: when nothing is seen for probe_ms, the
 * oldest in flight is sent again as a probe (a duplicate, if journald was only
 * slow; replay drops identical duplicates). */

struct lb_inflight {
        uint64_t off;        /* spool offset of the entry's first line */
        uint64_t seq_first, seq_last;
        uint64_t ordinal;    /* send order */
        uint64_t sent_ms;
        uint32_t len;
};

struct lb_entry_span {
        size_t len;          /* bytes of buf in this entry */
        size_t n_records;
        const char *kind;    /* "io", "cmd", ... (static) */
        uint64_t seq_first, seq_last;
        bool open;           /* an io batch that ended with the buffer: may grow */
};

/* Pure: the first entry in buf (complete lines only). -EAGAIN when buf has
 * no complete line, -EBADMSG for a line without kind/seq. */
int lb_writer_next_entry(const char *buf, size_t len, size_t max_bytes,
                         struct lb_entry_span *ret);

struct lb_writer {
        struct lb_spool *spool;
        struct lb_sink *sink;
        size_t max_bytes;            /* 256 KiB */
        uint64_t flush_ms;           /* 250 */
        uint64_t read_off;           /* spool bytes read into buf */
        struct lb_buf buf;           /* read, not yet sent */
        uint64_t pending_since;      /* ms, when buf got unsent data */
        bool gap;                    /* a send failed: what follows is re-sent */
        _Atomic uint64_t sent_seq;   /* last seq the sink took */
        _Atomic uint64_t sent_off;   /* spool bytes the sink took */
        _Atomic uint64_t down_since; /* ms of the first failed send, 0 when fine */
        _Atomic uint64_t resent;     /* entries re-sent */
        _Atomic bool stop;
        uint64_t stop_timeout_ms;    /* how long to keep trying after stop */

        /* read-back */
        struct lb_inflight *inflight; /* in send order */
        size_t n_inflight, cap_inflight;
        uint64_t next_ordinal;
        uint64_t seen_ordinal;       /* the highest ordinal seen in the sink */
        uint64_t check_ms;           /* read back this often (1000) */
        uint64_t probe_ms;           /* nothing seen this long: probe (3000) */
        uint64_t blind_ms;           /* nothing ever seen this long: give up (120000) */
        uint64_t last_check, last_seen;
        uint64_t first_sent;         /* ms of the first entry sent, 0 before */
        bool seen_any;
        _Atomic int read_back;       /* 0 confirming; <0 cannot (-errno): send-only */
        _Atomic uint64_t dropped;    /* entries the sink lost, re-sent */
        _Atomic uint64_t probes;
        pthread_t thread;
        bool running;
};

void lb_writer_init(struct lb_writer *w, struct lb_spool *spool, struct lb_sink *sink);
/* One round; now_ms on any monotonic clock. final: send open batches too.
 * Returns 1 if it sent something, 0 if not, <0 if a send failed. */
int lb_writer_step(struct lb_writer *w, uint64_t now_ms, bool final);
/* Has everything written to the spool so far been taken by the sink? */
bool lb_writer_caught_up(struct lb_writer *w);
/* ...and seen in it (or it cannot be read back)? Not for the thread's
 * owner while the thread runs. */
bool lb_writer_settled(struct lb_writer *w);
/* Single-threaded: step until settled or timeout_ms passed. 0 or -ETIMEDOUT. */
int lb_writer_drain(struct lb_writer *w, uint64_t timeout_ms);
int lb_writer_start(struct lb_writer *w);
/* Stop: keep sending until settled or timeout_ms passed. 0 or -ETIMEDOUT. */
int lb_writer_stop(struct lb_writer *w, uint64_t timeout_ms);
void lb_writer_done(struct lb_writer *w);
/* Lines the spool refused, sent straight to sink (not the writer's: it is
 * the writer thread's), one entry per line, marked unspooled. Not read back:
 * the session is ending. 0, or the first send's -errno. */
int lb_writer_send_unspooled(struct lb_sink *sink, const char *buf, size_t len);

#define lb_now_ms lb_mono_ms /* CLOCK_MONOTONIC in ms */
