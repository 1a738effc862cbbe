/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One session's records as lockbox-replay sees them (docs/EVIDENCE.md §2):
 * parsed from spool lines or journald LOCKBOX_RECORDS fields, deduplicated
 * by seq, ordered by seq, and verified (continuity and hash chain). Pure: no
 * I/O here. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chain.h"

/* Limits on what a source may hand us. */
#define LB_REPLAY_LINE_MAX (4U * 1024 * 1024)
#define LB_REPLAY_RECORDS_MAX 10000000U

struct lb_rec {
        uint64_t seq;
        uint64_t t;           /* ms since the session started */
        const char *kind;     /* borrowed from obj */
        const char *hash;     /* borrowed from obj */
        json_t *obj;
        char *line;           /* the record exactly as read, without '\n' */
        size_t line_len;
        uint64_t order;       /* arrival: of two records with one seq, the first wins */
};

/* recs[0..sorted_n) is ordered by seq with no seq twice; records that
 * arrive out of order go after it, unsorted, and are sorted and merged in
 * one pass when needed (O(N log N) in all, whatever the order of arrival). */
struct lb_recording {
        struct lb_rec *recs;
        size_t n, cap;
        size_t sorted_n;
        bool sorted;           /* sorted_n == n */
        uint64_t arrivals;
        uint64_t comparisons;  /* seq comparisons made (tests bound them) */
        /* problems seen while adding */
        size_t malformed;      /* lines that are not a record */
        uint64_t *conflicts;   /* seqs seen twice with different content */
        size_t n_conflicts;
        size_t duplicates;     /* identical re-sends, dropped */
};

void lb_recording_done(struct lb_recording *r);
/* Adds one record line (no trailing '\n'). A line that is not a record is
 * counted as malformed (returns -EBADMSG); an identical re-send is dropped;
 * a different record with a seq already seen is kept aside as a conflict.
 * Returns 1 when added, 0 when found a duplicate or conflict at once (one
 * among records that arrived out of order is found, and counted, when they
 * are sorted in). */
int lb_recording_add_line(struct lb_recording *r, const char *line, size_t len);
/* Adds every '\n'-terminated line of a LOCKBOX_RECORDS field or spool chunk;
 * returns the number of records added or -errno (ENOMEM only). */
int lb_recording_add_lines(struct lb_recording *r, const char *p, size_t len);
/* Sorts by seq (done on demand by the functions below). */
void lb_recording_sort(struct lb_recording *r);
/* The record with this seq, or NULL. */
const struct lb_rec *lb_recording_find(struct lb_recording *r, uint64_t seq);

enum lb_problem_kind {
        LB_PROBLEM_GAP,         /* seq first..last missing */
        LB_PROBLEM_CHANGED,     /* hash does not match the record's content */
        LB_PROBLEM_REORDERED,   /* the record at seq was written as seq other */
        LB_PROBLEM_RELINKED,    /* intact record, chained after the record now at seq other */
        LB_PROBLEM_CONFLICT,    /* two different records with one seq */
        LB_PROBLEM_NO_START,
        LB_PROBLEM_NO_END,
        LB_PROBLEM_MALFORMED,   /* first = count of lines that are not records */
        LB_PROBLEM_EMPTY,
};

struct lb_problem {
        enum lb_problem_kind kind;
        uint64_t first, last, other;
};

struct lb_verify {
        bool ok;
        size_t count;               /* records checked */
        uint64_t last_seq;
        char head[LB_CHAIN_HEX_LEN + 1]; /* hash of the last record */
        struct lb_problem *problems;
        size_t n_problems;
};

void lb_verify_done(struct lb_verify *v);
int lb_recording_verify(struct lb_recording *r, struct lb_verify *ret);
/* "gap: seq 4-6 missing (3 records)", ... */
char *lb_problem_format(const struct lb_problem *p);
/* {"ok":..., "count":..., "head":..., "problems":[{"kind":"gap",...}]} */
json_t *lb_verify_to_json(const struct lb_verify *v);

/* A session as `list` shows it, from its start/end/cmd records. */
struct lb_session_info {
        char *session, *request, *operator_, *user, *host, *start, *end, *reason, *mode;
        char *not_after;
        uint64_t commands;
        int64_t start_s;   /* epoch seconds, -1 if unknown */
        bool ended;
};
void lb_session_info_done(struct lb_session_info *i);
/* Folds one record into the summary (start, end and cmd records count). */
void lb_session_info_add(struct lb_session_info *i, json_t *rec);
json_t *lb_session_info_to_json(const struct lb_session_info *i);

/* Input typed while the terminal did not echo it ("echo": false, with the
 * data: passwords, or a command line an operator hid). Readers mask it
 * unless the auditor asks (--reveal-hidden-input). Records of recorders
 * before this carry "masked": true and no data at all. */
bool lb_rec_hidden_input(const struct lb_rec *rec);
/* A copy of a hidden input record without its data ("masked": true
 * added); its hash no longer matches (said where it is used). */
json_t *lb_rec_masked_copy(const struct lb_rec *rec);

/* Decoded payload of out/in records: the exact bytes. */
int lb_rec_data(const struct lb_rec *rec, unsigned char **ret, size_t *ret_len);
/* A cmd record's argv, decoded (NULL-terminated vector of byte strings with
 * their lengths). */
int lb_rec_argv(const struct lb_rec *rec, char ***ret, size_t **ret_lens, size_t *ret_n);
/* Shell-quoted, terminal-safe rendering of an argv (for people). */
char *lb_argv_render(char *const *argv, const size_t *lens, size_t n);

const char *lb_json_str(json_t *o, const char *key); /* NULL unless a string */
/* A JSON string of s (null for NULL) that never fails on the text: s as it
 * is when it is UTF-8, else with the bytes that are not as \xNN. NULL only
 * when out of memory. Use it for any text that came from a recording. */
json_t *lb_json_text(const char *s);
