/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the journal writer sends entries (docs/EVIDENCE.md §4): journald, or
 * memory for tests. An entry carries one or more consecutive spool lines. */

struct lb_sink_ids {
        const char *session, *request, *operator_, *user, *host;
};

struct lb_sink_entry {
        const char *kind;           /* "io", "start", "cmd", "warn", "end", "note" */
        uint64_t seq_first, seq_last;
        const char *records;        /* spool lines, each ending in '\n' */
        size_t records_len;
        size_t n_records;
        bool resent;
        bool unspooled;             /* the spool refused these lines (its disk full,
                                     * an I/O error): this sink holds them, the
                                     * spool does not */
        /* cmd entries only (readable renderings), else NULL/0 */
        const char *argv_text, *cwd, *exe;
        int64_t pid;
};

/* What read_back reports: the seq range of one entry the store holds. */
typedef void (*lb_sink_seen_fn)(void *userdata, uint64_t seq_first, uint64_t seq_last);

struct lb_sink {
        int (*send)(struct lb_sink *s, const struct lb_sink_entry *e);
        void (*free)(struct lb_sink *s);
        /* Read the store back (docs/EVIDENCE.md §4): call seen for each of
         * this session's entries it holds that were not reported before (all
         * of them when full). NULL, or -errno when the store cannot be read
         * (-EACCES, -ENOENT, ...): then sends cannot be confirmed. */
        int (*read_back)(struct lb_sink *s, bool full, lb_sink_seen_fn seen, void *userdata);
};

static inline int lb_sink_send(struct lb_sink *s, const struct lb_sink_entry *e) {
        return s->send(s, e);
}
static inline void lb_sink_free(struct lb_sink *s) {
        if (s)
                s->free(s);
}

/* MESSAGE_ID of an entry kind; NULL if unknown. */
const char *lb_sink_message_id(const char *kind);

/* journald, by its native protocol (jsend.h), read back with sd-journal
 * (entries with LOCKBOX_SESSION and the reading process's own _UID, so no
 * other user's forgery counts). ids are copied. send_timeout_ms bounds one
 * send to a stalled journald. */
int lb_sink_journal_new(const struct lb_sink_ids *ids, unsigned send_timeout_ms,
                        struct lb_sink **ret);

/* Memory: keeps copies of the entries; for tests. fail_next makes the next n
 * sends fail with -ENOTCONN; drop_next makes the next n sends succeed but
 * keeps nothing (journald's rate limit, a journald killed with a full
 * queue). read_back reports the entries kept. */
struct lb_sink_memory {
        struct lb_sink sink;
        struct lb_sink_entry *entries; /* records/kind/argv_text copied */
        size_t n;
        unsigned fail_next;
        unsigned drop_next;
        size_t reported;               /* entries read_back has reported */
        unsigned read_backs;
};
int lb_sink_memory_new(struct lb_sink_memory **ret);
