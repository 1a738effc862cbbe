/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* Hash chains, for the broker's audit trail and the recorder's records
 * (docs/API.md, docs/EVIDENCE.md): hash = hex(SHA-256(prev + "\n" + canonical)),
 * canonical = the object without its "hash" (and, for audit events, "prev")
 * member, dumped with JSON_COMPACT | JSON_SORT_KEYS. */

#define LB_CHAIN_HEX_LEN 64
#define LB_CHAIN_ZERO "0000000000000000000000000000000000000000000000000000000000000000"
#define LB_CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

/* Canonical serialisation of obj with the named members left out (NULL-terminated list). */
char *lb_chain_canonical(json_t *obj, const char *const *omit);
/* out gets 64 hex + NUL. prev must be 64 hex. */
int lb_chain_hash(const char *prev, json_t *obj, const char *const *omit,
                  char out[LB_CHAIN_HEX_LEN + 1]);
/* Is s 64 lowercase hex digits? */
int lb_chain_hex_valid(const char *s);
