/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "audit_cmd.h"

/* Called for each command found; return <0 to stop. The command is freed
 * after the call. */
typedef int (*lb_cmd_cb_t)(void *userdata, const struct lb_cmd *c);

/* The audit multicast socket (NETLINK_AUDIT, group AUDIT_NLGRP_READLOG; needs
 * CAP_AUDIT_READ), with a large receive buffer. Non-blocking. */
int lb_audit_nl_open(int *ret);
/* Read what is there, feed the parser, call cb per command; st says what
 * else the read saw. */
struct lb_audit_nl_state {
        uint64_t lost;           /* ENOBUFS: the kernel dropped messages for us */
        const char *marker;      /* in: text of a user message we sent, or NULL */
        bool marker_seen;        /* a record holding marker was read: kauditd keeps
                                  * order, so every record made before it was too */
        bool turned_off;         /* kernel audit was switched off ("op=set
                                  * audit_enabled=0 ... res=1"; no record says when it
                                  * is switched on again: records just flow again) */
        bool records_flow;       /* a record audit makes only while it is on, of an
                                  * event after off_serial */
        uint64_t off_serial;     /* in/out: the event that turned audit off (its own
                                  * SYSCALL/PROCTITLE records follow it) */
};
int lb_audit_nl_read_state(int fd, struct lb_audit_parser *p, lb_cmd_cb_t cb, void *userdata,
                           struct lb_audit_nl_state *st);

/* The fallback: the proc connector (needs CAP_NET_ADMIN to subscribe, so
 * open it before privileges are dropped) and /proc/PID/{cmdline,cwd,exe}.
 * Racy by nature (a short-lived process may be gone before it is read):
 * every command it yields says source "proc". */
int lb_proc_cmd_open(int *ret);
int lb_proc_cmd_read(int fd, uint32_t ses, lb_cmd_cb_t cb, void *userdata);
