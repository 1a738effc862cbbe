/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "log.h"
#include "notify.h"
#include "timeutil.h"
#include "util.h"

#define DELIVERY_TIMEOUT_MS 10000
#define BATCH 64

struct lb_notifier {
        struct lb_broker *b;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        bool poked;
};

int64_t lb_notify_backoff(unsigned attempts, int64_t max) {
        int64_t w = 1;
        for (unsigned i = 0; i < attempts && w < max; i++)
                w *= 2;
        return MIN(w, max);
}

static size_t discard(char *p, size_t size, size_t n, void *userdata) {
        return size * n;
}

static int deliver_webhook(const char *url, const char *event, char **ret_error) {
        CURL *c = curl_easy_init();
        struct curl_slist *hdr = NULL;
        long status = 0;
        CURLcode rc;

        if (!c)
                return -ENOMEM;
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, event);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) DELIVERY_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        rc = curl_easy_perform(c);
        if (rc == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        if (rc != CURLE_OK) {
                *ret_error = lb_asprintf("%s", curl_easy_strerror(rc));
                return -EIO;
        }
        if (status < 200 || status > 299) {
                *ret_error = lb_asprintf("HTTP status %ld", status);
                return -EIO;
        }
        return 0;
}


/* The event to the command's stdin. A command that exits without reading it
 * must not kill us with SIGPIPE (the daemon ignores SIGPIPE; a library caller
 * may not): SIGPIPE is blocked for this thread, and one the write raised is
 * taken before the mask is restored. */
static void write_event(int fd, const char *event) {
        sigset_t pipe_set, old;
        struct timespec zero = { 0, 0 };

        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        if (lb_write_all(fd, event, strlen(event)) == 0)
                (void) lb_write_all(fd, "\n", 1);
        while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
                ;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int deliver_command(const char *command, const char *event, char **ret_error) {
        int in[2], status;
        pid_t pid;
        uint64_t deadline = lb_mono_ms() + DELIVERY_TIMEOUT_MS * 3;
        json_auto_t *ev = json_loads(event, 0, NULL);
        const char *type = json_string_value(json_object_get(ev, "type"));
        const char *req = json_string_value(json_object_get(ev, "request"));
        _cleanup_free_ char *env_type = lb_asprintf("LOCKBOX_EVENT=%s", type ? type : "");
        _cleanup_free_ char *env_req = lb_asprintf("LOCKBOX_REQUEST=%s", req ? req : "");

        extern char **environ;
        size_t ne = lb_strv_length(environ), k = 0;
        _cleanup_free_ char **envp = calloc(ne + 3, sizeof(char *));

        if (!envp || !env_type || !env_req)
                return -ENOMEM;
        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, "LOCKBOX_EVENT=", 14) != 0 && strncmp(*e, "LOCKBOX_REQUEST=", 16) != 0)
                        envp[k++] = *e;
        envp[k++] = env_type;
        envp[k++] = env_req;
        /* built before fork: the child only calls async-signal-safe functions */
        if (pipe2(in, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                close(in[0]);
                close(in[1]);
                return -errno;
        }
        if (pid == 0) {
                sigset_t all;
                int null = open("/dev/null", O_RDWR);
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                signal(SIGPIPE, SIG_DFL);
                dup2(in[0], 0);
                if (null >= 0) {
                        dup2(null, 1);
                }
                execle("/bin/sh", "sh", "-c", command, (char *) NULL, envp);
                _exit(127);
        }
        close(in[0]);
        write_event(in[1], event);
        close(in[1]);
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR) {
                        *ret_error = strdup("waitpid failed");
                        return -EIO;
                }
                if (lb_mono_ms() > deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        *ret_error = strdup("notify_command timed out");
                        return -ETIMEDOUT;
                }
                poll(NULL, 0, 20);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                *ret_error = lb_asprintf("notify_command failed (%s %d)",
                                         WIFEXITED(status) ? "exit" : "signal",
                                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                return -EIO;
        }
        return 0;
}

int lb_notify_deliver(const struct lb_broker *b, const char *target, const char *event_json,
                      char **ret_error) {
        if (strncmp(target, "webhook:", 8) == 0)
                return deliver_webhook(target + 8, event_json, ret_error);
        if (streq(target, "command")) {
                if (!b->conf->notify_command) {
                        *ret_error = strdup("notify_command is no longer configured");
                        return -ENOENT;
                }
                return deliver_command(b->conf->notify_command, event_json, ret_error);
        }
        *ret_error = lb_asprintf("unknown target %s", target);
        return -EINVAL;
}

int lb_notify_run_once(struct lb_broker *b) {
        struct lb_outbox_item *v = NULL;
        size_t n = 0;
        int done = 0, e;

        e = b->ops->outbox_due(b->store, lb_broker_now(b), BATCH, &v, &n);
        if (e < 0)
                return e;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *error = NULL;
                int r = v[i].event ? lb_notify_deliver(b, v[i].target, v[i].event, &error) : -EBADMSG;
                e = b->ops->begin(b->store);
                if (e >= 0) {
                        if (r >= 0)
                                e = b->ops->outbox_done(b->store, v[i].id);
                        else {
                                int64_t wait = lb_notify_backoff(v[i].attempts,
                                                                 (int64_t) b->conf->notify_backoff_max);
                                e = b->ops->outbox_retry(b->store, v[i].id,
                                                         lb_broker_now(b) + wait, error);
                                if (v[i].attempts == 0 || v[i].attempts % 10 == 0)
                                        log_warning("notification of event %" PRId64 " to %s failed: %s "
                                                    "(retrying in %" PRId64 "s)",
                                                    v[i].seq, v[i].target, strna(error), wait);
                        }
                        if (e >= 0)
                                e = b->ops->commit(b->store);
                        else
                                b->ops->rollback(b->store);
                }
                if (r >= 0 && e >= 0)
                        done++;
        }
        for (size_t i = 0; i < n; i++)
                lb_outbox_item_done(&v[i]);
        free(v);
        return e < 0 ? e : done;
}

static void *loop(void *userdata) {
        struct lb_notifier *nt = userdata;

        for (;;) {
                int r;
                struct timespec ts;

                pthread_mutex_lock(&nt->lock);
                if (nt->stop) {
                        pthread_mutex_unlock(&nt->lock);
                        break;
                }
                nt->poked = false;
                pthread_mutex_unlock(&nt->lock);

                r = lb_notify_run_once(nt->b);
                if (r < 0)
                        log_warning("notification outbox: %s", strerror(-r));
                if (r > 0)
                        continue; /* more may be queued behind what was just delivered */

                pthread_mutex_lock(&nt->lock);
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 500 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                if (!nt->stop && !nt->poked)
                        pthread_cond_timedwait(&nt->cond, &nt->lock, &ts);
                pthread_mutex_unlock(&nt->lock);
        }
        return NULL;
}

int lb_notifier_start(struct lb_broker *b, struct lb_notifier **ret) {
        struct lb_notifier *nt = calloc(1, sizeof(*nt));
        int e;
        if (!nt)
                return -ENOMEM;
        nt->b = b;
        pthread_mutex_init(&nt->lock, NULL);
        pthread_cond_init(&nt->cond, NULL);
        e = pthread_create(&nt->thread, NULL, loop, nt);
        if (e != 0) {
                free(nt);
                return -e;
        }
        *ret = nt;
        return 0;
}

void lb_notifier_wake(struct lb_notifier *nt) {
        if (!nt)
                return;
        pthread_mutex_lock(&nt->lock);
        nt->poked = true;
        pthread_cond_signal(&nt->cond);
        pthread_mutex_unlock(&nt->lock);
}

void lb_notifier_stop(struct lb_notifier *nt) {
        if (!nt)
                return;
        pthread_mutex_lock(&nt->lock);
        nt->stop = true;
        pthread_cond_signal(&nt->cond);
        pthread_mutex_unlock(&nt->lock);
        pthread_join(nt->thread, NULL);
        pthread_mutex_destroy(&nt->lock);
        pthread_cond_destroy(&nt->cond);
        free(nt);
}
