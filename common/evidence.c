/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <libaudit.h>
#include <systemd/sd-journal.h>

#include "evidence.h"
#include "util.h"

const char *lb_journal_socket_path(void) {
        const char *e = secure_getenv("LOCKBOX_JOURNAL_SOCKET");
        return isempty(e) ? "/run/systemd/journal/socket" : e;
}

int lb_journal_available(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = lb_journal_socket_path();
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return 0;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 0;
        /* journald's socket is a datagram socket: connect() succeeds only if
         * something is bound there. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return 0;
        return 1;
}

int lb_journal_sendv(const struct iovec *iov, size_t n) {
        int r;

        if (!lb_journal_available())
                return -ENOTCONN;
        r = sd_journal_sendv(iov, (int) n);
        return r < 0 ? r : 0;
}

int lb_audit_user_message(int type, const char *message, const char *hostname,
                          const char *addr, const char *tty, bool result) {
        int fd, r;

        fd = audit_open();
        if (fd < 0)
                return errno == EINVAL || errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT
                               ? -EPROTONOSUPPORT
                               : -errno;
        r = audit_log_user_message(fd, type, message, hostname, addr, tty, result ? 1 : 0);
        audit_close(fd);
        if (r <= 0)
                return r < 0 ? r : -EIO;
        return 0;
}

char *lb_audit_value(const char *s) {
        size_t n = strlen(s);
        bool plain = n > 0;

        for (size_t i = 0; i < n && plain; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '=')
                        plain = false;
        }
        if (plain)
                return lb_asprintf("\"%s\"", s);
        return lb_hexencode(s, n);
}
