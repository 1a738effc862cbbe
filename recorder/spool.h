/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The per-session spool (docs/EVIDENCE.md §3): <dir>/<session>.jsonl, owned
 * by the recorder's service user, 0600, appended with write(2); a thread
 * group-commits it with fdatasync at least every interval. The spool is the
 * source of truth: the journal writer reads it back (pread) from here. */

struct lb_spool {
        int fd;
        char *path;
        _Atomic uint64_t size;      /* bytes written so far (complete lines only) */
        _Atomic uint64_t synced;    /* bytes known to be on disk */
        _Atomic int error;          /* first write/fdatasync error (-errno), 0 if none */
        unsigned interval_ms;
        pthread_t thread;
        bool thread_running;
        _Atomic bool stop;
        int wake_fd;                /* eventfd: wakes the sync thread to stop at once */
};

/* Create the spool file (O_EXCL, no symlinks) and give it to uid:gid, 0600;
 * a missing spool directory is made (0700). */
int lb_spool_open(struct lb_spool *s, const char *dir, const char *session, uid_t uid,
                  gid_t gid);
/* Append whole lines. Fails (and stays failed) on any write error. */
int lb_spool_append(struct lb_spool *s, const void *p, size_t n);
/* Start the group-commit thread (after privileges are dropped). */
int lb_spool_start_sync(struct lb_spool *s, unsigned interval_ms);
/* Stop the group-commit thread and sync (before a fork: the child gets no
 * thread). */
int lb_spool_stop_sync(struct lb_spool *s);
/* fdatasync now. */
int lb_spool_sync(struct lb_spool *s);
/* Stop the thread, sync a last time, close. */
int lb_spool_close(struct lb_spool *s);
