/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* asciicast v2 (asciinema) export of a recording.
 *
 * JSON strings must be Unicode, terminal output is bytes. Lossless encoding:
 * valid UTF-8 is written as characters (control characters, C0, DEL and
 * C1 U+0080..U+009F, as \uXXXX, so the file itself holds none);
 * every byte that is not part of valid UTF-8 is written as the lone
 * surrogate \uDC80..\uDCFF for bytes 0x80..0xFF (the convention of Python's
 * "surrogateescape", PEP 383). A UTF-8 character split across two out
 * records is carried to the next event so it stays whole. Decoding maps
 * each \uDCxx back to its byte, so the exact output is recoverable; Python
 * tools (asciinema cat, in a UTF-8 locale) write those bytes back as they
 * were, while players that cannot show them show U+FFFD. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "replay-buf.h"
#include "replay-records.h"

/* Appends the JSON string (with quotes) for p[0..n) to b. With carry, an
 * incomplete UTF-8 character at the end is not written; *ret_used tells how
 * many bytes were consumed (the caller keeps the rest for the next call). */
int lb_asciicast_string(struct lb_buf *b, const void *p, size_t n, bool carry, size_t *ret_used);
/* Decodes such a JSON string body back to bytes (tests; \uDCxx -> byte). */
int lb_asciicast_unescape(const char *s, size_t len, struct lb_buf *out);

/* Writes the whole recording as asciicast v2 to f; with sanitize, output
 * passes through the terminal sanitizer (replay-sanitize.h) first. Input
 * typed with echo off is left out unless reveal_hidden. */
int lb_asciicast_export(struct lb_recording *r, bool sanitize, bool reveal_hidden, FILE *f);
