/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* The two places evidence lands on every host: journald and auditd. These are
 * the low-level senders; each part builds its own records on top. */

/* journald's native socket (default /run/systemd/journal/socket), or the
 * path in $LOCKBOX_JOURNAL_SOCKET for tests. */
const char *lb_journal_socket_path(void);
/* Is journald there to take entries? sd_journal_send() returns 0 when it is
 * not, so check before trusting it. 1 yes, 0 no. */
int lb_journal_available(void);
/* sd_journal_sendv, but an absent journald is an error (-ENOTCONN). */
int lb_journal_sendv(const struct iovec *iov, size_t n);

/* One auditd user message, e.g. type AUDIT_USER_CMD or AUDIT_USR_ACCT... with
 * "op=lockbox-... key=value ...". result: true success, false failure.
 * Returns -errno; -EPERM without CAP_AUDIT_WRITE, -EPROTONOSUPPORT without
 * kernel audit. hostname/addr/tty may be NULL. */
int lb_audit_user_message(int type, const char *message, const char *hostname,
                          const char *addr, const char *tty, bool result);
/* Encode a value for an audit record: as is when it has no space, quote,
 * control or non-ASCII byte; otherwise hex, as libaudit does. */
char *lb_audit_value(const char *s);
