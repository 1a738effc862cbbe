/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>

#include "spool.h"
#include "util.h"

static int mkdir_parents(const char *dir, mode_t mode) {
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int lb_spool_open(struct lb_spool *s, const char *dir, const char *session, uid_t uid,
                  gid_t gid) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;

        if (!lb_name_valid(session, 64))
                return -EINVAL;
        path = lb_asprintf("%s/%s.jsonl", dir, session);
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == ENOENT) {
                /* first session on this host: the spool directory, root's, 0700 */
                int r = mkdir_parents(dir, 0700);
                if (r < 0)
                        return r;
                fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0600);
        }
        if (fd < 0)
                return -errno;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0600) < 0) {
                int r = -errno;
                unlink(path);
                return r;
        }
        *s = (struct lb_spool) { .fd = TAKE_FD(fd), .path = TAKE_PTR(path) };
        return 0;
}

int lb_spool_append(struct lb_spool *s, const void *p, size_t n) {
        int r = atomic_load(&s->error);

        if (r < 0)
                return r;
        r = lb_write_all(s->fd, p, n);
        if (r < 0) {
                int expected = 0;
                atomic_compare_exchange_strong(&s->error, &expected, r);
                return r;
        }
        atomic_fetch_add(&s->size, n);
        return 0;
}

int lb_spool_sync(struct lb_spool *s) {
        uint64_t size = atomic_load(&s->size);

        if (size == atomic_load(&s->synced))
                return 0;
        if (fdatasync(s->fd) < 0) {
                int r = -errno, expected = 0;
                atomic_compare_exchange_strong(&s->error, &expected, r);
                return r;
        }
        atomic_store(&s->synced, size);
        return 0;
}

static void *sync_thread(void *userdata) {
        struct lb_spool *s = userdata;
        struct pollfd p = { .fd = s->wake_fd, .events = POLLIN };

        /* group commit every interval; a stop wakes it at once, so the end of
         * a session is not held up by a sleeping thread */
        while (!atomic_load(&s->stop)) {
                (void) poll(&p, 1, (int) s->interval_ms);
                (void) lb_spool_sync(s);
        }
        return NULL;
}

int lb_spool_start_sync(struct lb_spool *s, unsigned interval_ms) {
        int r;

        s->interval_ms = interval_ms ? interval_ms : 100;
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->wake_fd < 0)
                return -errno;
        r = pthread_create(&s->thread, NULL, sync_thread, s);
        if (r != 0) {
                close(s->wake_fd);
                s->wake_fd = -1;
                return -r;
        }
        s->thread_running = true;
        return 0;
}

int lb_spool_stop_sync(struct lb_spool *s) {
        if (s->thread_running) {
                atomic_store(&s->stop, true);
                (void) eventfd_write(s->wake_fd, 1);
                pthread_join(s->thread, NULL);
                s->thread_running = false;
                close(s->wake_fd);
                s->wake_fd = -1;
        }
        return s->fd >= 0 ? lb_spool_sync(s) : 0;
}

int lb_spool_close(struct lb_spool *s) {
        int r = lb_spool_stop_sync(s);

        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
        free(s->path);
        s->path = NULL;
        return r < 0 ? r : atomic_load(&s->error);
}
