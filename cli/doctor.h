/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* lockboxctl doctor: readers for the PAM stack and sshd settings, no network.
 * Everything takes a root directory ("" or NULL for /) so tests can build a
 * host in a temporary directory. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* One line of a PAM stack, with @include/include/substack expanded. */
struct lb_pam_line {
        char *control;   /* "required", "[success=1 default=ignore]", ... */
        char *module;    /* as written: "pam_lockbox.so" or a path */
        char *args;      /* the module arguments, space separated ("" for none) */
        char *file;      /* where it was read (without root) */
        unsigned line;
        bool substack;   /* read through "substack": its done/jumps stay inside */
};

struct lb_pam_stack {
        struct lb_pam_line *lines;
        size_t n;
};

void lb_pam_stack_done(struct lb_pam_stack *s);

/* Read the `type` lines (account, session, ...) of /etc/pam.d/<service> under
 * root. -ENOENT when the service file is missing; *ret_error names a file that
 * could not be read. */
int lb_pam_stack_load(const char *root, const char *service, const char *type,
                      struct lb_pam_stack *ret, char **ret_error);

/* Does the line have the argument `arg` (a whole word, e.g. "user_readenv=1")? */
bool lb_pam_line_has_arg(const struct lb_pam_line *l, const char *arg);

/* Is `user` allowed to use cron or at by its allow/deny files (under root)?
 * The rules of Debian's crontab(1) and at(1): when ALLOW exists only the
 * users listed there may; else the users listed in DENY may not; when neither
 * exists, `neither_allows` decides (cron: everyone may, at: only root). 1 refused,
 * 0 allowed, -errno when a file that exists cannot be read. */
int lb_allow_deny_refuses(const char *root, const char *allow, const char *deny, bool neither_allows,
                          const char *user);

/* Index of the first line whose module is `name` (basename), or -1. */
long lb_pam_stack_find(const struct lb_pam_stack *s, const char *name);

/* Why the line at `i` could be skipped by an earlier line ending the stack
 * with success (a "sufficient" module, "success=done", a jump over it):
 * NULL if it cannot be, else a malloc'd explanation. */
char *lb_pam_stack_skips(const struct lb_pam_stack *s, size_t i);

/* sshd settings as "keyword value" pairs, keywords lower case. */
struct lb_sshd_settings {
        char **keys;
        char **values;
        size_t n;
};

void lb_sshd_settings_done(struct lb_sshd_settings *s);

/* Parse `sshd -T` output. */
int lb_sshd_settings_parse_T(const char *text, struct lb_sshd_settings *ret);

/* Read an sshd_config file (and its Includes, under root) the way sshd does
 * for a user in `group` (or named `user`): the first value of each keyword
 * wins, global lines and those in a matching "Match User/Group" block apply.
 * Keywords never set get sshd's defaults for the settings doctor checks. */
int lb_sshd_settings_load(const char *root, const char *path, const char *user,
                          const char *group, struct lb_sshd_settings *ret, char **ret_error);

const char *lb_sshd_settings_get(const struct lb_sshd_settings *s, const char *key);

/* journald's Audit= as systemd reads it under root: journald.conf, then the
 * journald.conf.d drop-ins (/etc, /run, /usr/local/lib, /usr/lib; a name in
 * an earlier directory hides the same name in a later one) in file name
 * order, the last assignment in a [Journal] section winning. *ret: the
 * value (may be "", which leaves kernel audit alone), NULL when never set.
 * *ret_where: the file that set it. */
int lb_journald_audit_setting(const char *root, char **ret, char **ret_where);

/* ---- the recorder's needs: kernel features, binaries, its service user ---- */

/* A number as the kernel prints it in /proc/sys ("96551\n"). -EINVAL when
 * the text is not one number (with at most a trailing newline). */
int lb_doctor_parse_sysctl_u64(const char *text, uint64_t *ret);

/* The Seccomp: field of /proc/PID/status (0 none, 1 strict, 2 filter).
 * -ENOENT when the field is absent (a kernel without CONFIG_SECCOMP),
 * -EINVAL when its value is not a mode. */
int lb_doctor_status_seccomp(const char *status, unsigned *ret_mode);

/* Why `shell` (the host key) cannot be the operator's shell, malloc'd, or
 * NULL when it can: an absolute path to a regular file with an execute bit,
 * and not the recorder (the same path, or the same file as rec_st). st: its
 * stat(), NULL when stat failed with stat_errno; rec_st may be NULL. Whether
 * an operator may execute it is for the caller to try as that operator. */
char *lb_doctor_shell_problem(const char *shell, const struct stat *st, int stat_errno,
                              const char *recorder, const struct stat *rec_st);

/* Why the recorder binary with this stat() is not safe as every operator's
 * login shell, malloc'd, or NULL: a regular file owned by root, setuid, not
 * writable by group or others. (Whether operators may execute it is for the
 * caller to try as each of them.) */
char *lb_doctor_recorder_problem(const struct stat *st);

/* Which permission class of a socket (or file) with stat `st` applies to a
 * process of uid with these groups (its primary one among them), as the
 * kernel decides for a unix socket's connect() (write permission): "owner",
 * "group", "others"; and whether that class may write. root is not special
 * here. */
bool lb_doctor_socket_writable(const struct stat *st, uid_t uid, const gid_t *groups, size_t n_groups,
                               const char **ret_class);
