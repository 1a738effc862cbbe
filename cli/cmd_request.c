/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl commands about requests: request, list, show, pending, approve,
 * deny, revoke, withdraw, complete. */
#include "config.h"

#include <getopt.h>

#include "args.h"
#include "ctl.h"
#include "display.h"
#include "reqview.h"
#include "timeutil.h"
#include "util.h"

static bool want_help(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        return false;
                if (streq(argv[i], "-h") || streq(argv[i], "--help"))
                        return true;
        }
        return false;
}

#define bad_option(cmd) lb_ctl_bad_option((cmd), argv)

static int out_of_memory(const char *cmd) {
        return lb_ctl_error("%s: out of memory", cmd);
}

/* Text options go to the broker as given, which checks limits and names the
 * field; only what JSON cannot carry (invalid UTF-8) is refused here. */
static int set_text(json_t *body, const char *cmd, const char *key, const char *value) {
        json_t *v;

        if (!lb_utf8_valid(value, strlen(value))) {
                lb_ctl_usage_error(cmd, "--%s is not valid UTF-8", key);
                return LB_EXIT_USAGE;
        }
        v = json_string(value);
        if (!v || json_object_set_new(body, key, v) < 0)
                return out_of_memory(cmd);
        return 0;
}

/* ---- request ---- */

static const char request_help[] =
        "Usage: lockboxctl request --host H [--host H2] --user U --reason TEXT --ticket T\n"
        "                          [--duration 2h] [--approvals N]\n"
        "\n"
        "Ask for access to the account U on host H (operators). Customer approvers\n"
        "are notified; the access clock starts when the request is approved.\n"
        "\n"
        "  --host H        a target host (repeat for several)\n"
        "  --user U        the local account on the host\n"
        "  --reason TEXT   why (shown to approvers; up to 4096 bytes)\n"
        "  --ticket T      the ticket or case reference (up to 256 bytes)\n"
        "  --duration D    how long access should last once approved: 2h, 90m, 1h30m\n"
        "                  (the broker caps it at its max_duration; default its default)\n"
        "  --approvals N   ask for N approvals (the broker's minimum still applies)\n";

int lb_cmd_request(struct lb_ctl *ctl, int argc, char **argv) {
        static const struct option options[] = {
                { "host",      required_argument, NULL, 'H' },
                { "user",      required_argument, NULL, 'u' },
                { "reason",    required_argument, NULL, 'r' },
                { "ticket",    required_argument, NULL, 't' },
                { "duration",  required_argument, NULL, 'd' },
                { "approvals", required_argument, NULL, 'a' },
                { "help",      no_argument,       NULL, 'h' },
                {}
        };
        json_auto_t *body = json_object(), *hosts = json_array(), *j = NULL;
        const char *user = NULL, *reason = NULL, *ticket = NULL;
        uint64_t duration = 0;
        int approvals = 0, c, r;

        if (!body || !hosts)
                return out_of_memory("request");
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'H':
                        if (!lb_utf8_valid(optarg, strlen(optarg)))
                                return lb_ctl_usage_error("request", "--host is not valid UTF-8");
                        if (json_array_append_new(hosts, json_string(optarg)) < 0)
                                return out_of_memory("request");
                        break;
                case 'u': user = optarg; break;
                case 'r': reason = optarg; break;
                case 't': ticket = optarg; break;
                case 'd':
                        if (lb_ctl_parse_duration(optarg, &duration) < 0) {
                                _cleanup_free_ char *s = lb_ctl_safe(optarg);
                                return lb_ctl_usage_error("request", "--duration wants a duration such as 2h, 90m or 1h30m, not '%s'",
                                                          strna(s));
                        }
                        break;
                case 'a':
                        if (lb_ctl_parse_approvals(optarg, &approvals) < 0) {
                                _cleanup_free_ char *s = lb_ctl_safe(optarg);
                                return lb_ctl_usage_error("request", "--approvals wants a number from 1 to 100, not '%s'",
                                                          strna(s));
                        }
                        break;
                case 'h': fputs(request_help, stdout); return LB_EXIT_OK;
                default: return bad_option("request");
                }
        }
        if (optind < argc) {
                _cleanup_free_ char *s = lb_ctl_safe(argv[optind]);
                return lb_ctl_usage_error("request", "unexpected argument '%s'", strna(s));
        }
        if (json_array_size(hosts) == 0)
                return lb_ctl_usage_error("request", "--host is required");
        if (!user)
                return lb_ctl_usage_error("request", "--user is required");
        if (!reason)
                return lb_ctl_usage_error("request", "--reason is required");
        if (!ticket)
                return lb_ctl_usage_error("request", "--ticket is required");

        if ((r = set_text(body, "request", "user", user)) != 0 ||
            (r = set_text(body, "request", "reason", reason)) != 0 ||
            (r = set_text(body, "request", "ticket", ticket)) != 0)
                return r;
        if (json_object_set(body, "hosts", hosts) < 0 ||
            (duration > 0 && json_object_set_new(body, "duration_s", json_integer((json_int_t) duration)) < 0) ||
            (approvals > 0 && json_object_set_new(body, "approvals_required", json_integer(approvals)) < 0))
                return out_of_memory("request");

        r = lb_ctl_call(ctl, "request", "POST", "/v1/requests", body, &j);
        if (r != 0)
                return r;
        if (ctl->json)
                return lb_ctl_print_json(j);
        return lb_reqview_created(j, lb_now_s(), stdout) < 0 ? out_of_memory("request") : LB_EXIT_OK;
}

/* ---- list, pending ---- */

static const char list_help[] =
        "Usage: lockboxctl list [--state S] [--operator P] [--host H] [--approver P]\n"
        "\n"
        "List requests, newest first (operators see their own).\n"
        "\n"
        "  --state S      pending, approved, denied, expired, withdrawn, revoked, completed\n"
        "  --operator P   requests of this operator\n"
        "  --host H       requests for this host\n"
        "  --approver P   requests this principal may approve\n";

static int list_requests(struct lb_ctl *ctl, const char *what, const char *path, const char *skip_approved_by) {
        json_auto_t *j = NULL;
        json_t *list;
        int r;

        r = lb_ctl_call(ctl, what, "GET", path, NULL, &j);
        if (r != 0)
                return r;
        list = json_object_get(j, "requests");
        if (!json_is_array(list))
                return lb_ctl_error("%s: the broker's answer has no \"requests\" list", what);
        if (skip_approved_by) {
                /* pending: leave out what the caller already approved (waiting for others) */
                size_t i = 0;
                while (i < json_array_size(list)) {
                        if (lb_reqview_approved_by(json_array_get(list, i), skip_approved_by))
                                json_array_remove(list, i);
                        else
                                i++;
                }
        }
        if (ctl->json)
                return lb_ctl_print_json(j);
        if (json_array_size(list) == 0) {
                printf("No requests.\n");
                return LB_EXIT_OK;
        }
        return lb_reqview_table(list, lb_now_s(), stdout) < 0 ? out_of_memory(what) : LB_EXIT_OK;
}

int lb_cmd_list(struct lb_ctl *ctl, int argc, char **argv) {
        static const struct option options[] = {
                { "state",    required_argument, NULL, 's' },
                { "operator", required_argument, NULL, 'o' },
                { "host",     required_argument, NULL, 'H' },
                { "approver", required_argument, NULL, 'a' },
                { "help",     no_argument,       NULL, 'h' },
                {}
        };
        const char *state = NULL, *operator_ = NULL, *host = NULL, *approver = NULL;
        _cleanup_free_ char *path = strdup("/v1/requests");
        int c;

        if (!path)
                return out_of_memory("list");
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 's':
                        if (!lb_ctl_state_valid(optarg)) {
                                _cleanup_free_ char *s = lb_ctl_safe(optarg);
                                return lb_ctl_usage_error("list", "--state: '%s' is not a state (pending, approved, denied, expired, withdrawn, revoked, completed)",
                                                          strna(s));
                        }
                        state = optarg;
                        break;
                case 'o': operator_ = optarg; break;
                case 'H': host = optarg; break;
                case 'a': approver = optarg; break;
                case 'h': fputs(list_help, stdout); return LB_EXIT_OK;
                default: return bad_option("list");
                }
        }
        if (optind < argc)
                return lb_ctl_usage_error("list", "takes no arguments besides its options");
        if (lb_ctl_query_add(&path, "state", state) < 0 ||
            lb_ctl_query_add(&path, "operator", operator_) < 0 ||
            lb_ctl_query_add(&path, "host", host) < 0 ||
            lb_ctl_query_add(&path, "approver", approver) < 0)
                return out_of_memory("list");
        return list_requests(ctl, "list", path, NULL);
}

static const char pending_help[] =
        "Usage: lockboxctl pending [--as PRINCIPAL]\n"
        "\n"
        "Pending requests you may approve and have not approved yet (approvers).\n"
        "On the unix socket you are your local user; over https, name yourself with\n"
        "--as (or LOCKBOX_PRINCIPAL), else every pending request you can see is listed.\n";

int lb_cmd_pending(struct lb_ctl *ctl, int argc, char **argv) {
        static const struct option options[] = {
                { "as",   required_argument, NULL, 'a' },
                { "help", no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_free_ char *path = strdup("/v1/requests?state=pending");
        const char *me = getenv("LOCKBOX_PRINCIPAL");
        int c;

        if (!path)
                return out_of_memory("pending");
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'a': me = optarg; break;
                case 'h': fputs(pending_help, stdout); return LB_EXIT_OK;
                default: return bad_option("pending");
                }
        }
        if (optind < argc)
                return lb_ctl_usage_error("pending", "takes no arguments besides its options");
        if (isempty(me) && strneq(ctl->broker_url, "unix:", 5))
                me = lb_ctl_local_user();
        if (isempty(me))
                me = NULL;
        if (lb_ctl_query_add(&path, "approver", me) < 0)
                return out_of_memory("pending");
        return list_requests(ctl, "pending", path, me);
}

/* ---- show ---- */

int lb_cmd_show(struct lb_ctl *ctl, int argc, char **argv) {
        _cleanup_free_ char *path = NULL, *what = NULL;
        json_auto_t *j = NULL;
        int r;

        if (want_help(argc, argv)) {
                puts("Usage: lockboxctl show ID\n\nEverything about one request: state, times, approvals, end.");
                return LB_EXIT_OK;
        }
        if (argc != 2)
                return lb_ctl_usage_error("show", "wants exactly one request id");
        r = lb_ctl_check_id("show", argv[1]);
        if (r != 0)
                return r;
        path = lb_asprintf("/v1/requests/%s", argv[1]);
        what = lb_asprintf("show %s", argv[1]);
        if (!path || !what)
                return out_of_memory("show");
        r = lb_ctl_call(ctl, what, "GET", path, NULL, &j);
        if (r != 0)
                return r;
        if (ctl->json)
                return lb_ctl_print_json(j);
        return lb_reqview_show(j, lb_now_s(), stdout) < 0 ? out_of_memory("show") : LB_EXIT_OK;
}

/* ---- approve, deny, revoke, withdraw, complete ---- */

struct action {
        const char *name;       /* command and API path */
        const char *text_key;   /* "comment", "reason" or NULL */
        bool text_required;
        const char *help;
};

static const struct action actions[] = {
        { "approve", "comment", false,
          "Usage: lockboxctl approve ID [--comment C]\n\n"
          "Approve a pending request (eligible approvers; never your own). Access\n"
          "starts when the last approval needed arrives.\n" },
        { "deny", "reason", true,
          "Usage: lockboxctl deny ID --reason R\n\n"
          "Deny a pending request (eligible approvers). It ends the request.\n" },
        { "revoke", "reason", true,
          "Usage: lockboxctl revoke ID --reason R\n\n"
          "End an approved request now (approvers, admins); open sessions are ended.\n" },
        { "withdraw", NULL, false,
          "Usage: lockboxctl withdraw ID\n\n"
          "Withdraw your own pending request.\n" },
        { "complete", NULL, false,
          "Usage: lockboxctl complete ID\n\n"
          "Say you are done with your own approved request; access ends now.\n" },
};

static int run_action(struct lb_ctl *ctl, const struct action *a, int argc, char **argv) {
        struct option options[] = {
                { a->text_key ? a->text_key : "help", a->text_key ? required_argument : no_argument,
                  NULL, a->text_key ? 't' : 'h' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        json_auto_t *body = json_object(), *j = NULL;
        _cleanup_free_ char *path = NULL, *what = NULL;
        const char *text = NULL;
        int c, r;

        if (!body)
                return out_of_memory(a->name);
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 't': text = optarg; break;
                case 'h': fputs(a->help, stdout); return LB_EXIT_OK;
                default: return bad_option(a->name);
                }
        }
        if (optind + 1 != argc)
                return lb_ctl_usage_error(a->name, "wants exactly one request id");
        r = lb_ctl_check_id(a->name, argv[optind]);
        if (r != 0)
                return r;
        if (a->text_required && !text)
                return lb_ctl_usage_error(a->name, "--%s is required", a->text_key);
        if (text && (r = set_text(body, a->name, a->text_key, text)) != 0)
                return r;

        path = lb_asprintf("/v1/requests/%s/%s", argv[optind], a->name);
        what = lb_asprintf("%s %s", a->name, argv[optind]);
        if (!path || !what)
                return out_of_memory(a->name);
        r = lb_ctl_call(ctl, what, "POST", path, body, &j);
        if (r != 0)
                return r;
        if (ctl->json)
                return lb_ctl_print_json(j);
        return lb_reqview_after(j, a->name, lb_now_s(), stdout) < 0 ? out_of_memory(a->name) : LB_EXIT_OK;
}

static int action_by_name(struct lb_ctl *ctl, const char *name, int argc, char **argv) {
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (streq(actions[i].name, name))
                        return run_action(ctl, &actions[i], argc, argv);
        return lb_ctl_error("%s: no such action", name);
}

int lb_cmd_approve(struct lb_ctl *ctl, int argc, char **argv) {
        return action_by_name(ctl, "approve", argc, argv);
}
int lb_cmd_deny(struct lb_ctl *ctl, int argc, char **argv) {
        return action_by_name(ctl, "deny", argc, argv);
}
int lb_cmd_revoke(struct lb_ctl *ctl, int argc, char **argv) {
        return action_by_name(ctl, "revoke", argc, argv);
}
int lb_cmd_withdraw(struct lb_ctl *ctl, int argc, char **argv) {
        return action_by_name(ctl, "withdraw", argc, argv);
}
int lb_cmd_complete(struct lb_ctl *ctl, int argc, char **argv) {
        return action_by_name(ctl, "complete", argc, argv);
}
