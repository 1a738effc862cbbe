/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How much of the broker one caller may hold, so that one hostile local user
 * (or one token) cannot deny service to hosts and approvers. Pure counting,
 * no locking and no clock of its own (the caller locks and passes the time);
 * unit tested in tests/unit/test_broker_limits.c. */

/* Connections at once: at most max_total in all; `reserved` of them only for
 * privileged peers (root and host_users on the unix socket); at most per_peer
 * for each other peer (a uid). */
struct lb_limits {
        unsigned max_total, reserved, per_peer;
        unsigned total;  /* all connections held */
        unsigned shared; /* held by unprivileged peers */
        struct lb_limits_peer {
                uint32_t peer;
                unsigned n;
        } *peers;        /* unprivileged peers holding connections */
        size_t n_peers;
};

int lb_limits_init(struct lb_limits *l, unsigned max_total, unsigned reserved, unsigned per_peer);
void lb_limits_done(struct lb_limits *l);
/* Take one connection for peer: 0, -EUSERS when the peer is at per_peer,
 * -EAGAIN when no connection is left for it (all, or all but the reserve). */
int lb_limits_take(struct lb_limits *l, uint32_t peer, bool privileged);
/* Give back what lb_limits_take gave (same peer and privileged). */
void lb_limits_release(struct lb_limits *l, uint32_t peer, bool privileged);
/* Connections peer holds now (unprivileged peers only). */
unsigned lb_limits_held(const struct lb_limits *l, uint32_t peer);

/* Requests per minute for each key (a token, a uid): a token bucket that
 * holds per_minute requests and refills at per_minute a minute. Keys are
 * kept up to a fixed number; a key whose bucket is full again is forgotten
 * first, and when every kept key is busy a new one is let through uncounted
 * (one caller is never refused for what others did). per_minute 0: no limit. */
#define LB_RATE_KEY_MAX 96
#define LB_RATE_KEYS 4096
struct lb_rate {
        unsigned per_minute;
        struct lb_rate_entry {
                char key[LB_RATE_KEY_MAX];
                uint64_t milli;   /* thousandths of a request left */
                uint64_t at_ms;   /* when milli was computed */
        } *v;
        size_t n;
};

int lb_rate_init(struct lb_rate *r, unsigned per_minute);
void lb_rate_done(struct lb_rate *r);
/* 0 when key may make one more request at now_ms (and counts it), -EAGAIN
 * when it is over its rate. */
int lb_rate_take(struct lb_rate *r, const char *key, uint64_t now_ms);
