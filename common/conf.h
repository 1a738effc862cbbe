/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Configuration files are "key = value" lines; '#' starts a comment line.
 * Values may be wrapped in double quotes. The same setter serves the file and
 * PAM module arguments (key=value): defaults, then the file, then arguments. */

/* Pure: parse one line. Returns 1 and sets *ret_key and *ret_value (malloc'd) for
 * a setting, 0 for a blank or comment line, -EINVAL for a malformed one. */
int lb_conf_parse_line(const char *line, char **ret_key, char **ret_value);

/* Called for every setting. Return 0 to accept, -ENOENT for an unknown key,
 * another -errno for a bad value. */
typedef int (*lb_conf_setter_t)(void *userdata, const char *key, const char *value);
/* Called for every problem found while loading (unknown key, bad value, bad
 * line). Not fatal unless the caller decides so. */
typedef void (*lb_conf_report_t)(void *userdata, const char *path, unsigned line,
                                  const char *key, int error);

/* Parse a file. A missing file returns -ENOENT without calling anything.
 * Returns the number of problems reported (>= 0) or -errno on I/O errors. */
int lb_conf_load_file(const char *path, lb_conf_setter_t set, void *set_data,
                      lb_conf_report_t report, void *report_data);

/* ---- host configuration (/etc/lockbox/lockbox.conf, PAM arguments) -------- */

#define LB_HOST_CONF_PATH LOCKBOX_CONFDIR "/lockbox.conf"

struct lb_host_conf {
        char *broker;         /* "unix:/run/lockbox/lockboxd.sock" or "https://host:port" */
        char *token_file;     /* bearer token for TCP */
        char *ca_file;        /* CA bundle for the broker's TLS certificate */
        char *host_name;      /* this host as the broker knows it (default: hostname) */
        char *operator_group; /* managed accounts: members of this group ... */
        char **operators;     /* ... and these accounts */
        char **ssh_services;  /* the PAM service names of the recorded sshd login */
        unsigned timeout_ms;  /* one deadline for all network work */
        char *recorder;       /* path of lockbox-record (a managed account's login shell) */
        char *shell;          /* the shell the recorder runs for the operator */
        char *spool_dir;      /* recorder spool */
        char *state_dir;      /* pam_lockbox -> recorder session records */
        char *record_user;    /* the recorder's service user */
        char *no_key_login;   /* what a managed login without a per-session key gets: "deny" */
        bool allow_sftp;      /* sftp for operators (recorded as a subsystem) */
        uint64_t output_cap;  /* non-interactive command: bytes recorded per stream */
        bool debug;
};

void lb_host_conf_init(struct lb_host_conf *c);
void lb_host_conf_done(struct lb_host_conf *c);
int lb_host_conf_set(void *conf, const char *key, const char *value);
/* Defaults, then `path` (NULL: LB_HOST_CONF_PATH; a missing default file is
 * fine only if `required` is false). */
int lb_host_conf_load(struct lb_host_conf *c, const char *path, bool required,
                      lb_conf_report_t report, void *userdata);
/* This host's name as the broker knows it: host_name, else gethostname().
 * -EINVAL when the result is not a valid name. */
int lb_host_conf_host_name(const struct lb_host_conf *c, char **ret);
/* Is `user` managed (member of operator_group or listed in operators)?
 * 1 yes, 0 no, <0 lookup error (callers treat as managed: fail closed). */
int lb_host_conf_is_managed(const struct lb_host_conf *c, const char *user);
