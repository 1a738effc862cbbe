/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "service.h"

/* Notifications from the persistent outbox: each event goes to every webhook
 * (HTTP POST of the event JSON) and to notify_command (the JSON on stdin),
 * at least once, retried with exponential backoff, in order per request and
 * target: a failing event holds back the later events of its request only. */

struct lb_notifier;

int lb_notifier_start(struct lb_broker *b, struct lb_notifier **ret);
void lb_notifier_wake(struct lb_notifier *n);
void lb_notifier_stop(struct lb_notifier *n);

/* One pass: deliver what is due now. Returns the number delivered. */
int lb_notify_run_once(struct lb_broker *b);
/* Deliver one event to one target ("webhook:URL" or "command"). 0 on success. */
int lb_notify_deliver(const struct lb_broker *b, const char *target, const char *event_json,
                      char **ret_error);
/* The wait before retry number `attempts` (0-based): 1 s, 2 s, 4 s ... up to max. */
int64_t lb_notify_backoff(unsigned attempts, int64_t max);
