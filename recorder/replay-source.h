/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where lockbox-replay reads recordings from (docs/EVIDENCE.md §3-4): the
 * local journal, journal files or a directory of them (what an auditor is
 * handed), or spool files. A reader follows one session and adds what is
 * new to a recording; waiting for more is event-driven (sd_journal_wait,
 * inotify). */

#include <stdbool.h>
#include <sys/types.h>

#include "replay-records.h"

enum lb_source_type {
        LB_SOURCE_JOURNAL,   /* the local journal */
        LB_SOURCE_DIRECTORY, /* a directory of journal files */
        LB_SOURCE_FILES,     /* journal files */
        LB_SOURCE_SPOOL,     /* spool files (<session>.jsonl) or a spool directory */
        LB_SOURCE_EXPORT,    /* journal export format files (journalctl -o export) */
};

struct lb_source {
        enum lb_source_type type;
        char **paths; /* DIRECTORY: one; FILES, SPOOL: one or more */
        /* journal entries from other uids are ignored: anyone can write to
         * the journal, only root and the recorder's user write evidence */
        uid_t writers[16];
        size_t n_writers;
        bool trust_all;  /* --any-writer: take every entry (say so) */
};

/* Trusted writers are named by journald's _UID only, a credential journald
 * takes from the kernel (SCM_CREDENTIALS) and no sender can choose: root and
 * the recorder's service user (record_user, given by name; NULL:
 * lockbox-rec). Nothing else counts: not _EXE or _COMM (a local user runs
 * the recorder's binary without its setuid bit, under no_new_privs, with
 * LD_PRELOAD), not the entry's own fields. lb_source_trust_uid() adds one
 * (journal files collected from a host where the recorder's user has another
 * uid). */
void lb_source_trust_default(struct lb_source *s, const char *record_user);
int lb_source_trust_uid(struct lb_source *s, uid_t uid);

/* Untrusted entries that carry the recorder's MESSAGE_IDs, by the session
 * they claim (LOCKBOX_SESSION), in the order first seen. */
struct lb_claim {
        char *session;
        size_t entries;
};
struct lb_claims {
        struct lb_claim *v;
        size_t n;
        size_t total;  /* every untrusted entry, with or without a session */
        /* lb_source_list: entries (journal) or files (spool) left out because
         * the session they name is not a session id (lb_session_id_valid) */
        size_t malformed;
};
void lb_claims_done(struct lb_claims *c);
int lb_claims_add(struct lb_claims *c, const char *session, size_t len);

struct lb_reader;
/* With follow, change notification is set up before the first read, so
 * nothing written in between is missed. */
int lb_reader_open(const struct lb_source *s, const char *session, bool follow,
                   struct lb_reader **ret);
/* Adds every record not read yet; returns how many were new. */
int lb_reader_read(struct lb_reader *rd, struct lb_recording *r);
/* Waits until more may be there or extra_fd (if >= 0) is readable, up to
 * timeout_ms (-1: forever). Returns 1 when there may be news, 2 when
 * extra_fd is readable, 0 on timeout. */
int lb_reader_wait(struct lb_reader *rd, int extra_fd, int timeout_ms);
/* Entries skipped because a writer we don't trust wrote them. */
size_t lb_reader_foreign(const struct lb_reader *rd);
void lb_reader_free(struct lb_reader *rd);

/* A session id as the broker issues them ("s-" and 16 hex digits) and the
 * recorder accepts them: "s-", then letters, digits, '.', '_', '-', at most
 * LB_SESSION_ID_MAX bytes in all. s need not be NUL-terminated. */
#define LB_SESSION_ID_MAX 64
bool lb_session_id_valid(const char *s, size_t len);

/* Every session the source holds (start, end and cmd records), and the
 * untrusted entries that were ignored (ret_untrusted may be NULL). */
int lb_source_list(const struct lb_source *s, struct lb_session_info **ret, size_t *ret_n,
                   struct lb_claims *ret_untrusted);

/* An explanation to add when a source is unreadable or empty for a
 * non-root user ("are you in the systemd-journal group?"), or NULL. */
const char *lb_source_hint(const struct lb_source *s);
