/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl token create|list|revoke: bearer tokens for TCP clients (admins). */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>

#include "args.h"
#include "ctl.h"
#include "display.h"
#include "timeutil.h"
#include "util.h"

static const char token_help[] =
        "Usage: lockboxctl token create --principal P --role R [--host H] [-o FILE]\n"
        "       lockboxctl token list\n"
        "       lockboxctl token revoke ID\n"
        "\n"
        "Bearer tokens for clients that reach the broker over TCP/TLS (admins).\n"
        "\n"
        "  --principal P  who the token speaks for (a user, or a host's name)\n"
        "  --role R       operator, approver, auditor, host or admin\n"
        "  --host H       for role host: the only host it may ask about\n"
        "  -o FILE        write the secret to FILE (created, mode 0600) instead of\n"
        "                 printing it; the broker keeps only its hash\n";

static const char *str(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static int write_secret(const char *path, const char *secret) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        int r;

        if (fd < 0)
                return -errno;
        r = lb_write_all(fd, secret, strlen(secret));
        if (r >= 0)
                r = lb_write_all(fd, "\n", 1);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0)
                unlink(path);
        return r;
}

static int token_create(struct lb_ctl *ctl, int argc, char **argv) {
        static const struct option options[] = {
                { "principal", required_argument, NULL, 'p' },
                { "role",      required_argument, NULL, 'r' },
                { "host",      required_argument, NULL, 'H' },
                { "output",    required_argument, NULL, 'o' },
                { "help",      no_argument,       NULL, 'h' },
                {}
        };
        const char *principal = NULL, *role = NULL, *host = NULL, *output = NULL;
        json_auto_t *body = NULL, *j = NULL;
        _cleanup_free_ char *id = NULL, *p = NULL, *ro = NULL, *h = NULL;
        const char *secret;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0) {
                switch (c) {
                case 'p': principal = optarg; break;
                case 'r':
                        if (!lb_ctl_role_valid(optarg)) {
                                _cleanup_free_ char *s = lb_ctl_safe(optarg);
                                return lb_ctl_usage_error("token", "--role: '%s' is not a role (operator, approver, auditor, host, admin)",
                                                          strna(s));
                        }
                        role = optarg;
                        break;
                case 'H': host = optarg; break;
                case 'o': output = optarg; break;
                case 'h': fputs(token_help, stdout); return LB_EXIT_OK;
                default: return lb_ctl_bad_option("token", argv);
                }
        }
        if (optind < argc)
                return lb_ctl_usage_error("token", "create takes no arguments besides its options");
        if (!principal || !role)
                return lb_ctl_usage_error("token", "create wants --principal and --role");
        if (streq(role, "host") && !host)
                return lb_ctl_usage_error("token", "a host token wants --host (the host it may ask about)");
        if (!lb_utf8_valid(principal, strlen(principal)) || (host && !lb_utf8_valid(host, strlen(host))))
                return lb_ctl_usage_error("token", "--principal and --host must be valid UTF-8");
        body = json_pack("{s:s, s:s, s:s*}", "principal", principal, "role", role, "host", host);
        if (!body)
                return lb_ctl_error("token: out of memory");
        r = lb_ctl_call(ctl, "token create", "POST", "/v1/tokens", body, &j);
        if (r != 0)
                return r;
        secret = str(j, "token");
        if (!secret || !lb_name_valid(secret, 1024))
                return lb_ctl_error("token create: the broker's answer has no usable \"token\"");
        if (output) {
                r = write_secret(output, secret);
                if (r < 0) {
                        _cleanup_free_ char *s = lb_ctl_safe(output);
                        return lb_ctl_error("token create: cannot write %s: %s (token %s was made; revoke it)",
                                            strna(s), strerror(-r), strna(str(j, "id")));
                }
                json_object_del(j, "token");
        }
        if (ctl->json)
                return lb_ctl_print_json(j);
        id = lb_ctl_safe(str(j, "id"));
        p = lb_ctl_safe(str(j, "principal"));
        ro = lb_ctl_safe(str(j, "role"));
        h = lb_ctl_safe(str(j, "host"));
        if (!id || !p || !ro || !h)
                return lb_ctl_error("token: out of memory");
        printf("Token %s for %s, role %s%s%s.\n", id, p, ro, str(j, "host") ? ", host " : "",
               str(j, "host") ? h : "");
        if (output) {
                _cleanup_free_ char *s = lb_ctl_safe(output);
                printf("Secret written to %s (mode 0600).\n", strna(s));
        } else {
                printf("%s\n", secret);
                fflush(stdout);
                fputs("This is the only time the secret is shown: store it now (mode 0600).\n", stderr);
        }
        return LB_EXIT_OK;
}

static int token_list(struct lb_ctl *ctl, int argc, char **argv) {
        static const char *const headers[] = { "ID", "PRINCIPAL", "ROLE", "HOST", "CREATED", "REVOKED" };
        _cleanup_table_ struct lb_table *t = NULL;
        json_auto_t *j = NULL;
        json_t *list, *tok;
        size_t i;
        int r;

        if (argc > 1)
                return lb_ctl_usage_error("token", "list takes no arguments");
        r = lb_ctl_call(ctl, "token list", "GET", "/v1/tokens", NULL, &j);
        if (r != 0)
                return r;
        if (ctl->json)
                return lb_ctl_print_json(j);
        list = json_object_get(j, "tokens");
        if (!json_is_array(list))
                return lb_ctl_error("token list: the broker's answer has no \"tokens\" list");
        if (json_array_size(list) == 0) {
                printf("No tokens.\n");
                return LB_EXIT_OK;
        }
        t = lb_table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return lb_ctl_error("token: out of memory");
        json_array_foreach(list, i, tok) {
                char created[LB_CTL_TIME_LEN], revoked[LB_CTL_TIME_LEN];
                int64_t tc, tr;
                json_t *rv = json_object_get(tok, "revoked_at");
                const char *cells[] = {
                        str(tok, "id"), str(tok, "principal"), str(tok, "role"), str(tok, "host"),
                        lb_time_parse(strna(str(tok, "created_at")), &tc) >= 0
                                ? lb_ctl_time(tc, false, created, sizeof(created))
                                : str(tok, "created_at"),
                        json_is_string(rv) && lb_time_parse(json_string_value(rv), &tr) >= 0
                                ? lb_ctl_time(tr, false, revoked, sizeof(revoked))
                                : json_is_true(json_object_get(tok, "revoked")) ? "yes" : "-",
                };
                if (lb_table_add(t, cells) < 0)
                        return lb_ctl_error("token: out of memory");
        }
        return lb_table_print(t, stdout) < 0 ? lb_ctl_error("token: cannot write output") : LB_EXIT_OK;
}

static int token_revoke(struct lb_ctl *ctl, int argc, char **argv) {
        _cleanup_free_ char *path = NULL, *what = NULL, *id = NULL;
        json_auto_t *j = NULL;
        int r;

        if (argc != 2)
                return lb_ctl_usage_error("token", "revoke wants exactly one token id");
        r = lb_ctl_check_id("token", argv[1]);
        if (r != 0)
                return r;
        path = lb_asprintf("/v1/tokens/%s/revoke", argv[1]);
        what = lb_asprintf("token revoke %s", argv[1]);
        if (!path || !what)
                return lb_ctl_error("token: out of memory");
        r = lb_ctl_call(ctl, what, "POST", path, NULL, &j);
        if (r != 0)
                return r;
        if (ctl->json)
                return lb_ctl_print_json(j);
        printf("%s: revoked.\n", argv[1]); /* checked by lb_ctl_check_id: a plain id */
        return LB_EXIT_OK;
}

int lb_cmd_token(struct lb_ctl *ctl, int argc, char **argv) {
        if (argc < 2)
                return lb_ctl_usage_error("token", "wants create, list or revoke");
        if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                fputs(token_help, stdout);
                return LB_EXIT_OK;
        }
        /* the subcommand becomes argv[0] of its own getopt run */
        optind = 0;
        if (streq(argv[1], "create"))
                return token_create(ctl, argc - 1, argv + 1);
        if (streq(argv[1], "list"))
                return token_list(ctl, argc - 1, argv + 1);
        if (streq(argv[1], "revoke"))
                return token_revoke(ctl, argc - 1, argv + 1);
        _cleanup_free_ char *s = lb_ctl_safe(argv[1]);
        return lb_ctl_usage_error("token", "unknown subcommand '%s' (create, list, revoke)", strna(s));
}
