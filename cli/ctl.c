/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers every lockboxctl command uses: errors, broker calls, JSON output. */
#include "config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>

#include "ctl.h"
#include "display.h"
#include "util.h"

int lb_ctl_error(const char *fmt, ...) {
        va_list ap;

        fflush(stdout);
        fputs("lockboxctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return LB_EXIT_FAILURE;
}

int lb_ctl_usage_error(const char *cmd, const char *fmt, ...) {
        va_list ap;

        fflush(stdout);
        fputs("lockboxctl: ", stderr);
        if (cmd)
                fprintf(stderr, "%s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (cmd)
                fprintf(stderr, "Try 'lockboxctl %s --help'.\n", cmd);
        else
                fputs("Try 'lockboxctl --help'.\n", stderr);
        return LB_EXIT_USAGE;
}

int lb_ctl_bad_option(const char *cmd, char **argv) {
        _cleanup_free_ char *s = lb_ctl_safe(optind > 0 ? argv[optind - 1] : "");

        return lb_ctl_usage_error(cmd, "unknown option, or an option without its value: '%s'", strna(s));
}

static const char *transport_error(int r) {
        switch (r) {
        case -ECONNREFUSED: return "cannot reach the broker (nothing listening, or no such socket)";
        case -ETIMEDOUT: return "the broker did not answer in time";
        case -EPROTO: return "TLS or protocol failure talking to the broker";
        case -EFBIG: return "the broker's answer is too large";
        case -EBADMSG: return "the broker's answer is not a JSON object";
        case -EINVAL: return "bad request (the broker refused it)";
        case -EACCES: return "refused (not allowed)";
        case -ENOENT: return "not found";
        case -EBUSY: return "conflict (wrong state)";
        case -E2BIG: return "too large";
        case -EAGAIN: return "too many requests; try again later";
        case -EIO: return "the broker failed (server error)";
        case -ENOMEM: return "out of memory";
        default: return NULL;
        }
}

int lb_ctl_call(struct lb_ctl *ctl, const char *what, const char *method, const char *path,
                json_t *body, json_t **ret_json) {
        _cleanup_free_ char *err = NULL, *swhat = NULL, *serr = NULL, *sbroker = NULL;
        json_t *j = NULL;
        int r;

        r = lb_broker_call(&ctl->broker, method, path, body, &j, &err);
        if (r >= 0) {
                if (ret_json)
                        *ret_json = j;
                else
                        json_decref(j);
                return 0;
        }
        swhat = lb_ctl_safe(what);
        if (err) {
                serr = lb_ctl_safe(err);
                return lb_ctl_error("%s: %s", strna(swhat), strna(serr));
        }
        sbroker = lb_ctl_safe(ctl->broker_url);
        if (transport_error(r))
                return lb_ctl_error("%s: %s (%s)", strna(swhat), transport_error(r), strna(sbroker));
        return lb_ctl_error("%s: %s (%s)", strna(swhat), strerror(-r), strna(sbroker));
}

int lb_ctl_print_json(json_t *j) {
        _cleanup_free_ char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *safe = NULL;

        if (!s || !(safe = lb_ctl_json_safe(s)))
                return lb_ctl_error("cannot format JSON: out of memory");
        puts(safe);
        if (fflush(stdout) != 0)
                return lb_ctl_error("cannot write output: %s", strerror(errno));
        return LB_EXIT_OK;
}

int lb_ctl_check_id(const char *cmd, const char *id) {
        if (!lb_name_valid(id, 64)) {
                _cleanup_free_ char *s = lb_ctl_safe(id);
                return lb_ctl_usage_error(cmd, "'%s' is not an id (r-… for requests, t-… for tokens)",
                                          strna(s));
        }
        return 0;
}

const char *lb_ctl_local_user(void) {
        static char name[256];
        struct passwd pw, *res = NULL;
        _cleanup_free_ char *buf = NULL;
        long n = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = n > 0 ? (size_t) n : 16384;

        if (name[0])
                return name;
        buf = malloc(size);
        if (!buf)
                return NULL;
        if (getpwuid_r(getuid(), &pw, buf, size, &res) != 0 || !res ||
            strlen(res->pw_name) >= sizeof(name))
                return NULL;
        strcpy(name, res->pw_name);
        return name;
}
