/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

/* The session record pam_lockbox wrote (docs/EVIDENCE.md §1) and the small
 * decisions the recorder makes. Pure. */

struct lb_rec_session {
        char *session, *request, *operator_, *user, *host, *not_after;
        int64_t remaining_s;
        uint64_t mono_ms;
        uint32_t audit_session;
        int64_t sshd_pid;
};
void lb_rec_session_done(struct lb_rec_session *s);
int lb_rec_session_parse(const char *json, size_t len, struct lb_rec_session *ret);

/* Is SSH_ORIGINAL_COMMAND an sftp server (internal-sftp, .../sftp-server)? */
bool lb_rec_is_sftp(const char *command);

/* Input typed now is masked when the terminal does not echo it in canonical
 * mode (a password prompt). Raw-mode programs (editors) turn ECHO off too
 * but echo what they want themselves: their input is kept. */
bool lb_rec_input_masked(const struct termios *t);

/* Warnings before the deadline: at T-10 min and T-1 min. *warned remembers
 * which were given. Returns the minutes to warn about now (10 or 1), or 0. */
#define LB_REC_WARN_10 1u
#define LB_REC_WARN_1 2u
unsigned lb_rec_warning_due(uint64_t now_ms, uint64_t deadline_ms, unsigned *warned);

/* The end reason for a broker answer that says allow:false. */
const char *lb_rec_reason_from_broker(const char *state, const char *reason);
