/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>
#include <sys/types.h>

#include "audit_cmd.h"
#include "broker_client.h"
#include "conf.h"
#include "record-priv.h"
#include "record-session.h"
#include "record-writer.h"
#include "record.h"
#include "sink.h"
#include "spool.h"

/* One recorded session: set up as root (lb_rec_setup), relay until it ends
 * (lb_rec_relay), then the end (lb_rec_end). */

/* How long the verifier keeps re-sending until journald shows every entry. */
#define LB_REC_VERIFY_MS (300 * 1000)
/* A send to a stalled journald gives up after this (and is retried). */
#define LB_REC_SEND_TIMEOUT_MS 1000

enum { LB_STREAM_STDIN, LB_STREAM_STDOUT, LB_STREAM_STDERR, LB_STREAM_TTY_OUT, _LB_STREAM_MAX };

struct lb_recorder {
        /* given by main */
        struct lb_host_conf *conf;
        struct lb_rec_session rs;
        uint32_t ses;
        char *op_name, *op_shell;
        uid_t op_uid;
        gid_t op_gid;
        uid_t rec_uid;
        gid_t rec_gid;
        gid_t *rec_groups; /* the service user's supplementary groups */
        size_t n_rec_groups;
        char *command;             /* SSH_ORIGINAL_COMMAND or NULL */
        char **env;                /* the operator's environment, for the shell */
        const struct lb_rec_inherited *inherited; /* limits to give back to the shell */
        const char *term;          /* TERM of the operator's environment */
        struct lb_broker broker;
        unsigned poll_ms;          /* broker poll interval (<= 5000) */
        uint64_t broker_grace_ms;  /* unreachable broker tolerated this long */
        uint64_t journal_grace_ms; /* journald down this long gets a note */
        uint64_t verify_ms;        /* after the end: confirm with journald this long */

        /* state */
        bool interactive;
        uint64_t t0;
        struct lb_rec_chain chain;
        struct lb_buf line;
        struct lb_spool spool;
        struct lb_sink *sink;
        struct lb_writer writer;
        bool writer_started;
        int audit_fd, proc_fd;
        struct lb_audit_parser *ap;
        const char *cmd_source;
        bool audit_on;             /* audit is the source now (else proc, if open) */
        bool proc_standby;         /* proc_fd opened beside audit, for audit turned off */
        uint64_t audit_off_serial; /* the audit event that turned audit off */
        uint64_t audit_lost;
        int pty, in_w, out_r, err_r; /* pty master, or the pipes of a command */
        int pty_slave;               /* our hold on the pty until the shell ends */
        struct termios saved_tio;
        bool tio_saved;
        pid_t child;                 /* PID 1 of the session's PID namespace */
        int child_pidfd;
        int child_status;
        bool child_done;
        int sigfd;
        uint64_t recorded[_LB_STREAM_MAX];
        bool truncated[_LB_STREAM_MAX];
        unsigned warned;
        bool journal_noted;
        uint64_t dropped_noted, last_drop_note;
        bool read_back_noted;
        pid_t verifier;            /* confirms the last entries after the end */
        uint64_t commands;

        /* shared with the control thread */
        _Atomic uint64_t deadline;   /* monotonic ms */
        _Atomic(const char *) reason; /* why the session ends, once decided */
        _Atomic bool broker_lost;
        _Atomic bool control_stop;
        int control_wake;            /* eventfd: wakes the control thread to stop */
        pthread_t control;
        bool control_started;
};

void lb_rec_init(struct lb_recorder *r);
/* As root: spool, audit, pty or pipes, the operator's process (held until
 * the recorder has dropped its privileges), then the drop and the threads. */
int lb_rec_setup(struct lb_recorder *r);
/* Relay until the session ends. */
int lb_rec_relay(struct lb_recorder *r);
/* Record the end, end every process of the session, flush evidence, tell
 * the broker. Entries journald has not shown yet are left to a verifier
 * process (the service user's, in no terminal), so the operator's channel
 * closes now. Returns the exit status for the recorder. */
int lb_rec_end(struct lb_recorder *r);
void lb_rec_done(struct lb_recorder *r);
