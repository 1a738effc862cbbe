/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Text from a caller, made safe to put in an answer: JSON strings must be
 * valid UTF-8 (jansson refuses anything else), and a detail cut to a length
 * must not end inside a multibyte character. Pure; unit tested in
 * tests/unit/test_broker_text.c. */

/* Length of the valid UTF-8 sequence at s (at most avail bytes: 1..4), or 0
 * when the bytes there are not one (invalid, overlong, a surrogate, past
 * U+10FFFF, or cut short). */
size_t lb_utf8_seq(const char *s, size_t avail);

/* Copy at most max bytes of s into buf (size >= max + 4), never cutting
 * inside a valid UTF-8 sequence, and end it with "..." when it was cut.
 * Invalid bytes are copied as they are (lb_text_clean escapes them).
 * Returns buf. */
const char *lb_text_cut(const char *s, size_t max, char *buf, size_t size);
/* lb_text_cut into a buffer that lives as long as the enclosing block. */
#define LB_TEXT_CUT(s, max) lb_text_cut((s), (max), (char[(max) + 4]){ 0 }, (max) + 4)

/* A malloc'd copy of s that is valid UTF-8 without control characters:
 * every byte that is not part of a valid sequence, and every byte of a C0
 * control, DEL or C1 control, becomes the four characters \xNN. NULL only
 * when out of memory. */
char *lb_text_clean(const char *s);
