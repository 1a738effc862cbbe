/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockbox-keys: sshd's AuthorizedKeysCommand for managed accounts.
 *
 *   AuthorizedKeysCommand /usr/libexec/lockbox/lockbox-keys %u %f %t %k
 *   AuthorizedKeysCommandUser lockbox-keys
 *
 * Prints the per-session keys the broker says are valid now for this host and
 * account, one restricted authorized_keys line each. sshd discards stderr, so
 * everything is logged to journald. Nothing is printed on a refusal or an
 * error; an error exits non-zero (sshd then ignores whatever was printed). */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>

#include <systemd/sd-journal.h>

#include "broker_client.h"
#include "conf.h"
#include "keys_line.h"
#include "log.h"
#include "timeutil.h"
#include "util.h"

#define MID_ANSWERED "MESSAGE_ID=7eb68c8c9be04c2da634008814121fe5"
#define MID_FAILED "MESSAGE_ID=c1e769e15c1d42e3a6615cf81cec629d"

#define EXIT_REFUSE 1

struct ctx {
        const char *user;
        const char *fingerprint;
        const char *type;
        const char *base64;
        const char *host;
        bool conf_bad;
};

static void event(int priority, const char *mid, const struct ctx *x, const char *request,
                  unsigned nkeys, const char *fmt, ...) _printf_(6, 7);
static void event(int priority, const char *mid, const struct ctx *x, const char *request,
                  unsigned nkeys, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return;
        sd_journal_send("MESSAGE=lockbox-keys: %s", msg, mid, "PRIORITY=%i", priority,
                        "SYSLOG_IDENTIFIER=lockbox-keys", "LOCKBOX_USER=%s", strna(x->user),
                        "LOCKBOX_HOST=%s", strna(x->host), "LOCKBOX_FINGERPRINT=%s",
                        isempty(x->fingerprint) ? "n/a" : x->fingerprint,
                        "LOCKBOX_REQUEST=%s", strna(request), "LOCKBOX_KEYS=%u", nkeys, NULL);
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "lockbox-keys: %s\n", msg);
}

static void report(void *userdata, const char *path, unsigned line, const char *key, int error) {
        struct ctx *x = userdata;

        /* unknown keys are reported, not fatal; a bad value or line is */
        if (error != -ENOENT)
                x->conf_bad = true;
        event(LOG_WARNING, MID_FAILED, x, NULL, 0, "%s:%u: %s: %s", path, line, strna(key),
              strerror(-error));
}

/* Files sshd trusts us through must not be writable by anyone but root (or
 * the owner running us). sshd checks the command's path; we check ourselves
 * and our configuration, which sshd does not. */
static int check_trusted(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return -EPERM;
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                return -EPERM;
        return 0;
}

static void help(void) {
        printf("Usage: lockbox-keys [--config FILE] USER [FINGERPRINT [TYPE [BASE64]]]\n"
               "sshd AuthorizedKeysCommand: prints the per-session keys valid now for USER.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ char *hostbuf = NULL, *out = NULL;
        const char *config = NULL, *request = NULL;
        struct lb_host_conf conf;
        struct lb_broker broker = {};
        struct lb_keys keys = {};
        struct ctx x = {};
        size_t outlen = 0;
        unsigned printed = 0;
        int64_t now;
        int c, r;

        lb_log_open("lockbox-keys", LB_LOG_JOURNAL);
        while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind >= argc || argc - optind > 4) {
                fprintf(stderr, "lockbox-keys: usage: lockbox-keys [--config FILE] USER [FINGERPRINT [TYPE [BASE64]]]\n");
                return 2;
        }
        x.user = argv[optind];
        x.fingerprint = argc - optind > 1 ? argv[optind + 1] : NULL;
        x.type = argc - optind > 2 ? argv[optind + 2] : NULL;
        x.base64 = argc - optind > 3 ? argv[optind + 3] : NULL;

        r = check_trusted("/proc/self/exe");
        if (r < 0) {
                event(LOG_ERR, MID_FAILED, &x, NULL, 0,
                      "refusing to run: own binary is not owned by root or is writable by others: %s",
                      strerror(-r));
                return EXIT_REFUSE;
        }
        if (access(config ? config : LB_HOST_CONF_PATH, F_OK) == 0 || config) {
                r = check_trusted(config ? config : LB_HOST_CONF_PATH);
                if (r < 0) {
                        event(LOG_ERR, MID_FAILED, &x, NULL, 0,
                              "refusing to run: %s is missing, not owned by root or writable by others: %s",
                              config ? config : LB_HOST_CONF_PATH, strerror(-r));
                        return EXIT_REFUSE;
                }
        }

        lb_host_conf_init(&conf);
        r = lb_host_conf_load(&conf, config, config != NULL, report, &x);
        if (r < 0 || x.conf_bad) {
                event(LOG_ERR, MID_FAILED, &x, NULL, 0, "cannot load configuration %s: %s",
                      config ? config : LB_HOST_CONF_PATH,
                      r < 0 ? strerror(-r) : "bad settings (see above)");
                r = EXIT_REFUSE;
                goto finish;
        }
        if (conf.debug)
                lb_log_set_max_level(LOG_DEBUG);
        /* The broker call has its own deadline; this is the backstop for
         * everything else (group lookups over the network, DNS, a stuck
         * filesystem). SIGALRM kills us with nothing printed. */
        alarm(conf.timeout_ms / 1000 + 2);

        r = lb_host_conf_is_managed(&conf, x.user);
        if (r == 0) {
                /* not ours: no keys, no broker call; sshd goes on with other sources */
                r = 0;
                goto finish;
        }
        /* a lookup error counts as managed: only broker-approved keys can come out */

        r = lb_host_conf_host_name(&conf, &hostbuf);
        if (r < 0) {
                event(LOG_ERR, MID_FAILED, &x, NULL, 0, "cannot determine this host's name: %s",
                      strerror(-r));
                r = EXIT_REFUSE;
                goto finish;
        }
        x.host = hostbuf;
        if (!lb_name_valid(x.user, 253)) {
                event(LOG_WARNING, MID_FAILED, &x, NULL, 0, "account name is not one the broker knows");
                r = EXIT_REFUSE;
                goto finish;
        }
        if (!lb_keys_recorder_valid(conf.recorder)) {
                event(LOG_ERR, MID_FAILED, &x, NULL, 0,
                      "recorder path is not safe in an authorized_keys line (absolute, [A-Za-z0-9/._+-] only)");
                r = EXIT_REFUSE;
                goto finish;
        }

        r = lb_broker_init(&broker, &conf);
        if (r < 0) {
                event(LOG_ERR, MID_FAILED, &x, NULL, 0, "cannot set up the broker client: %s",
                      strerror(-r));
                r = EXIT_REFUSE;
                goto finish;
        }
        r = lb_broker_keys(&broker, x.host, x.user, isempty(x.fingerprint) ? NULL : x.fingerprint,
                           &keys);
        if (r < 0) {
                event(LOG_ERR, MID_FAILED, &x, NULL, 0,
                      "broker %s did not answer usably, no keys given: %s", conf.broker,
                      strerror(-r));
                r = EXIT_REFUSE;
                goto finish;
        }

        now = lb_now_s();
        for (size_t i = 0; i < keys.n; i++) {
                _cleanup_free_ char *line = NULL;
                char *n;

                /* format (and so validate) every key first: a broker that
                 * answers anything malformed is not trusted for the rest */
                r = lb_keys_format_line(&keys.keys[i], conf.recorder, now, &line);
                if (r == -ESTALE)
                        continue;
                if (r < 0) {
                        event(LOG_ERR, MID_FAILED, &x, keys.keys[i].request, 0,
                              "broker answered a key that cannot be used: %s", strerror(-r));
                        r = EXIT_REFUSE;
                        goto finish;
                }
                if (!lb_keys_match(&keys.keys[i], x.fingerprint, x.type, x.base64))
                        continue;
                n = realloc(out, outlen + strlen(line) + 2);
                if (!n) {
                        r = EXIT_REFUSE;
                        goto finish;
                }
                out = n;
                memcpy(out + outlen, line, strlen(line));
                outlen += strlen(line);
                out[outlen++] = '\n';
                out[outlen] = '\0';
                request = keys.keys[i].request;
                printed++;
        }

        /* one write at the end, so a deadline or a failure prints nothing */
        if (outlen > 0 && lb_write_all(STDOUT_FILENO, out, outlen) < 0) {
                r = EXIT_REFUSE;
                goto finish;
        }
        if (printed > 0)
                event(LOG_INFO, MID_ANSWERED, &x, request, printed,
                      "%u per-session key(s) for %s on %s (request %s)", printed, x.user, x.host,
                      request);
        else /* catalogued with the failures: "no keys (refused or failed)" */
                event(LOG_NOTICE, MID_FAILED, &x, NULL, 0,
                      "no valid per-session key for %s on %s%s%s", x.user, x.host,
                      isempty(x.fingerprint) ? "" : " matching ",
                      isempty(x.fingerprint) ? "" : x.fingerprint);
        r = 0;
finish:
        lb_keys_done(&keys);
        lb_broker_done(&broker);
        lb_host_conf_done(&conf);
        return r;
}
