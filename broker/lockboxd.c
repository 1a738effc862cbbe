/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <fcntl.h>

#include "audit.h"
#include "broker_conf.h"
#include "http.h"
#include "server.h"
#include "log.h"
#include "notify.h"
#include "service.h"
#include "timeutil.h"
#include "util.h"

/* lockboxd: the broker. main() only wires the parts together: config, store,
 * HTTP servers, the expiry timer and the notification worker. */

struct timer {
        struct lb_broker *b;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop, poked;
};

static struct timer the_timer;
static bool out_of_range;
static struct lb_notifier *the_notifier;

static void wake_timer(struct lb_broker *b) {
        pthread_mutex_lock(&the_timer.lock);
        the_timer.poked = true;
        pthread_cond_signal(&the_timer.cond);
        pthread_mutex_unlock(&the_timer.lock);
}

static void wake_notifier(struct lb_broker *b) {
        lb_notifier_wake(the_notifier);
}

static void *timer_loop(void *userdata) {
        struct timer *t = userdata;

        for (;;) {
                int64_t wait;
                struct timespec ts;
                int r;

                pthread_mutex_lock(&t->lock);
                if (t->stop) {
                        pthread_mutex_unlock(&t->lock);
                        return NULL;
                }
                t->poked = false;
                pthread_mutex_unlock(&t->lock);

                r = lb_svc_expire_due(t->b);
                if (r < 0)
                        log_warning("expiry timer: %s", strerror(-r));
                else if (r > 0)
                        log_info("expired %d request(s)", r);
                /* wake at the next deadline, and at least every second */
                wait = r < 0 ? 1 : lb_svc_next_wait(t->b, 1);

                pthread_mutex_lock(&t->lock);
                clock_gettime(CLOCK_REALTIME, &ts);
                if (wait <= 0) {
                        ts.tv_nsec += 50 * 1000000L; /* due now: a short breath */
                        if (ts.tv_nsec >= 1000000000L) {
                                ts.tv_sec++;
                                ts.tv_nsec -= 1000000000L;
                        }
                } else
                        ts.tv_sec += wait;
                if (!t->stop && !t->poked)
                        pthread_cond_timedwait(&t->cond, &t->lock, &ts);
                pthread_mutex_unlock(&t->lock);
        }
}

static void report(void *userdata, const char *path, unsigned line, const char *key, int error) {
        int *problems = userdata;
        (*problems)++;
        if (error == -ERANGE && key) {
                /* a policy past its limits is not quietly replaced: refuse to start */
                fprintf(stderr, "lockboxd: %s:%u: %s is out of range (allowed: %s)\n", path, line,
                        key, strna(lb_broker_conf_range(key)));
                out_of_range = true;
        } else if (error == -ENOENT && key)
                log_warning("%s:%u: unknown key \"%s\" (ignored)", path, line, key);
        else if (key)
                log_warning("%s:%u: bad value for %s (ignored)", path, line, key);
        else
                log_warning("%s:%u: cannot parse this line (ignored)", path, line);
}

static void help(void) {
        printf("Usage: lockboxd [--config FILE] [--foreground]\n\n"
               "The Lockbox broker: requests, approvals, per-session keys, audit trail.\n\n"
               "  -c, --config FILE  configuration file (default %s)\n"
               "  -f, --foreground   do not detach (systemd runs it so)\n"
               "  -d, --debug        log debug messages\n"
               "  -h, --help         this help\n"
               "  -V, --version      print the version\n",
               LB_BROKER_CONF_PATH);
}

/* Detach: the parent exits 0 once the child says it is ready (1 otherwise). */
static int daemonize(int *ret_ready_fd) {
        int p[2];
        pid_t pid;
        char c = 0;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0) {
                close(p[1]);
                if (read(p[0], &c, 1) != 1)
                        _exit(1);
                _exit(c == 'R' ? 0 : 1);
        }
        close(p[0]);
        if (setsid() < 0)
                return -errno;
        *ret_ready_fd = p[1];
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "foreground", no_argument, NULL, 'f' },
                { "debug", no_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        struct lb_broker_conf conf;
        struct lb_broker b;
        struct lb_store *store = NULL;
        struct lb_server *unix_http = NULL, *tcp_http = NULL;
        const char *config = NULL;
        _cleanup_free_ char *detail = NULL;
        bool foreground = false, debug = false, activated = false;
        int c, r, problems = 0, fd = -1, ready_fd = -1, sig, ret = 1;
        sigset_t mask;

        while ((c = getopt_long(argc, argv, "c:fdhV", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 'f':
                        foreground = true;
                        break;
                case 'd':
                        debug = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("lockboxd %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try lockboxd --help\n");
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "lockboxd: unexpected argument \"%s\"\nTry lockboxd --help\n",
                        argv[optind]);
                return 2;
        }
        lb_log_open("lockboxd", foreground ? LB_LOG_STDERR : LB_LOG_JOURNAL);
        if (getenv("INVOCATION_ID") || getenv("JOURNAL_STREAM"))
                lb_log_open("lockboxd", LB_LOG_STDERR); /* systemd puts stderr in the journal */
        if (debug)
                lb_log_set_max_level(LOG_DEBUG);

        lb_broker_conf_init(&conf);
        r = lb_conf_load_file(config ? config : LB_BROKER_CONF_PATH, lb_broker_conf_set, &conf,
                              report, &problems);
        if (r == -ENOENT && config) {
                fprintf(stderr, "lockboxd: configuration file %s does not exist\n", config);
                goto out_conf;
        }
        if (r == -ENOENT)
                log_notice("no %s; using the defaults", LB_BROKER_CONF_PATH);
        else if (r < 0) {
                fprintf(stderr, "lockboxd: cannot read %s: %s\n",
                        config ? config : LB_BROKER_CONF_PATH, strerror(-r));
                goto out_conf;
        }
        if (out_of_range)
                goto out_conf;
        if (lb_broker_conf_check(&conf, &detail) < 0) {
                fprintf(stderr, "lockboxd: bad configuration: %s\n", detail);
                goto out_conf;
        }

        if (!foreground && daemonize(&ready_fd) < 0) {
                fprintf(stderr, "lockboxd: cannot detach: %m\n");
                goto out_conf;
        }
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &mask, NULL); /* threads inherit it; main waits for them */

        umask(0077);
        r = lb_store_sqlite.open(conf.database, &store);
        if (r < 0) {
                lb_log_errno(r, LOG_ERR, "cannot open the store %s", conf.database);
                goto out_conf;
        }
        r = lb_broker_init(&b, &conf, &lb_store_sqlite, store);
        if (r < 0) {
                lb_log_errno(r, LOG_ERR, "cannot set up");
                goto out_store;
        }
        b.sinks = true;
        b.wake_timer = wake_timer;
        b.wake_notifier = wake_notifier;
        r = lb_http_global_init();
        if (r < 0)
                log_warning("libcurl init failed: webhooks will not be delivered");

        the_timer = (struct timer) { .b = &b };
        pthread_mutex_init(&the_timer.lock, NULL);
        pthread_cond_init(&the_timer.cond, NULL);
        if ((r = pthread_create(&the_timer.thread, NULL, timer_loop, &the_timer)) != 0) {
                lb_log_errno(-r, LOG_ERR, "cannot start the timer");
                goto out_broker;
        }
        if ((r = lb_notifier_start(&b, &the_notifier)) < 0) {
                lb_log_errno(r, LOG_ERR, "cannot start the notifier");
                goto out_timer;
        }
        /* socket activation (lockboxd.socket makes the socket as root, group
         * lockbox-clients, mode 0660), or our own socket */
        if (sd_listen_fds(1) == 1 && sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) > 0) {
                fd = SD_LISTEN_FDS_START;
                activated = true;
                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
                (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        } else {
                r = lb_server_listen_unix(conf.socket, conf.socket_group, conf.socket_mode, &fd);
                if (r == -ESRCH) {
                        log_error("cannot listen on %s: socket_group %s does not exist (create it "
                                  "with systemd-sysusers, or set socket_group in %s)",
                                  conf.socket, conf.socket_group,
                                  config ? config : LB_BROKER_CONF_PATH);
                        goto out_notifier;
                }
                if (r < 0) {
                        lb_log_errno(r, LOG_ERR, "cannot listen on %s", conf.socket);
                        goto out_notifier;
                }
        }
        if (conf.socket_mode & 0006)
                log_warning("socket_mode %04o lets every local user connect to %s", conf.socket_mode,
                            conf.socket);
        r = lb_server_start_unix(&b, fd, &unix_http);
        if (r < 0) {
                lb_log_errno(r, LOG_ERR, "cannot serve on %s", conf.socket);
                goto out_socket;
        }
        if (conf.listen) {
                r = lb_server_start_tcp(&b, &tcp_http);
                if (r < 0) {
                        lb_log_errno(r, LOG_ERR, "cannot serve TLS on %s", conf.listen);
                        goto out_http;
                }
        }
        sd_journal_send("MESSAGE=lockboxd %s started (socket %s%s%s)", PACKAGE_VERSION,
                        conf.socket, conf.listen ? ", TLS on " : "", conf.listen ? conf.listen : "",
                        "MESSAGE_ID=%s", LB_MESSAGE_ID_START, "PRIORITY=5",
                        "SYSLOG_IDENTIFIER=lockboxd", NULL);
        log_info("ready: socket %s%s%s, store %s", conf.socket, conf.listen ? ", TLS on " : "",
                 conf.listen ? conf.listen : "", conf.database);
        sd_notify(0, "READY=1");
        if (ready_fd >= 0) {
                (void) lb_write_all(ready_fd, "R", 1);
                close(ready_fd);
                ready_fd = -1;
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                        dup2(null, 2);
                        close(null);
                }
        }

        for (;;) {
                if (sigwait(&mask, &sig) != 0)
                        continue;
                if (sig == SIGHUP) {
                        log_info("SIGHUP: nothing to reload; restart to apply configuration");
                        continue;
                }
                break;
        }
        log_info("stopping (signal %d)", sig);
        sd_notify(0, "STOPPING=1");
        ret = 0;

        lb_server_stop(tcp_http);
out_http:
        lb_server_stop(unix_http);
out_socket:
        if (!activated)
                unlink(conf.socket);
out_notifier:
        lb_notifier_stop(the_notifier);
out_timer:
        pthread_mutex_lock(&the_timer.lock);
        the_timer.stop = true;
        pthread_cond_signal(&the_timer.cond);
        pthread_mutex_unlock(&the_timer.lock);
        pthread_join(the_timer.thread, NULL);
out_broker:
        if (ret == 0)
                sd_journal_send("MESSAGE=lockboxd stopped", "MESSAGE_ID=%s", LB_MESSAGE_ID_STOP,
                                "PRIORITY=5", "SYSLOG_IDENTIFIER=lockboxd", NULL);
        lb_broker_done(&b);
out_store:
        lb_store_sqlite.close(store);
out_conf:
        lb_broker_conf_done(&conf);
        if (ready_fd >= 0)
                close(ready_fd);
        return ret;
}
