/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SSH_AUTH_INFO_0 and OpenSSH public keys (common/sshkey.c): the text sshd
 * exposes to PAM (ExposeAuthInfo), and public keys as operators register
 * them and as lockbox-keys compares them with sshd's %f %t %k. Checks:
 *  - a key found in SSH_AUTH_INFO_0 is normalized "type base64": one space,
 *    no control byte, a known type whose blob names the same type, and
 *    normalizing it again gives the same text;
 *  - its fingerprint is "SHA256:" and 43 base64 characters;
 *  - lb_keys_match accepts the key with its own fingerprint, type and base64
 *    and refuses another type. */
#include "config.h"

#include "fuzz.h"
#include "keys_line.h"
#include "sshkey.h"
#include "util.h"

static void check_key(const char *norm) {
        _cleanup_free_ char *again = NULL, *fp = NULL, *type = NULL;
        const char *sp = strchr(norm, ' ');

        FUZZ_CHECK(sp && !strchr(sp + 1, ' '), "normalized key is not two words: %s", norm);
        FUZZ_CHECK(fuzz_term_unsafe(norm, strlen(norm), NULL) < 0, "control byte in key: %s", norm);
        FUZZ_CHECK(lb_sshkey_normalize(norm, &again) >= 0 && streq(again, norm),
                   "normalizing is not stable: %s -> %s", norm, again ? again : "(error)");
        FUZZ_CHECK(lb_sshkey_fingerprint(norm, &fp) >= 0, "no fingerprint for %s", norm);
        FUZZ_CHECK(strneq(fp, "SHA256:", 7) && strlen(fp) == 7 + 43, "fingerprint %s", fp);

        type = strndup(norm, (size_t) (sp - norm));
        struct lb_key k = { .request = (char *) "r-1", .public_key = (char *) norm };
        FUZZ_CHECK(lb_keys_match(&k, fp, type, sp + 1), "key does not match itself: %s", norm);
        FUZZ_CHECK(lb_keys_match(&k, NULL, NULL, NULL), "key does not match an empty question");
        FUZZ_CHECK(!lb_keys_match(&k, NULL, streq(type, "ssh-rsa") ? "ssh-ed25519" : "ssh-rsa", NULL),
                   "key matches another type: %s", norm);
        FUZZ_CHECK(!lb_keys_match(&k, "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL),
                   "key matches another fingerprint: %s", norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size), *key = NULL, *norm = NULL;
        int r;

        /* as SSH_AUTH_INFO_0 */
        r = lb_authinfo_parse(s, &key);
        FUZZ_CHECK(r >= 0 || r == -ENOENT || r == -EBADMSG || r == -E2BIG || r == -ENOMEM,
                   "lb_authinfo_parse returned %d", r);
        if (r >= 0)
                check_key(key);

        /* as a public key line (what an operator registers) */
        if (lb_sshkey_normalize(s, &norm) >= 0)
                check_key(norm);
        return 0;
}
