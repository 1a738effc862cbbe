/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Broker answers as the host reads them (common/broker_client.c): the JSON
 * bodies of GET /v1/access, GET /v1/keys and POST /v1/sessions, from
 * whoever answers on the broker's socket. The first byte picks the decoder;
 * what a decoded answer feeds runs too: the texts pam_lockbox shows the
 * operator, the authorized_keys line lockbox-keys prints for sshd, and the
 * session record pam_lockbox writes for the recorder. Checks:
 *  - an "allow" carries a valid request id and time left;
 *  - every text for the operator is free of terminal controls;
 *  - a keys line has a 4-digit-year expiry-time no later than the broker's
 *    not_after and nothing after the key but the request id (no option or
 *    second key smuggled in);
 *  - the session record the recorder reads back says what PAM wrote. */
#include "config.h"

#include "broker_client.h"
#include "fuzz.h"
#include "keys_line.h"
#include "pam_lockbox.h"
#include "record-session.h"
#include "util.h"

#define NOW 1795341600 /* 2026-11-22T10:00:00Z, the unit tests' clock */
#define RECORDER "/usr/libexec/lockbox/lockbox-record"

static void check_text(char *s, const char *what) {
        long bad;

        FUZZ_CHECK(s, "no text for %s", what);
        bad = fuzz_term_unsafe(s, strlen(s), NULL);
        FUZZ_CHECK(bad < 0, "%s holds control byte 0x%02x: %s", what, (unsigned char) s[bad], s);
        free(s);
}

static void on_access(const char *json, size_t len) {
        struct lb_access a = {};

        if (lb_access_parse(json, len, &a) < 0)
                return;
        if (a.allow) {
                FUZZ_CHECK(a.remaining_s > 0, "allow with %lld s left", (long long) a.remaining_s);
                FUZZ_CHECK(lb_name_valid(a.request, 64), "allow with request id %s", a.request);
                check_text(lb_pam_msg_granted(&a), "the granted message");
        } else {
                check_text(lb_pam_msg_refused(&a), "the refused message");
                check_text(lb_pam_msg_hint(&a, "web1", "vendor"), "the hint");
        }
        lb_access_done(&a);
}

static void keys(const char *json, size_t len) {
        struct lb_keys k = {};

        if (lb_keys_parse(json, len, &k) < 0)
                return;
        for (size_t i = 0; i < k.n; i++) {
                const struct lb_key *key = &k.keys[i];
                _cleanup_free_ char *line = NULL;
                int64_t t;
                char *sp;

                if (lb_keys_expiry(key, NOW, &t) >= 0) {
                        FUZZ_CHECK(t > NOW, "expiry %lld not after now", (long long) t);
                        FUZZ_CHECK(t <= key->not_after || (key->not_after <= 0 && fuzz_ignore_known("expiry-cap")),
                                   "expiry %lld later than the broker's not_after %lld",
                                   (long long) t, (long long) key->not_after);
                }
                (void) lb_keys_match(key, key->fingerprint, NULL, NULL);
                if (lb_keys_format_line(key, RECORDER, NOW, &line) < 0)
                        continue;
                FUZZ_CHECK(!strpbrk(line, "\n\r"), "keys line holds a line break: %s", line);
                static const char head[] = "restrict,pty,expiry-time=\"";
                FUZZ_CHECK(strneq(line, head, sizeof(head) - 1), "keys line starts wrong: %s", line);
                const char *e = line + sizeof(head) - 1;
                for (int d = 0; d < 14; d++)
                        FUZZ_CHECK(e[d] >= '0' && e[d] <= '9', "expiry-time is not YYYYMMDDHHMMSS: %s", line);
                FUZZ_CHECK(strneq(e + 14, "Z\",command=\"" RECORDER "\" ", 13 + sizeof(RECORDER)),
                           "keys line options are not exactly ours: %s", line);
                /* then "type base64 lockbox:<request>" and nothing else */
                e += 14 + 13 + sizeof(RECORDER);
                sp = strchr(e, ' ');
                FUZZ_CHECK(sp && strchr(sp + 1, ' ') && !strchr(strchr(sp + 1, ' ') + 1, ' '),
                           "keys line has not 3 words after the options: %s", line);
                FUZZ_CHECK(strneq(strchr(sp + 1, ' ') + 1, "lockbox:", 8) &&
                                   streq(strchr(sp + 1, ' ') + 9, key->request),
                           "keys line comment is not the request: %s", line);
        }
        lb_keys_done(&k);
}

static void session(const char *json, size_t len) {
        struct lb_session s = {};
        struct lb_rec_session rs = {};
        _cleanup_free_ char *rec = NULL;

        if (lb_session_parse(json, len, &s) < 0)
                return;
        FUZZ_CHECK(lb_name_valid(s.session, 64) && lb_name_valid(s.request, 64),
                   "session answer with ids %s %s", s.session, s.request);
        FUZZ_CHECK(!s.allow || s.remaining_s > 0, "allow with no time left");
        if (s.allow)
                check_text(lb_pam_msg_session_opened(&s), "the session message");
        (void) lb_rec_reason_from_broker(s.state, s.reason);

        struct lb_pam_record r = { .session = &s, .user = "vendor", .host = "web1",
                                   .audit_session = 7, .sshd_pid = 1234, .mono_ms = 99,
                                   .created_at = NOW };
        if (lb_pam_record_format(&r, &rec) >= 0) {
                _cleanup_free_ char *ses = NULL;
                FUZZ_CHECK(lb_pam_record_parse_session(rec, strlen(rec), &ses) >= 0 &&
                                   streq(ses, s.session),
                           "PAM cannot read back its own record: %s", rec);
                if (lb_rec_session_parse(rec, strlen(rec), &rs) >= 0) {
                        FUZZ_CHECK(streq(rs.session, s.session) && streq(rs.request, s.request) &&
                                           rs.audit_session == 7 && rs.remaining_s == s.remaining_s,
                                   "the recorder reads another session record than PAM wrote: %s", rec);
                        lb_rec_session_done(&rs);
                }
        }
        lb_session_done(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        {
                /* /proc/self/sessionid as pam_lockbox reads it */
                _cleanup_free_ char *s = fuzz_strndup(data, size);
                uint32_t ses;
                if (lb_pam_parse_audit_session(s, &ses) >= 0)
                        FUZZ_CHECK(ses != UINT32_MAX, "the unset audit session taken as a session");
        }
        switch (data[0] % 3) {
        case 0:
                on_access((const char *) data + 1, size - 1);
                break;
        case 1:
                keys((const char *) data + 1, size - 1);
                break;
        case 2:
                session((const char *) data + 1, size - 1);
                break;
        }
        return 0;
}
