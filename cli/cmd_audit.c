/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl audit: the broker's audit trail, and a client-side check of its
 * hash chain (--verify). */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>

#include "args.h"
#include "auditchain.h"
#include "ctl.h"
#include "display.h"
#include "timeutil.h"
#include "util.h"

#define AUDIT_PAGE 1000

static const char audit_help[] =
        "Usage: lockboxctl audit [--request ID] [--since SEQ] [--limit N]\n"
        "       lockboxctl audit --verify\n"
        "\n"
        "Show the broker's audit trail (auditors, approvers, admins).\n"
        "\n"
        "  --request ID   only the events of this request\n"
        "  --since SEQ    only events after sequence number SEQ\n"
        "  --limit N      at most N events\n"
        "  --verify       fetch the whole trail and recompute its hash chain here:\n"
        "                 says OK, or names the first gap or break (exit status 1)\n";

static int print_events(json_t *events, int64_t now) {
        static const char *const headers[] = {
                "SEQ", "TIME", "TYPE", "REQUEST", "SESSION", "ACTOR", "ROLE", "FROM", "DETAIL"
        };
        _cleanup_table_ struct lb_table *t = lb_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        json_t *e;

        if (!t)
                return -ENOMEM;
        lb_table_set_max(t, 7, 24);
        lb_table_set_max(t, 8, 80);
        json_array_foreach(events, i, e) {
                _cleanup_free_ char *seq = NULL, *detail = NULL;
                char when[LB_CTL_TIME_LEN];
                const char *ts = json_string_value(json_object_get(e, "time"));
                json_t *d = json_object_get(e, "detail");
                int64_t tt;

                seq = json_is_integer(json_object_get(e, "seq"))
                              ? lb_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(e, "seq")))
                              : strdup("?");
                if (d && !json_is_null(d))
                        detail = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
                const char *cells[] = {
                        seq,
                        ts && lb_time_parse(ts, &tt) >= 0 ? lb_ctl_time(tt, true, when, sizeof(when)) : ts,
                        json_string_value(json_object_get(e, "type")),
                        json_string_value(json_object_get(e, "request")),
                        json_string_value(json_object_get(e, "session")),
                        json_string_value(json_object_get(e, "actor")),
                        json_string_value(json_object_get(e, "role")),
                        json_string_value(json_object_get(e, "from")),
                        detail,
                };
                if (!seq || lb_table_add(t, cells) < 0)
                        return -ENOMEM;
        }
        return lb_table_print(t, stdout);
}

static int verify(struct lb_ctl *ctl) {
        _cleanup_(lb_audit_verifier_done) struct lb_audit_verifier v;
        json_auto_t *head = NULL;
        const char *env = getenv("LOCKBOX_AUDIT_PAGE");
        uint64_t page = AUDIT_PAGE;
        int r;

        /* the page size of the walk (tests use small pages to see it join them) */
        if (env && (lb_parse_u64(env, AUDIT_PAGE, &page) < 0 || page == 0))
                page = AUDIT_PAGE;

        lb_audit_verifier_init(&v);
        for (;;) {
                _cleanup_free_ char *path = strdup("/v1/audit");
                json_auto_t *j = NULL;
                json_t *events, *e;
                uint64_t before = v.last_seq;
                size_t i;

                if (!path || lb_ctl_query_add_u64(&path, "since", v.last_seq) < 0 ||
                    lb_ctl_query_add_u64(&path, "limit", page) < 0)
                        return lb_ctl_error("audit: out of memory");
                r = lb_ctl_call(ctl, "audit --verify", "GET", path, NULL, &j);
                if (r != 0)
                        return r;
                events = json_object_get(j, "events");
                if (!json_is_array(events))
                        return lb_ctl_error("audit --verify: the broker's answer has no \"events\" list");
                json_decref(head);
                head = json_incref(json_object_get(j, "head"));
                json_array_foreach(events, i, e) {
                        json_t *s = json_object_get(e, "seq");
                        /* "since" may include the event it names: skip what we checked */
                        if (i == 0 && before > 0 && json_is_integer(s) &&
                            (uint64_t) json_integer_value(s) == before)
                                continue;
                        r = lb_audit_verify_event(&v, e);
                        if (r == -ENOMEM)
                                return lb_ctl_error("audit: out of memory");
                        if (r < 0)
                                goto done;
                }
                if (v.last_seq == before)
                        break; /* nothing new: the end */
                if (json_is_integer(json_object_get(head, "seq")) &&
                    (uint64_t) json_integer_value(json_object_get(head, "seq")) <= v.last_seq)
                        break;
        }
        r = lb_audit_verify_head(&v, head);
        if (r == -ENOMEM)
                return lb_ctl_error("audit: out of memory");
done:
        if (ctl->json) {
                json_auto_t *o = json_pack("{s:b, s:I, s:I, s:s?, s:s?}", "ok", !v.problem, "events",
                                           (json_int_t) v.count, "last_seq", (json_int_t) v.last_seq,
                                           "last_hash", v.count > 0 ? v.last_hash : NULL,
                                           "problem", v.problem);
                if (!o)
                        return lb_ctl_error("audit: out of memory");
                r = lb_ctl_print_json(o);
                return r != 0 ? r : v.problem ? LB_EXIT_FAILURE : LB_EXIT_OK;
        }
        if (v.problem) {
                _cleanup_free_ char *p = lb_ctl_safe(v.problem);
                printf("FAILED: %s\n", strna(p));
                return lb_ctl_error("audit --verify: the audit trail does not verify: %s", strna(p));
        }
        printf("OK: %" PRIu64 " events, seq 1..%" PRIu64 ", chain intact; head %s\n", v.count, v.last_seq,
               v.count > 0 ? v.last_hash : LB_CHAIN_ZERO);
        return LB_EXIT_OK;
}

int lb_cmd_audit(struct lb_ctl *ctl, int argc, char **argv) {
        static const struct option options[] = {
                { "request", required_argument, NULL, 'r' },
                { "since",   required_argument, NULL, 's' },
                { "limit",   required_argument, NULL, 'l' },
                { "verify",  no_argument,       NULL, 'v' },
                { "help",    no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_free_ char *path = strdup("/v1/audit");
        const char *request = NULL;
        uint64_t since = 0, limit = 0;
        bool has_since = false, do_verify = false;
        json_auto_t *j = NULL;
        json_t *events;
        int c, r;

        if (!path)
                return lb_ctl_error("audit: out of memory");
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        r = lb_ctl_check_id("audit", optarg);
                        if (r != 0)
                                return r;
                        request = optarg;
                        break;
                case 's':
                        if (lb_parse_u64(optarg, INT64_MAX, &since) < 0) {
                                _cleanup_free_ char *s = lb_ctl_safe(optarg);
                                return lb_ctl_usage_error("audit", "--since wants a sequence number, not '%s'", strna(s));
                        }
                        has_since = true;
                        break;
                case 'l':
                        if (lb_parse_u64(optarg, 1000000, &limit) < 0 || limit == 0) {
                                _cleanup_free_ char *s = lb_ctl_safe(optarg);
                                return lb_ctl_usage_error("audit", "--limit wants a number from 1 to 1000000, not '%s'", strna(s));
                        }
                        break;
                case 'v': do_verify = true; break;
                case 'h': fputs(audit_help, stdout); return LB_EXIT_OK;
                default: return lb_ctl_bad_option("audit", argv);
                }
        }
        if (optind < argc)
                return lb_ctl_usage_error("audit", "takes no arguments besides its options");
        if (do_verify) {
                if (request || has_since || limit)
                        return lb_ctl_usage_error("audit", "--verify checks the whole trail from seq 1; it takes no --request, --since or --limit");
                return verify(ctl);
        }
        if (lb_ctl_query_add(&path, "request", request) < 0 ||
            (has_since && lb_ctl_query_add_u64(&path, "since", since) < 0) ||
            (limit && lb_ctl_query_add_u64(&path, "limit", limit) < 0))
                return lb_ctl_error("audit: out of memory");
        r = lb_ctl_call(ctl, "audit", "GET", path, NULL, &j);
        if (r != 0)
                return r;
        if (ctl->json)
                return lb_ctl_print_json(j);
        events = json_object_get(j, "events");
        if (!json_is_array(events))
                return lb_ctl_error("audit: the broker's answer has no \"events\" list");
        if (json_array_size(events) == 0) {
                printf("No events.\n");
                return LB_EXIT_OK;
        }
        return print_events(events, lb_now_s()) < 0 ? lb_ctl_error("audit: out of memory") : LB_EXIT_OK;
}
