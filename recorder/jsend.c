/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "evidence.h"
#include "jsend.h"
#include "timeutil.h"
#include "record.h"
#include "util.h"

void lb_jsend_init(struct lb_jsend *js, unsigned timeout_ms) {
        *js = (struct lb_jsend) { .fd = -1, .timeout_ms = timeout_ms };
}

void lb_jsend_done(struct lb_jsend *js) {
        if (js->fd >= 0)
                close(js->fd);
        js->fd = -1;
}

/* journald's rule for a field name: A-Z, 0-9 and '_', not starting with a
 * digit or '_' (those are its own), at most 64 bytes. */
static bool name_ok(const char *p, size_t n) {
        if (n == 0 || n > 64 || p[0] == '_' || (p[0] >= '0' && p[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
                        return false;
        return true;
}

int lb_jsend_serialize(const struct iovec *iov, size_t n, char **ret, size_t *ret_len) {
        struct lb_buf b = {};
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i++) {
                const char *p = iov[i].iov_base, *eq = memchr(p, '=', iov[i].iov_len);
                size_t name_len, vlen;

                if (!eq || !name_ok(p, (size_t) (eq - p))) {
                        r = -EINVAL;
                        break;
                }
                name_len = (size_t) (eq - p);
                vlen = iov[i].iov_len - name_len - 1;
                if (!memchr(eq + 1, '\n', vlen)) {
                        r = lb_buf_append(&b, p, iov[i].iov_len);
                        if (r == 0)
                                r = lb_buf_append(&b, "\n", 1);
                } else {
                        uint64_t le = htole64((uint64_t) vlen);
                        r = lb_buf_append(&b, p, name_len);
                        if (r == 0)
                                r = lb_buf_append(&b, "\n", 1);
                        if (r == 0)
                                r = lb_buf_append(&b, &le, sizeof(le));
                        if (r == 0)
                                r = lb_buf_append(&b, eq + 1, vlen);
                        if (r == 0)
                                r = lb_buf_append(&b, "\n", 1);
                }
        }
        if (r < 0) {
                lb_buf_done(&b);
                return r;
        }
        *ret = b.p;
        *ret_len = b.len;
        return 0;
}

static int connect_socket(struct lb_jsend *js) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = lb_journal_socket_path();
        int fd, sndbuf = 8 * 1024 * 1024;

        if (js->fd >= 0)
                return 0;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -EINVAL;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* big entries fit a datagram up to what the kernel allows (wmem_max) */
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        /* connected, so poll() says when journald's queue has room again */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                close(fd);
                return -ENOTCONN;
        }
        js->fd = fd;
        return 0;
}

static bool peer_gone(int e) {
        return e == ECONNREFUSED || e == ENOTCONN || e == EPIPE || e == ECONNRESET ||
               e == ENOENT;
}

/* One sendmsg, waiting while journald's queue is full, until the deadline. */
static int send_wait(struct lb_jsend *js, struct msghdr *mh, uint64_t deadline) {
        for (;;) {
                uint64_t now;
                struct pollfd p;

                if (sendmsg(js->fd, mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                now = lb_mono_ms();
                if (now >= deadline)
                        return -ETIMEDOUT;
                p = (struct pollfd) { .fd = js->fd, .events = POLLOUT };
                if (poll(&p, 1, (int) MIN(deadline - now, (uint64_t) 1000)) < 0 && errno != EINTR)
                        return -errno;
        }
}

static int send_memfd(struct lb_jsend *js, const char *p, size_t n, uint64_t deadline) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr mh = { .msg_control = &control, .msg_controllen = sizeof(control) };
        struct cmsghdr *c;
        _cleanup_close_ int fd = memfd_create("lockbox-journal", MFD_ALLOW_SEALING | MFD_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        r = lb_write_all(fd, p, n);
        if (r < 0)
                return r;
        /* journald takes only a memfd nobody can change any more */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return send_wait(js, &mh, deadline);
}

int lb_jsend_sendv(struct lb_jsend *js, const struct iovec *iov, size_t n) {
        _cleanup_free_ char *p = NULL;
        uint64_t deadline = lb_mono_ms() + js->timeout_ms;
        size_t len;
        int r;

        r = lb_jsend_serialize(iov, n, &p, &len);
        if (r < 0)
                return r;
        /* twice at most: a journald that was restarted has a new socket */
        for (int attempt = 0; attempt < 2; attempt++) {
                struct iovec v = { .iov_base = p, .iov_len = len };
                struct msghdr mh = { .msg_iov = &v, .msg_iovlen = 1 };

                r = connect_socket(js);
                if (r < 0)
                        return r;
                r = send_wait(js, &mh, deadline);
                if (r == -EMSGSIZE || r == -ENOBUFS)
                        r = send_memfd(js, p, len, deadline);
                if (r == 0 || r == -ETIMEDOUT)
                        return r;
                lb_jsend_done(js);
                if (!peer_gone(-r))
                        return r;
                r = -ENOTCONN;
        }
        return r;
}
