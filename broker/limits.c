/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

int lb_limits_init(struct lb_limits *l, unsigned max_total, unsigned reserved, unsigned per_peer) {
        if (max_total == 0 || reserved >= max_total || per_peer == 0)
                return -EINVAL;
        *l = (struct lb_limits) { .max_total = max_total, .reserved = reserved,
                                  .per_peer = per_peer };
        /* never more peers than connections */
        l->peers = calloc(max_total, sizeof(*l->peers));
        return l->peers ? 0 : -ENOMEM;
}

void lb_limits_done(struct lb_limits *l) {
        free(l->peers);
        *l = (struct lb_limits) {};
}

static struct lb_limits_peer *find(const struct lb_limits *l, uint32_t peer) {
        for (size_t i = 0; i < l->n_peers; i++)
                if (l->peers[i].peer == peer)
                        return &l->peers[i];
        return NULL;
}

unsigned lb_limits_held(const struct lb_limits *l, uint32_t peer) {
        const struct lb_limits_peer *p = find(l, peer);
        return p ? p->n : 0;
}

int lb_limits_take(struct lb_limits *l, uint32_t peer, bool privileged) {
        struct lb_limits_peer *p;

        if (l->total >= l->max_total)
                return -EAGAIN;
        if (privileged) {
                l->total++;
                return 0;
        }
        if (l->shared >= l->max_total - l->reserved)
                return -EAGAIN;
        p = find(l, peer);
        if (p && p->n >= l->per_peer)
                return -EUSERS;
        if (!p) {
                if (l->n_peers >= l->max_total) /* cannot happen: total < max_total */
                        return -EAGAIN;
                p = &l->peers[l->n_peers++];
                *p = (struct lb_limits_peer) { .peer = peer };
        }
        p->n++;
        l->shared++;
        l->total++;
        return 0;
}

void lb_limits_release(struct lb_limits *l, uint32_t peer, bool privileged) {
        struct lb_limits_peer *p;

        if (l->total > 0)
                l->total--;
        if (privileged)
                return;
        if (l->shared > 0)
                l->shared--;
        p = find(l, peer);
        if (p && --p->n == 0)
                *p = l->peers[--l->n_peers];
}

int lb_rate_init(struct lb_rate *r, unsigned per_minute) {
        *r = (struct lb_rate) { .per_minute = per_minute };
        if (per_minute == 0)
                return 0;
        r->v = calloc(LB_RATE_KEYS, sizeof(*r->v));
        return r->v ? 0 : -ENOMEM;
}

void lb_rate_done(struct lb_rate *r) {
        free(r->v);
        *r = (struct lb_rate) {};
}

/* Refill e's bucket up to now. */
static void refill(const struct lb_rate *r, struct lb_rate_entry *e, uint64_t now_ms) {
        uint64_t full = (uint64_t) r->per_minute * 1000, dt;

        if (now_ms <= e->at_ms)
                return;
        dt = now_ms - e->at_ms;
        if (dt >= 60000)
                e->milli = full;
        else {
                /* per_minute requests in 60000 ms: per_minute / 60 thousandths a ms */
                uint64_t add = dt * r->per_minute / 60;
                e->milli = full - e->milli <= add ? full : e->milli + add;
        }
        e->at_ms = now_ms;
}

int lb_rate_take(struct lb_rate *r, const char *key, uint64_t now_ms) {
        uint64_t full = (uint64_t) r->per_minute * 1000;
        struct lb_rate_entry *e = NULL;

        if (r->per_minute == 0)
                return 0;
        for (size_t i = 0; i < r->n; i++)
                if (strncmp(r->v[i].key, key, sizeof(r->v[i].key)) == 0) {
                        e = &r->v[i];
                        break;
                }
        if (!e) {
                if (r->n == LB_RATE_KEYS) {
                        /* forget keys whose bucket is full again: they lose nothing */
                        for (size_t i = 0; i < r->n;) {
                                refill(r, &r->v[i], now_ms);
                                if (r->v[i].milli >= full)
                                        r->v[i] = r->v[--r->n];
                                else
                                        i++;
                        }
                        /* every key busy: let this one through uncounted rather
                         * than refuse a caller for what others did */
                        if (r->n == LB_RATE_KEYS)
                                return 0;
                }
                e = &r->v[r->n++];
                memset(e, 0, sizeof(*e));
                strncpy(e->key, key, sizeof(e->key) - 1);
                e->milli = full;
                e->at_ms = now_ms;
        }
        refill(r, e, now_ms);
        if (e->milli < 1000)
                return -EAGAIN;
        e->milli -= 1000;
        return 0;
}
