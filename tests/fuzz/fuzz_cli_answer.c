/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What lockboxctl shows from broker answers (cli/reqview.c, display.c,
 * auditchain.c): request objects, request lists and the audit trail, from a
 * broker that may lie. Byte 0 picks the view. Checks:
 *  - every view prints without a terminal control besides '\n' (a request's
 *    reason or a host name cannot move the approver's cursor, retitle the
 *    window or hide text) and without the invisible characters display.h
 *    escapes (bidi controls, zero-width ones), which reorder what is read;
 *  - the audit chain check never calls a trail OK that it found a problem in. */
#include "config.h"

#include "auditchain.h"
#include "display.h"
#include "fuzz.h"
#include "reqview.h"

#define NOW 1795341600

/* The characters display.h promises to escape: they print nothing but
 * reorder or hide the text around them (bidi controls, zero-width ones). */
static bool invisible(uint32_t c) {
        return (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) ||
               (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF || c == 0x061C ||
               (c >= 0xFFF9 && c <= 0xFFFB);
}

static void check_output(char *text, size_t len, const char *view) {
        const unsigned char *p = (const unsigned char *) text;
        long bad = fuzz_term_unsafe(text, len, "\n");

        FUZZ_CHECK(bad < 0, "%s printed control byte 0x%02x at %ld: %.*s", view,
                   (unsigned char) text[bad], bad, (int) MIN(len, (size_t) 400), text);
        for (size_t i = 0; i < len; i++) {
                uint32_t c;
                if (p[i] >= 0xd8 && p[i] <= 0xdf && i + 1 < len)
                        c = (uint32_t) (p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f);
                else if (p[i] >= 0xe0 && p[i] <= 0xef && i + 2 < len)
                        c = (uint32_t) (p[i] & 0x0f) << 12 | (uint32_t) (p[i + 1] & 0x3f) << 6 |
                            (p[i + 2] & 0x3f);
                else
                        continue;
                FUZZ_CHECK(!invisible(c), "%s printed invisible U+%04X at %zu: %.*s", view, c, i,
                           (int) MIN(len, (size_t) 400), text);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_auto_t *j = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;
        const char *view = "?";

        if (size < 1)
                return 0;
        j = json_loadb((const char *) data + 1, size - 1, 0, NULL);
        if (!j)
                return 0;
        f = open_memstream(&text, &len);
        if (!f)
                abort();
        switch (data[0] % 6) {
        case 0:
                view = "request table";
                (void) lb_reqview_table(json_is_array(j) ? j : json_object_get(j, "requests"), NOW, f);
                break;
        case 1:
                view = "request show";
                (void) lb_reqview_show(j, NOW, f);
                break;
        case 2:
                view = "request created";
                (void) lb_reqview_created(j, NOW, f);
                break;
        case 3:
                view = "request after approve";
                (void) lb_reqview_after(j, "approve", NOW, f);
                (void) lb_reqview_approved_by(j, "bob");
                break;
        case 4: {
                _cleanup_free_ char *w = lb_reqview_when(j, NOW);
                view = "request when";
                if (w)
                        fputs(w, f);
                _cleanup_free_ char *js = json_dumps(j, JSON_COMPACT);
                _cleanup_free_ char *safe = js ? lb_ctl_json_safe(js) : NULL;
                if (safe)
                        fputs(safe, f);
                break;
        }
        case 5: {
                struct lb_audit_verifier v;
                view = "audit verify";
                lb_audit_verifier_init(&v);
                int r = lb_audit_verify_trail(&v, j);
                FUZZ_CHECK(!(r >= 0 && v.problem), "trail OK with a problem: %s", v.problem);
                if (v.problem)
                        fputs(v.problem, f);
                lb_audit_verifier_done(&v);
                break;
        }
        }
        fclose(f);
        check_output(text, len, view);
        return 0;
}
