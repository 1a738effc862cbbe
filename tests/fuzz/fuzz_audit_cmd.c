/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel audit records as the recorder turns them into commands
 * (recorder/audit_cmd.c): SYSCALL, EXECVE, CWD, PATH, PROCTITLE, EOE text
 * whose argv, cwd and exe the operator chooses. Input: one record per line,
 * the first byte of a line picks the type (S E C P T O, anything else: an
 * unknown type). Checks:
 *  - a command comes only for the wanted audit session, with argc entries
 *    each NUL-terminated at its length;
 *  - lb_audit_field decodes no more bytes than the text holds and
 *    terminates what it returns. */
#include "config.h"

#include "audit_cmd.h"
#include "fuzz.h"

#define SES 7

static int type_of(char c) {
        switch (c) {
        case 'S': return LB_AUDIT_SYSCALL;
        case 'E': return LB_AUDIT_EXECVE;
        case 'C': return LB_AUDIT_CWD;
        case 'P': return LB_AUDIT_PATH;
        case 'T': return LB_AUDIT_PROCTITLE;
        case 'O': return LB_AUDIT_EOE;
        default: return 1100 + (unsigned char) c;
        }
}

static void field(const char *t, size_t n, const char *key) {
        _cleanup_free_ char *v = NULL;
        size_t vl = 0;

        if (lb_audit_field(t, n, key, &v, &vl) < 0)
                return;
        FUZZ_CHECK(vl <= n, "field %s: %zu bytes out of %zu", key, vl, n);
        FUZZ_CHECK(v[vl] == '\0', "field %s not terminated", key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct lb_audit_parser *p = NULL;

        if (lb_audit_parser_new(SES, &p) < 0)
                abort();
        while (size > 0) {
                const uint8_t *nl = memchr(data, '\n', size);
                size_t l = nl ? (size_t) (nl - data) : size;
                struct lb_cmd *c = NULL;
                uint64_t serial;
                size_t body;

                if (l > 0) {
                        const char *t = (const char *) data + 1;
                        size_t tl = l - 1;
                        /* an exact-size copy, so ASan sees any read past the record */
                        char *copy = malloc(tl ? tl : 1);
                        memcpy(copy, t, tl);
                        if (lb_audit_serial(copy, tl, &serial, &body) >= 0)
                                FUZZ_CHECK(body <= tl, "body at %zu of %zu", body, tl);
                        field(copy, tl, "a0");
                        field(copy, tl, "a1[0]");
                        field(copy, tl, "cwd");
                        field(copy, tl, "exe");
                        if (lb_audit_parser_feed(p, type_of((char) data[0]), copy, tl, &c) > 0) {
                                FUZZ_CHECK(c, "a command without a command");
                                FUZZ_CHECK(c->ses == SES, "command of session %u kept", c->ses);
                                for (size_t i = 0; i < c->argc; i++) {
                                        FUZZ_CHECK(c->argv[i], "argv[%zu] missing of %zu", i, c->argc);
                                        FUZZ_CHECK(c->argv[i][c->argv_len[i]] == '\0',
                                                   "argv[%zu] not terminated", i);
                                }
                                lb_cmd_free(c);
                        }
                        free(copy);
                }
                data += l + (nl ? 1 : 0);
                size -= l + (nl ? 1 : 0);
        }
        (void) lb_audit_parser_overflows(p);
        lb_audit_parser_free(p);
        return 0;
}
