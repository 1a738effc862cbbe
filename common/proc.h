/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Processes of an audit session (/proc/PID/sessionid, set by pam_loginuid,
 * inherited by every process of the login and not changeable by its user:
 * setsid or a double fork does not leave it). */

#define LB_AUDIT_SESSION_UNSET UINT32_MAX

/* This process's audit session id; -ENOENT/-ENXIO if unset. */
int lb_proc_audit_session(pid_t pid, uint32_t *ret);

#define LB_UID_NONE ((uid_t) -1)

/* Send sig to every process whose audit session is `audit_session`, except
 * `except` and its ancestors (the caller and the sshd processes it runs
 * under), and except processes whose real, effective and saved uid are all
 * `spare` (the recorder's service user, which the operator cannot become;
 * LB_UID_NONE spares nobody). Returns the number of processes signalled
 * (>= 0) or -errno when /proc cannot be read. */
int lb_session_kill(uint32_t audit_session, pid_t except, uid_t spare, int sig);

/* HUP and TERM, then after grace_ms KILL to what is left; waits up to grace_ms more
 * for them to go. Returns how many were still there after the KILL wait. */
int lb_session_kill_all(uint32_t audit_session, pid_t except, uid_t spare, unsigned grace_ms);

/* Read /proc/PID/status "PPid:" */
int lb_proc_ppid(pid_t pid, pid_t *ret);
