/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/uio.h>

/* A journald sender of our own, for the recorder's evidence: journald's
 * native protocol over its datagram socket, like sd_journal_sendv(), but
 *  - a journald that is stopped or stalled costs at most timeout_ms per entry
 *    (sd_journal_sendv() blocks for as long as journald's queue stays full);
 *  - the socket is ours (a forked process knows which fd it is);
 *  - a journald that is gone is an error (-ENOTCONN), not a silent success.
 * Entries too big for a datagram go in a sealed memfd, as journald expects. */

struct lb_jsend {
        int fd;          /* connected to the socket, or -1 */
        unsigned timeout_ms;
};

void lb_jsend_init(struct lb_jsend *js, unsigned timeout_ms);
/* iov: "FIELD=value" each (the value may hold any bytes, '\n' too).
 * 0 when journald took the entry; -ENOTCONN when nobody is bound at the
 * socket, -ETIMEDOUT when its queue stayed full for timeout_ms, -EINVAL for a
 * field without '=' or a bad name, else -errno. */
int lb_jsend_sendv(struct lb_jsend *js, const struct iovec *iov, size_t n);
void lb_jsend_done(struct lb_jsend *js);

/* Pure: the native serialization of iov into *ret (malloc'd). "F=v\n" for
 * values without '\n', else "F\n" + 64-bit little-endian length + v + "\n". */
int lb_jsend_serialize(const struct iovec *iov, size_t n, char **ret, size_t *ret_len);
