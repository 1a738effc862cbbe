/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The terminal sanitizer of lockbox-replay: a recording must never act on the
 * auditor's terminal. A pure state machine (bytes in, bytes out, any chunking)
 * that keeps what draws the screen (text, colours, cursor movement, erasing,
 * scroll regions, alternate screen) and drops what reaches beyond it:
 *  - every OSC string (clipboard OSC 52, window title, colour queries,
 *    hyperlinks, notifications), DCS (DECRQSS, sixel, tmux passthrough), SOS,
 *    PM and APC strings, whole;
 *  - requests that make the terminal answer: DSR (CSI n), DA (CSI c, CSI > c,
 *    CSI = c), DECRQM (CSI ... $ p), XTVERSION (CSI > q), DECREQTPARM (CSI x),
 *    kitty keyboard query (CSI ? u), DECID (ESC Z, 8-bit 0x9A), ENQ (0x05);
 *  - window operations (every CSI ... t), media copy (CSI ... i), and private
 *    modes that make the terminal send input (mouse, focus, bracketed paste);
 *  - C1 controls written as UTF-8 (U+0080..U+009F): CSI becomes ESC [ and is
 *    checked as above, string starters are dropped with their strings, the
 *    rest is dropped.
 * A C0 control met inside an escape or control sequence is executed there by
 * a terminal, so it gets ground's rule in every state: ENQ is dropped, the
 * rest kept (ESC, CAN and SUB end or restart the sequence).
 * Dropped sequences vanish; nothing is put in their place. */

#include <stddef.h>
#include <stdint.h>

/* The longest CSI kept; longer ones are dropped whole. */
#define LB_SANITIZE_CSI_MAX 64
/* lb_sanitize() writes at most n + LB_SANITIZE_SLACK bytes. */
#define LB_SANITIZE_SLACK (LB_SANITIZE_CSI_MAX + 8)

enum lb_sanitize_state {
        LB_SAN_GROUND,
        LB_SAN_UTF8_C2,   /* saw 0xC2 in ground: maybe a C1 control */
        LB_SAN_ESC,
        LB_SAN_ESC_INTER, /* ESC + intermediates (charset designation...) */
        LB_SAN_CSI,
        LB_SAN_STRING,    /* OSC/DCS/SOS/PM/APC body: dropped */
        LB_SAN_STRING_C2, /* 0xC2 inside a string: maybe ST (0xC2 0x9C) */
};

struct lb_sanitizer {
        enum lb_sanitize_state state;
        uint8_t seq[LB_SANITIZE_CSI_MAX];
        size_t len;
        int overflow;
        int cont; /* UTF-8 continuation bytes still expected in ground */
        unsigned long dropped; /* sequences dropped so far */
};

void lb_sanitize_init(struct lb_sanitizer *s);
/* Filters n bytes of in into out (room for n + LB_SANITIZE_SLACK bytes);
 * returns the number of bytes written. */
size_t lb_sanitize(struct lb_sanitizer *s, const void *in, size_t n, void *out);
/* At the end of the stream: writes what was held back (at most
 * LB_SANITIZE_SLACK bytes) and resets; an unfinished sequence is dropped. */
size_t lb_sanitize_finish(struct lb_sanitizer *s, void *out);
