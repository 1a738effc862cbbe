/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Reading the journal back (docs/EVIDENCE.md §4): which spool seqs of this
 * session journald really holds, so the writer can re-send entries journald
 * took but dropped (rate limit, a restart losing its buffer). */

struct lb_seq_range {
        uint64_t first, last;
};

/* A set of seqs as ranges, in any order, possibly overlapping. */
struct lb_seq_ranges {
        struct lb_seq_range *r;
        size_t n, cap;
};

int lb_seq_ranges_add(struct lb_seq_ranges *s, uint64_t first, uint64_t last);
void lb_seq_ranges_clear(struct lb_seq_ranges *s);
void lb_seq_ranges_done(struct lb_seq_ranges *s);
/* Pure: the first run of seqs in [from, upto] that s does not cover, in
 * *ret. 0 when found, -ENOENT when s covers all of it. Sorts s. */
int lb_seq_ranges_next_gap(struct lb_seq_ranges *s, uint64_t from, uint64_t upto,
                           struct lb_seq_range *ret);

/* The journald reader: entries with LOCKBOX_SESSION=session and _UID=uid.
 * Open it while the journal files can still be opened (before privileges
 * are dropped); read it from one thread only. */
struct lb_journal_reader;
int lb_journal_reader_open(const char *session, uid_t uid, struct lb_journal_reader **ret);
/* Fill ret (cleared first) with the seq ranges journald holds now.
 * -ENODATA when it holds none at all (we cannot see our own entries). */
int lb_journal_reader_read(void *reader, struct lb_seq_ranges *ret);
void lb_journal_reader_free(void *reader);
