/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The broker's stored request form (broker/request.c lb_request_from_json):
 * what lockboxd reads back from its database, and the API form hosts and
 * lockboxctl see. Checks: whatever parses serialises again, parses back to
 * the same stored form (a fixed point), and the lifecycle questions on it
 * (state at now, time left, next deadline) do not overflow (UBSan). */
#include "config.h"

#include "fuzz.h"
#include "lifecycle.h"
#include "request.h"

#define NOW 1795341600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_auto_t *j = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
        json_auto_t *s1 = NULL, *s2 = NULL, *api = NULL;
        struct lb_request *r = NULL, *r2 = NULL, *dup = NULL;

        if (!j || lb_request_from_json(j, &r) < 0)
                return 0;
        s1 = lb_request_to_store_json(r);
        FUZZ_CHECK(s1, "a parsed request does not serialise");
        FUZZ_CHECK(lb_request_from_json(s1, &r2) >= 0, "its own stored form does not parse");
        s2 = lb_request_to_store_json(r2);
        FUZZ_CHECK(s2 && json_equal(s1, s2), "stored form is not a fixed point");
        FUZZ_CHECK(lb_request_dup(r, &dup) >= 0, "dup failed");
        api = lb_request_to_json(r, NOW);
        FUZZ_CHECK(api, "no API form");
        (void) lb_lc_effective_state(r, NOW);
        FUZZ_CHECK(lb_lc_remaining(r, NOW) >= 0, "negative time left");
        (void) lb_lc_next_deadline(r);
        (void) lb_request_has_host(r, "web1");
        lb_request_free(r);
        lb_request_free(r2);
        lb_request_free(dup);
        return 0;
}
