/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The asciicast string encoding of recorded bytes (recorder/replay-asciicast.c)
 * and its decoder: any terminal output, including invalid UTF-8 and control
 * bytes, becomes a JSON string that decodes back to the same bytes. Checks:
 *  - no raw C0 control, DEL, C1 control (U+0080..U+009F) or invalid UTF-8
 *    in the encoded string;
 *  - decode(encode(x)) == x, and with carry the bytes left over are only an
 *    incomplete UTF-8 character (at most 3 bytes);
 *  - the decoder survives arbitrary escapes (the rest of the input is also
 *    decoded as a string body). */
#include "config.h"

#include "fuzz.h"
#include "replay-asciicast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct lb_buf enc = {}, dec = {}, junk = {};
        size_t used = 0;
        bool carry = size > 0 && (data[0] & 1);

        FUZZ_CHECK(lb_asciicast_string(&enc, data, size, carry, &used) >= 0, "encoding failed");
        FUZZ_CHECK(used <= size, "used %zu of %zu", used, size);
        FUZZ_CHECK(carry ? size - used <= 3 : used == size, "carry left %zu bytes", size - used);
        FUZZ_CHECK(enc.n >= 2 && enc.p[0] == '"' && enc.p[enc.n - 1] == '"', "not a JSON string");
        FUZZ_CHECK(fuzz_unsafe(enc.p, enc.n, NULL, true) < 0, "raw control byte in %s", enc.p);
        FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *) enc.p, enc.n), "encoded string is not UTF-8");
        FUZZ_CHECK(lb_asciicast_unescape(enc.p + 1, enc.n - 2, &dec) >= 0, "own string does not decode: %s",
                   enc.p);
        FUZZ_CHECK(dec.n == used && (used == 0 || memcmp(dec.p, data, used) == 0),
                   "decode(encode(x)) != x (%zu vs %zu bytes)", dec.n, used);

        (void) lb_asciicast_unescape((const char *) data, size, &junk);
        lb_buf_done(&enc);
        lb_buf_done(&dec);
        lb_buf_done(&junk);
        return 0;
}
