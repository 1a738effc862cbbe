/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/audit.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "audit_cmd.h"
#include "audit_cmd_netlink.h"
#include "util.h"

int lb_audit_nl_open(int *ret) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
                                  .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1) };
        int size = 32 * 1024 * 1024;
        _cleanup_close_ int fd = -1;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
        if (fd < 0)
                return -errno;
        /* as root, before privileges are dropped: beyond rmem_max */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        *ret = TAKE_FD(fd);
        return 0;
}

static bool turned_off(int type, const char *text, size_t len) {
        static const char key[] = "op=set audit_enabled=0 ";
        return type == AUDIT_CONFIG_CHANGE && memmem(text, len, key, sizeof(key) - 1) &&
               memmem(text, len, " res=1", 6);
}

int lb_audit_nl_read_state(int fd, struct lb_audit_parser *p, lb_cmd_cb_t cb, void *userdata,
                           struct lb_audit_nl_state *st) {
        static char buf[256 * 1024];
        int n_msgs = 0;

        for (int round = 0; round < 64; round++) {
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return n_msgs;
                        if (errno == ENOBUFS) {
                                st->lost++;
                                continue;
                        }
                        return -errno;
                }
                /* The kernel sends one record per datagram; its nlmsg_len has
                 * not always counted the header, so trust the datagram size. */
                if ((size_t) n >= NLMSG_HDRLEN) {
                        struct nlmsghdr *h = (struct nlmsghdr *) buf;
                        const char *text = buf + NLMSG_HDRLEN;
                        size_t len = (size_t) n - NLMSG_HDRLEN;
                        struct lb_cmd *c = NULL;
                        int r;

                        while (len > 0 && (text[len - 1] == 0 || text[len - 1] == '\n'))
                                len--;
                        if (st->marker && memmem(text, len, st->marker, strlen(st->marker)))
                                st->marker_seen = true;
                        {
                                uint64_t serial = 0;
                                size_t body;
                                bool has_serial = lb_audit_serial(text, len, &serial, &body) == 0;

                                if (turned_off(h->nlmsg_type, text, len)) {
                                        st->turned_off = true;
                                        st->records_flow = false;
                                        if (has_serial)
                                                st->off_serial = serial;
                                } else if (h->nlmsg_type != AUDIT_USER_AVC && has_serial &&
                                           serial > st->off_serial)
                                        st->records_flow = true;
                        }
                        r = lb_audit_parser_feed(p, h->nlmsg_type, text, len, &c);
                        if (r > 0) {
                                r = cb(userdata, c);
                                lb_cmd_free(c);
                                if (r < 0)
                                        return r;
                        }
                        n_msgs++;
                }
        }
        return n_msgs;
}
