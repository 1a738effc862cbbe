/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* lockboxctl: what every command sees. main() (lockboxctl.c) parses the global
 * options, connects the broker client and calls one lb_cmd_NAME() with
 * argv[0] = the command's name. Commands return the process exit status:
 * LB_EXIT_OK, LB_EXIT_FAILURE (a refusal or failure, explained on stderr) or
 * LB_EXIT_USAGE. */

#include <stdbool.h>

#include <jansson.h>

#include "broker_client.h"
#include "macro.h"

#define LB_EXIT_OK 0
#define LB_EXIT_FAILURE 1
#define LB_EXIT_USAGE 2

#define LB_CTL_DEFAULT_BROKER "unix:" RUNSTATEDIR "/lockbox/lockboxd.sock"
#define LB_CTL_DEFAULT_TIMEOUT_MS 10000

struct lb_ctl {
        struct lb_broker broker;   /* connected to ctl->broker_url */
        const char *broker_url;    /* "unix:/path" or "https://host:port" */
        const char *token_file;    /* NULL: no bearer token */
        const char *ca_file;       /* NULL: the system's CAs */
        unsigned timeout_ms;
        bool json;                 /* --json: print the broker's JSON for scripts */
};

/* One function per command; argv[0] is the command name, options follow. */
int lb_cmd_request(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_list(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_show(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_pending(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_approve(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_deny(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_revoke(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_withdraw(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_complete(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_connect(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_audit(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_token(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_health(struct lb_ctl *ctl, int argc, char **argv);
int lb_cmd_doctor(struct lb_ctl *ctl, int argc, char **argv);

/* Helpers shared by the commands (ctl.c). */

/* "lockboxctl: " + message on stderr. Strings that came from a request, the
 * broker or the command line must be passed through lb_ctl_safe() (display.h)
 * first. Returns LB_EXIT_FAILURE. */
int lb_ctl_error(const char *fmt, ...) _printf_(1, 2);
/* Usage error: message, "Try 'lockboxctl CMD --help'". Returns LB_EXIT_USAGE. */
int lb_ctl_usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);

/* Call the broker. On success *ret_json (if given) gets the answer object and
 * 0 is returned. On failure prints "lockboxctl: WHAT: error: detail" (all
 * term-safe) and returns LB_EXIT_FAILURE. what is e.g. "approve r-1a2b..." and
 * is made term-safe here too. body may be NULL. */
int lb_ctl_call(struct lb_ctl *ctl, const char *what, const char *method, const char *path,
                json_t *body, json_t **ret_json);

/* After getopt_long() returned '?' or ':' (with opterr = 0): names the
 * offending argument (term-safe). Returns LB_EXIT_USAGE. */
int lb_ctl_bad_option(const char *cmd, char **argv);

/* Pretty JSON of the broker's answer on stdout (for --json). */
int lb_ctl_print_json(json_t *j);

/* An id the broker made (requests, tokens): [A-Za-z0-9._@+-]{1,64}. Prints a
 * usage error naming cmd when it is not one. Returns 0 or LB_EXIT_USAGE. */
int lb_ctl_check_id(const char *cmd, const char *id);

/* The caller's local user name (for the unix socket), or NULL. Static storage. */
const char *lb_ctl_local_user(void);
