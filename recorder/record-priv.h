/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

/* The operator's side: drop every privilege to the operator for good
 * (supplementary groups, gid, uid, no capabilities) and check that none can
 * be regained. */
int lb_rec_drop_to_operator(const char *name, uid_t uid, gid_t gid);

/* The recorder's side: become the service user keeping exactly
 * CAP_AUDIT_WRITE, CAP_AUDIT_READ and CAP_KILL, and not dumpable (no ptrace,
 * no core). Supplementary groups: exactly groups (the journal's group, to
 * read its entries back). Call before starting any thread. */
int lb_rec_drop_to_service(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);

/* The verifier after the session: of the service user's capabilities keep
 * only CAP_AUDIT_WRITE (for its audit record if it gives up). */
int lb_rec_keep_audit_write_only(void);

/* ---- what a setuid program inherits ---------------------------------------- */

/* What the recorder took from whoever started it, kept for the operator's
 * side only: the environment and the resource limits. */
struct lb_rec_inherited {
        char **env;
        struct rlimit lim[RLIM_NLIMITS];
        bool lim_saved[RLIM_NLIMITS];
        mode_t umask;
};

/* The first thing main() does, before any library is initialised: trust no
 * inherited state. Signal dispositions to SIG_DFL and nothing blocked, fds
 * 0-2 open (else /dev/null), every fd above 2 closed, umask 077, resource
 * limits reset (no core, no file size or CPU limit, sane NOFILE), and the
 * environment cleared: *ret gets a copy of it (the operator's shell gets
 * that), the process keeps only PATH=LB_REC_SAFE_PATH. */
#define LB_REC_SAFE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
int lb_rec_sanitize(struct lb_rec_inherited *ret);
void lb_rec_inherited_done(struct lb_rec_inherited *in);
/* The operator's side, still privileged: the limits and umask it came with. */
void lb_rec_restore_limits(const struct lb_rec_inherited *in);
/* Removes from env, in place, what would run code in the operator's shell
 * that nobody typed (LD_*, BASH_ENV, ENV, exported functions, prompt
 * commands...). Returns how many entries went. */
size_t lb_rec_env_drop_untyped_code(char **env);
/* NAME's value in an environment block, or NULL. */
const char *lb_rec_env_get(char *const *env, const char *name);

/* sshd's terminal (fd 0, and 1 and 2 when they are it) becomes root's, mode
 * 0600, so that no process of the operator can open it any more, and every
 * earlier open of it is hung up (vhangup); fds 0-2 are opened again. 0 when
 * fd 0 is not a terminal. */
int lb_rec_claim_tty(void);

/* A short-lived child, dropped for good to uid/gid and exactly `groups` (no
 * capabilities, no_new_privs), asks the broker for session `id` and hands
 * the answer back over a pipe: no network code ever runs as root. */
struct lb_broker;
struct lb_session;
int lb_rec_session_get_as(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                          struct lb_broker *b, const char *id, struct lb_session *ret);
