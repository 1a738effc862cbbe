/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl: the command line of the broker, for operators, approvers,
 * auditors and administrators. main() only parses the global options,
 * sets up the broker client and dispatches; each command lives in cmd_*.c. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "args.h"
#include "ctl.h"
#include "display.h"
#include "http.h"
#include "util.h"

struct command {
        const char *name;
        int (*run)(struct lb_ctl *ctl, int argc, char **argv);
        bool needs_broker;
        const char *synopsis;
};

static const struct command commands[] = {
        { "request",  lb_cmd_request,  true,  "request --host H [--host H2] --user U --reason TEXT --ticket T [--duration 2h] [--approvals N]" },
        { "list",     lb_cmd_list,     true,  "list [--state S] [--operator P] [--host H]" },
        { "show",     lb_cmd_show,     true,  "show ID" },
        { "pending",  lb_cmd_pending,  true,  "pending [--as PRINCIPAL]" },
        { "approve",  lb_cmd_approve,  true,  "approve ID [--comment C]" },
        { "deny",     lb_cmd_deny,     true,  "deny ID --reason R" },
        { "revoke",   lb_cmd_revoke,   true,  "revoke ID --reason R" },
        { "withdraw", lb_cmd_withdraw, true,  "withdraw ID" },
        { "complete", lb_cmd_complete, true,  "complete ID" },
        { "connect",  lb_cmd_connect,  true,  "connect ID [-- SSH_ARGS]" },
        { "audit",    lb_cmd_audit,    true,  "audit [--request ID] [--since SEQ] [--verify]" },
        { "token",    lb_cmd_token,    true,  "token create --principal P --role R [--host H] [-o FILE] | token list | token revoke ID" },
        { "health",   lb_cmd_health,   true,  "health" },
        { "doctor",   lb_cmd_doctor,   false, "doctor" },
};

static void help(FILE *f) {
        fputs("Usage: lockboxctl [OPTIONS] COMMAND [ARGS]\n"
              "\n"
              "Ask for, approve and audit vendor access to Linux hosts (Lockbox).\n"
              "\n"
              "Options:\n"
              "  --broker unix:PATH|https://HOST:PORT  the broker (default " LB_CTL_DEFAULT_BROKER ";\n"
              "                                        env LOCKBOX_BROKER)\n"
              "  --token-file FILE   bearer token for https (env LOCKBOX_TOKEN_FILE)\n"
              "  --ca-file FILE      CA certificates that sign the broker's certificate\n"
              "  --json              print the broker's JSON answers, for scripts\n"
              "  --timeout MS        deadline of each broker call (default 10000)\n"
              "  -h, --help          this help\n"
              "  --version           the version\n"
              "\n"
              "Commands:\n", f);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %s\n", commands[i].synopsis);
        fputs("\n'lockboxctl COMMAND --help' describes one command. See lockboxctl(1).\n"
              "Exit status: 0 success, 1 refusal or failure, 2 usage error.\n", f);
}

int main(int argc, char **argv) {
        enum { OPT_BROKER = 0x100, OPT_TOKEN_FILE, OPT_CA_FILE, OPT_JSON, OPT_TIMEOUT, OPT_VERSION };
        static const struct option options[] = {
                { "broker",     required_argument, NULL, OPT_BROKER },
                { "token-file", required_argument, NULL, OPT_TOKEN_FILE },
                { "ca-file",    required_argument, NULL, OPT_CA_FILE },
                { "json",       no_argument,       NULL, OPT_JSON },
                { "timeout",    required_argument, NULL, OPT_TIMEOUT },
                { "help",       no_argument,       NULL, 'h' },
                { "version",    no_argument,       NULL, OPT_VERSION },
                {}
        };
        struct lb_ctl ctl = {
                .broker_url = getenv("LOCKBOX_BROKER"),
                .token_file = getenv("LOCKBOX_TOKEN_FILE"),
                .timeout_ms = LB_CTL_DEFAULT_TIMEOUT_MS,
        };
        _cleanup_free_ char *token = NULL;
        const struct command *cmd = NULL;
        int c, r, timeout;

        if (isempty(ctl.broker_url))
                ctl.broker_url = LB_CTL_DEFAULT_BROKER;
        if (isempty(ctl.token_file))
                ctl.token_file = NULL;

        /* "+": stop at the command; its options are its own. Errors are ours
         * (term-safe), not getopt's. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_BROKER:
                        ctl.broker_url = optarg;
                        break;
                case OPT_TOKEN_FILE:
                        ctl.token_file = optarg;
                        break;
                case OPT_CA_FILE:
                        ctl.ca_file = optarg;
                        break;
                case OPT_JSON:
                        ctl.json = true;
                        break;
                case OPT_TIMEOUT:
                        if (lb_parse_int(optarg, 1, 3600 * 1000, &timeout) < 0) {
                                _cleanup_free_ char *s = lb_ctl_safe(optarg);
                                return lb_ctl_usage_error(NULL, "--timeout wants milliseconds (1..3600000), not '%s'",
                                                          strna(s));
                        }
                        ctl.timeout_ms = (unsigned) timeout;
                        break;
                case 'h':
                        help(stdout);
                        return LB_EXIT_OK;
                case OPT_VERSION:
                        printf("lockboxctl %s\n", PACKAGE_VERSION);
                        return LB_EXIT_OK;
                default:
                        return lb_ctl_bad_option(NULL, argv);
                }
        }
        if (optind >= argc) {
                help(stderr);
                return LB_EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[optind], commands[i].name))
                        cmd = &commands[i];
        if (!cmd) {
                _cleanup_free_ char *s = lb_ctl_safe(argv[optind]);
                return lb_ctl_usage_error(NULL, "unknown command '%s'", strna(s));
        }

        if (!lb_ctl_broker_valid(ctl.broker_url)) {
                _cleanup_free_ char *s = lb_ctl_safe(ctl.broker_url);
                return lb_ctl_usage_error(NULL, "--broker wants unix:/PATH or https://HOST:PORT, not '%s'",
                                          strna(s));
        }
        if (cmd->needs_broker && ctl.token_file) {
                r = lb_http_read_token(ctl.token_file, &token);
                if (r < 0) {
                        _cleanup_free_ char *s = lb_ctl_safe(ctl.token_file);
                        return lb_ctl_error("cannot read token file %s: %s%s", strna(s), strerror(-r),
                                            r == -EPERM ? " (it must not be readable by others)" : "");
                }
        }
        r = lb_broker_init_base(&ctl.broker, ctl.broker_url, token, ctl.ca_file, ctl.timeout_ms);
        if (token)
                lb_explicit_bzero(token, strlen(token));
        if (r < 0)
                return lb_ctl_error("cannot set up the broker client: %s", strerror(-r));

        /* the command sees argv[0] = its name; reset getopt for it */
        int first = optind;
        optind = 0;
        opterr = 1;
        r = cmd->run(&ctl, argc - first, argv + first);
        lb_broker_done(&ctl.broker);
        return r;
}
