/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* OpenSSH public keys, as the broker and the host helpers see them. */

/* Validate "type base64 [comment]": a known key type whose blob decodes and
 * names the same type. *ret gets the normalized "type base64" (no comment). */
int lb_sshkey_normalize(const char *line, char **ret);
/* "SHA256:<base64 without padding>" of the key blob, as sshd's %f prints it. */
int lb_sshkey_fingerprint(const char *key, char **ret);

/* SSH_AUTH_INFO_0 as sshd sets it with ExposeAuthInfo: one method per line,
 * "publickey <type> <base64>" for key logins. Returns the normalized key of
 * the *last* publickey line (the one that completed authentication), -ENOENT
 * when there is none (password, keyboard-interactive, empty), -EBADMSG when a
 * publickey line is malformed, -E2BIG past 64 KiB. */
int lb_authinfo_parse(const char *info, char **ret_key);
