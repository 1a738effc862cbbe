/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How lockboxctl shows request objects (docs/API.md) to people. Pure: JSON
 * in, text out on f; every string from the request goes through
 * lb_ctl_safe(). Missing or mistyped members show as "-", never crash.
 * Return 0 or -ENOMEM/-EIO. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* ID STATE OPERATOR HOSTS USER TICKET WHEN REASON, one line per request. */
int lb_reqview_table(json_t *requests, int64_t now, FILE *f);
/* Every field of one request, one per line. */
int lb_reqview_show(json_t *req, int64_t now, FILE *f);
/* After `request`: its id, state, who may approve, until when. */
int lb_reqview_created(json_t *req, int64_t now, FILE *f);
/* After approve/deny/revoke/withdraw/complete: what the request is now. */
int lb_reqview_after(json_t *req, const char *action, int64_t now, FILE *f);
/* Whether who already approved req. */
bool lb_reqview_approved_by(json_t *req, const char *who);
/* "pending, expires in 3d23h" / "approved, ends in 1h59m" / "revoked 3m ago". */
char *lb_reqview_when(json_t *req, int64_t now);
