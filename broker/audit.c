/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <libaudit.h>
#include <sys/uio.h>

#include "audit.h"
#include "chain.h"
#include "evidence.h"
#include "util.h"

static const char *const chain_omit[] = { "prev", "hash", NULL };

int lb_audit_verify(json_t *events, const char *start_prev, int64_t *ret_head_seq,
                    char **ret_detail) {
        const char *prev = start_prev ? start_prev : LB_CHAIN_ZERO;
        int64_t expect = 1;
        json_t *ev;
        size_t i;

        if (!json_is_array(events))
                return -EINVAL;
        if (json_array_size(events) > 0) {
                json_t *first = json_object_get(json_array_get(events, 0), "seq");
                if (start_prev && json_is_integer(first))
                        expect = json_integer_value(first);
        }
        json_array_foreach(events, i, ev) {
                json_t *seq = json_object_get(ev, "seq");
                const char *p = json_string_value(json_object_get(ev, "prev"));
                const char *h = json_string_value(json_object_get(ev, "hash"));
                char want[LB_CHAIN_HEX_LEN + 1];

                if (!json_is_integer(seq) || json_integer_value(seq) != expect) {
                        *ret_detail = lb_asprintf("gap: expected seq %" PRId64 ", found %s",
                                                  expect, json_is_integer(seq) ? "another" : "none");
                        return -EBADMSG;
                }
                if (!p || !streq(p, prev)) {
                        *ret_detail = lb_asprintf("break at seq %" PRId64
                                                  ": prev does not match the hash before it",
                                                  expect);
                        return -EBADMSG;
                }
                if (!h || lb_chain_hash(prev, ev, chain_omit, want) < 0 || !streq(want, h)) {
                        *ret_detail = lb_asprintf("break at seq %" PRId64
                                                  ": hash does not match the event (changed)",
                                                  expect);
                        return -EBADMSG;
                }
                prev = h;
                expect++;
        }
        if (ret_head_seq)
                *ret_head_seq = expect - 1;
        return 0;
}

static const struct {
        const char *type;
        const char *id;
} message_ids[] = {
        { "Create", "7fc0af49687e4597aa23bba43925b829" },
        { "Approve", "9f7524851ced4e66b554db1287911f67" },
        { "Deny", "f1dc9f8624aa49259b760b292ecc9b02" },
        { "Expire", "18645d9a479947539fa40d7eec10b5a9" },
        { "Withdraw", "203fc236e8a348f78e23a7576cbd9cb2" },
        { "Revoke", "880f1ad63a6c4b1a9f3f7187f349631f" },
        { "Complete", "ecd26918e4534325acdd4986b6dd482a" },
        { "KeyRegistered", "db3c3c4b9d4e422dad4312ef369697f1" },
        { "SessionStart", "30879bb15a2d422b9531fe648ec8df48" },
        { "SessionEnd", "6c1d258e911647538afc02d4105f6206" },
        { "TokenCreate", "5329cbecc893420d959a85dcde3e5eb7" },
        { "TokenRevoke", "5261d9e121744f83b326bdea0a487aaf" },
};

const char *lb_audit_message_id(const char *type) {
        for (size_t i = 0; i < ELEMENTSOF(message_ids); i++)
                if (streq(message_ids[i].type, type))
                        return message_ids[i].id;
        return NULL;
}

static const char *str(json_t *ev, const char *k) {
        const char *s = json_string_value(json_object_get(ev, k));
        return s ? s : "";
}

static int add(struct iovec *iov, size_t *n, char *s) {
        if (!s)
                return -ENOMEM;
        iov[*n].iov_base = s;
        iov[*n].iov_len = strlen(s);
        (*n)++;
        return 0;
}

int lb_audit_to_journal(json_t *ev) {
        struct iovec iov[16];
        size_t n = 0;
        const char *type = str(ev, "type"), *mid = lb_audit_message_id(type);
        json_t *detail = json_object_get(ev, "detail");
        const char *state = json_string_value(json_object_get(detail, "state"));
        _cleanup_free_ char *canon = NULL;
        int r = 0;

        canon = lb_chain_canonical(ev, chain_omit);
        if (!canon)
                return -ENOMEM;
        if (add(iov, &n, lb_asprintf("MESSAGE=lockboxd: %s %s%s%s by %s (%s)", type,
                                     *str(ev, "request") ? str(ev, "request") : "-",
                                     *str(ev, "session") ? " " : "", str(ev, "session"),
                                     str(ev, "actor"), str(ev, "from"))) < 0 ||
            add(iov, &n, lb_asprintf("MESSAGE_ID=%s", mid ? mid : "")) < 0 ||
            add(iov, &n, strdup("PRIORITY=5")) < 0 ||
            add(iov, &n, strdup("SYSLOG_IDENTIFIER=lockboxd")) < 0 ||
            add(iov, &n, lb_asprintf("LOCKBOX_EVENT=%s", type)) < 0 ||
            add(iov, &n, lb_asprintf("LOCKBOX_SEQ=%" JSON_INTEGER_FORMAT,
                                     json_integer_value(json_object_get(ev, "seq")))) < 0 ||
            add(iov, &n, lb_asprintf("LOCKBOX_ACTOR=%s", str(ev, "actor"))) < 0 ||
            add(iov, &n, lb_asprintf("LOCKBOX_FROM=%s", str(ev, "from"))) < 0 ||
            add(iov, &n, lb_asprintf("LOCKBOX_HASH=%s", str(ev, "hash"))) < 0 ||
            add(iov, &n, lb_asprintf("LOCKBOX_EVENT_JSON=%s", canon)) < 0)
                r = -ENOMEM;
        if (r == 0 && *str(ev, "request"))
                r = add(iov, &n, lb_asprintf("LOCKBOX_REQUEST=%s", str(ev, "request")));
        if (r == 0 && *str(ev, "session"))
                r = add(iov, &n, lb_asprintf("LOCKBOX_SESSION=%s", str(ev, "session")));
        if (r == 0 && state)
                r = add(iov, &n, lb_asprintf("LOCKBOX_STATE=%s", state));
        if (r == 0)
                r = lb_journal_sendv(iov, n);
        for (size_t i = 0; i < n; i++)
                free(iov[i].iov_base);
        return r;
}

int lb_audit_to_auditd(json_t *ev) {
        _cleanup_free_ char *type_lc = strdup(str(ev, "type")), *actor = NULL, *msg = NULL;
        const char *req = str(ev, "request"), *ses = str(ev, "session");

        if (!type_lc)
                return -ENOMEM;
        for (char *p = type_lc; *p; p++)
                *p = (char) (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        actor = lb_audit_value(*str(ev, "actor") ? str(ev, "actor") : "?");
        if (!actor)
                return -ENOMEM;
        msg = lb_asprintf("op=lockbox-%s lockbox_seq=%" JSON_INTEGER_FORMAT
                          " lockbox_request=%s lockbox_session=%s lockbox_actor=%s",
                          type_lc, json_integer_value(json_object_get(ev, "seq")),
                          *req ? req : "?", *ses ? ses : "?", actor);
        if (!msg)
                return -ENOMEM;
        return lb_audit_user_message(AUDIT_USER, msg, NULL, NULL, NULL, true);
}
