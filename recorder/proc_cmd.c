/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "audit_cmd_netlink.h"
#include "proc.h"
#include "util.h"

int lb_proc_cmd_open(int *ret) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC,
                                  .nl_pid = 0 };
        struct {
                struct nlmsghdr h;
                struct cn_msg m;
                enum proc_cn_mcast_op op;
        } __attribute__((packed)) req = {};
        int size = 8 * 1024 * 1024;
        _cleanup_close_ int fd = -1;

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        req.h.nlmsg_len = sizeof(req);
        req.h.nlmsg_type = NLMSG_DONE;
        req.h.nlmsg_pid = (uint32_t) getpid();
        req.m.id.idx = CN_IDX_PROC;
        req.m.id.val = CN_VAL_PROC;
        req.m.len = sizeof(req.op);
        req.op = PROC_CN_MCAST_LISTEN;
        if (send(fd, &req, sizeof(req), 0) < 0)
                return -errno;
        *ret = TAKE_FD(fd);
        return 0;
}

static int read_link(const char *path, char **ret) {
        char buf[4097];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static int proc_status_uid(pid_t pid, int64_t *ret) {
        _cleanup_free_ char *path = lb_asprintf("/proc/%d/status", (int) pid), *s = NULL;
        const char *p;
        size_t n;

        if (!path || lb_read_file(path, 64 * 1024, &s, &n) < 0)
                return -ENOENT;
        p = strstr(s, "\nUid:");
        if (!p)
                return -EBADMSG;
        *ret = strtoll(p + 5, NULL, 10);
        return 0;
}

static int cmd_from_proc(pid_t pid, struct lb_cmd **ret) {
        _cleanup_free_ char *path = NULL, *cmdline = NULL;
        struct lb_cmd *c;
        size_t n, argc = 0;
        pid_t ppid = 0;
        int r;

        path = lb_asprintf("/proc/%d/cmdline", (int) pid);
        if (!path)
                return -ENOMEM;
        r = lb_read_file(path, 2 * 1024 * 1024, &cmdline, &n);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (cmdline[i] == 0)
                        argc++;
        if (n > 0 && cmdline[n - 1] != 0)
                argc++;
        c->argv = calloc(argc + 1, sizeof(char *));
        c->argv_len = calloc(argc + 1, sizeof(size_t));
        if (!c->argv || !c->argv_len) {
                lb_cmd_free(c);
                return -ENOMEM;
        }
        for (size_t i = 0, start = 0; i <= n && c->argc < argc; i++) {
                if (i == n || cmdline[i] == 0) {
                        c->argv[c->argc] = strndup(cmdline + start, i - start);
                        c->argv_len[c->argc] = i - start;
                        if (!c->argv[c->argc]) {
                                lb_cmd_free(c);
                                return -ENOMEM;
                        }
                        c->argc++;
                        start = i + 1;
                }
        }
        free(path);
        path = lb_asprintf("/proc/%d/cwd", (int) pid);
        if (path)
                (void) read_link(path, &c->cwd);
        free(path);
        path = lb_asprintf("/proc/%d/exe", (int) pid);
        if (path)
                (void) read_link(path, &c->exe);
        (void) lb_proc_ppid(pid, &ppid);
        (void) proc_status_uid(pid, &c->uid);
        c->pid = pid;
        c->ppid = ppid;
        c->source = "proc";
        *ret = c;
        return 0;
}

int lb_proc_cmd_read(int fd, uint32_t ses, lb_cmd_cb_t cb, void *userdata) {
        static char buf[64 * 1024];
        int count = 0;

        for (int round = 0; round < 64; round++) {
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR || errno == ENOBUFS ? count
                                                                                    : -errno;
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n);
                     h = NLMSG_NEXT(h, n)) {
                        struct cn_msg *m = NLMSG_DATA(h);
                        struct proc_event *ev = (struct proc_event *) m->data;
                        struct lb_cmd *c = NULL;
                        uint32_t s;
                        pid_t pid;
                        int r;

                        if (ev->what != PROC_EVENT_EXEC)
                                continue;
                        pid = ev->event_data.exec.process_pid;
                        if (pid != ev->event_data.exec.process_tgid)
                                continue;
                        if (lb_proc_audit_session(pid, &s) < 0 || s != ses)
                                continue;
                        if (cmd_from_proc(pid, &c) < 0)
                                continue;
                        c->ses = ses;
                        r = cb(userdata, c);
                        lb_cmd_free(c);
                        if (r < 0)
                                return r;
                        count++;
                }
        }
        return count;
}
