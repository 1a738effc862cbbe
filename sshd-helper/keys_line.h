/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "broker_client.h"

/* What lockbox-keys prints for sshd: one authorized_keys line per per-session
 * key. Pure functions, unit tested in tests/unit/test_keys_line.c. */

/* Is `path` safe to put inside command="..." of an authorized_keys line, where
 * sshd unquotes it and then hands it to the user's shell? Only absolute paths
 * made of [A-Za-z0-9/._+-] are: no quote, backslash, space, shell
 * metacharacter, control or non-ASCII byte. */
bool lb_keys_recorder_valid(const char *path);

/* The sshd expiry-time of a key, in epoch seconds by the local clock: now plus
 * the broker's remaining_s (the broker is the clock), never later than the
 * broker's not_after, so always a four-digit year. Returns -ESTALE when no
 * time is left, -EBADMSG when not_after is missing, not positive or past
 * 9999-12-31 (a broken answer: no key), -ERANGE for a local clock out of
 * range. */
int lb_keys_expiry(const struct lb_key *k, int64_t now, int64_t *ret);

/* Does the key match what sshd asked about? fingerprint ("SHA256:...", %f),
 * type (%t) and base64 (%k) may each be NULL or empty (not asked). The
 * fingerprint is recomputed from the key, not taken from the broker. */
bool lb_keys_match(const struct lb_key *k, const char *fingerprint, const char *type,
                   const char *base64);

/* Format one line (without a newline):
 *   restrict,pty,expiry-time="YYYYMMDDHHMMSSZ",command="<recorder>" <type> <base64> lockbox:<request>
 * -EINVAL for an unsafe recorder path, a malformed key or request id,
 * -ESTALE when the key has no time left, -EBADMSG/-ERANGE as lb_keys_expiry. */
int lb_keys_format_line(const struct lb_key *k, const char *recorder, int64_t now, char **ret);
