/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "record-journal-check.h"
#include "record.h"
#include "sink.h"
#include "spool.h"
#include "timeutil.h"

/* The journal writer: a thread that follows the spool (pread, never the byte
 * path) and sends its lines to a sink as entries: cmd/start/end/warn/note one
 * per entry, out/in/resize batched up to max_bytes or flush_ms. An entry is
 * taken off only when the sink took it; after a failure the missing entries
 * are re-sent from the spool, marked resent, once the sink is back. */

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

        /* Read-back check: entries the sink took but lost (journald's rate
         * limit, a restart) are re-sent from the spool, marked resent.
         * read_back NULL: no check. It is turned off (check_error set) when
         * reading back fails. */
        int (*read_back)(void *userdata, struct lb_seq_ranges *ret);
        void (*read_back_free)(void *userdata);
        void *read_back_data;
        uint64_t check_every_ms;     /* 15000: during the session */
        uint64_t settle_ms;          /* 1000: sent this long ago before judged */
        uint64_t last_check_ms, mark_ms, mark_seq, verified_seq;
        struct lb_seq_ranges present;
        _Atomic int check_error;     /* why the check is off, 0 when on */
        _Atomic uint64_t gaps_found; /* lost runs of seqs found and re-sent */
        uint64_t missing_prev;       /* seqs missing at the last check... */
        uint64_t missing_prev_upto;  /* ...up to this seq */
        unsigned stale_checks;       /* checks in a row that found no fewer */
        bool check_noted;            /* for the caller: check_error was logged */
        pthread_t thread;
        bool running;
};

void lb_writer_init(struct lb_writer *w, struct lb_spool *spool, struct lb_sink *sink);
/* One round; now_ms on any monotonic clock. final: send open batches too.
 * Returns 1 if it sent something, 0 if not, <0 if a send failed. */
int lb_writer_step(struct lb_writer *w, uint64_t now_ms, bool final);
/* Has everything written to the spool so far been taken by the sink? */
bool lb_writer_caught_up(struct lb_writer *w);
/* Re-send from the spool the records in [first, last] as entries marked
 * resent. 0, or <0 when the spool cannot be read or a send failed. */
int lb_writer_resend(struct lb_writer *w, uint64_t first, uint64_t last);
/* The read-back check, one round: 0 nothing to do or everything up to
 * verified_seq is there; 1 waiting (settle); 2 gaps were re-sent; <0 an
 * error. final: check now, not only every check_every_ms. */
int lb_writer_check_tick(struct lb_writer *w, uint64_t now_ms, bool final);
int lb_writer_start(struct lb_writer *w);
/* Stop: keep sending until caught up (and, with read_back, journald holds
 * every seq) or timeout_ms passed. 0 or -ETIMEDOUT. */
int lb_writer_stop(struct lb_writer *w, uint64_t timeout_ms);
void lb_writer_done(struct lb_writer *w);

#define lb_now_ms lb_mono_ms /* CLOCK_MONOTONIC in ms */
