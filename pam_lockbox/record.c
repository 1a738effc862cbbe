/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The session record (docs/EVIDENCE.md §1): how pam_lockbox tells the recorder
 * which request and broker session a login belongs to. The recorder finds it
 * by its own audit session id, which the operator cannot change. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <jansson.h>

#include "pam_lockbox.h"
#include "timeutil.h"
#include "util.h"

#define LB_RECORD_MAX (64 * 1024)
#define LB_ID_MAX 64

int lb_pam_parse_audit_session(const char *text, uint32_t *ret) {
        _cleanup_free_ char *s = NULL;
        uint64_t v;
        size_t n;
        int r;

        if (!text)
                return -EINVAL;
        s = strdup(text);
        if (!s)
                return -ENOMEM;
        n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = '\0';
        r = lb_parse_u64(s, UINT32_MAX, &v);
        if (r < 0)
                return r;
        if (v == LB_AUDIT_SESSION_UNSET)
                return -ENXIO;
        *ret = (uint32_t) v;
        return 0;
}

int lb_pam_audit_session(uint32_t *ret) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = lb_read_file("/proc/self/sessionid", 64, &text, &len);
        if (r < 0)
                return r;
        return lb_pam_parse_audit_session(text, ret);
}

int lb_pam_record_format(const struct lb_pam_record *rec, char **ret) {
        const struct lb_session *s = rec->session;
        json_auto_t *j = NULL;
        char na[LB_TIME_LEN], now[LB_TIME_LEN];
        char *text;

        if (!s || !s->session || !s->request || !rec->user || !rec->host)
                return -EINVAL;
        j = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:o*}",
                      "session", s->session,
                      "request", s->request,
                      "operator", s->operator_,
                      "user", rec->user,
                      "host", rec->host,
                      "not_after", lb_time_format(s->not_after, na, sizeof(na)),
                      "remaining_s", (json_int_t) s->remaining_s,
                      "mono_ms", (json_int_t) rec->mono_ms,
                      "audit_session", (json_int_t) rec->audit_session,
                      "sshd_pid", (json_int_t) rec->sshd_pid,
                      "created_at", lb_time_format(rec->created_at, now, sizeof(now)),
                      "audit_lost",
                      rec->has_audit_lost ? json_integer((json_int_t) rec->audit_lost) : NULL);
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int lb_pam_record_parse_session(const char *json, size_t len, char **ret_session) {
        json_auto_t *j = NULL;
        json_error_t err;
        const char *s;

        j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(j))
                return -EBADMSG;
        s = json_string_value(json_object_get(j, "session"));
        if (!s || !lb_name_valid(s, LB_ID_MAX))
                return -EBADMSG;
        *ret_session = strdup(s);
        return *ret_session ? 0 : -ENOMEM;
}

int lb_pam_record_parse_user(const char *json, size_t len, uint32_t ses, char **ret_user) {
        json_auto_t *j = NULL;
        json_error_t err;
        json_t *a;
        const char *u;

        j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(j))
                return -EBADMSG;
        a = json_object_get(j, "audit_session");
        u = json_string_value(json_object_get(j, "user"));
        if (!json_is_integer(a) || json_integer_value(a) != (json_int_t) ses || isempty(u))
                return -EBADMSG;
        *ret_user = strdup(u);
        return *ret_user ? 0 : -ENOMEM;
}

int lb_pam_record_parse_audit_lost(const char *json, size_t len, uint32_t ses, uint64_t *ret) {
        json_auto_t *j = NULL;
        json_error_t err;
        json_t *a, *l;

        j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(j))
                return -EBADMSG;
        a = json_object_get(j, "audit_session");
        if (!json_is_integer(a) || json_integer_value(a) != (json_int_t) ses)
                return -EBADMSG;
        l = json_object_get(j, "audit_lost");
        if (!l)
                return -ENOENT;
        if (!json_is_integer(l) || json_integer_value(l) < 0 ||
            json_integer_value(l) > (json_int_t) UINT32_MAX)
                return -EBADMSG;
        *ret = (uint64_t) json_integer_value(l);
        return 0;
}

int lb_pam_audit_lost(unsigned timeout_ms, uint64_t *ret) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        struct nlmsghdr req = { .nlmsg_len = NLMSG_LENGTH(0), .nlmsg_type = AUDIT_GET,
                                .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 };
        uint64_t until = lb_mono_ms() + timeout_ms;
        _cleanup_close_ int fd = -1;

        /* raw netlink, not libaudit: its request waits for an ack up to 40 s */
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
        if (fd < 0)
                return -errno;
        if (sendto(fd, &req, req.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
                return -errno;
        for (;;) {
                union {
                        struct nlmsghdr h;
                        char b[8192];
                } u;
                struct sockaddr_nl from = {};
                socklen_t fl = sizeof(from);
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = lb_mono_ms();
                ssize_t n;
                int k, len;

                if (now >= until)
                        return -ETIMEDOUT;
                k = poll(&p, 1, (int) MIN(until - now, (uint64_t) INT32_MAX));
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k <= 0)
                        continue;
                n = recvfrom(fd, u.b, sizeof(u.b), 0, (struct sockaddr *) &from, &fl);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                if (from.nl_pid != 0)
                        continue; /* only the kernel answers */
                len = (int) n;
                for (struct nlmsghdr *h = &u.h; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0)
                                        return e->error;
                                continue;
                        }
                        if (h->nlmsg_type == AUDIT_GET && h->nlmsg_seq == req.nlmsg_seq &&
                            h->nlmsg_len >= NLMSG_LENGTH(offsetof(struct audit_status, lost) +
                                                         sizeof(uint32_t))) {
                                const struct audit_status *st = NLMSG_DATA(h);
                                *ret = st->lost;
                                return 0;
                        }
                }
        }
}

/* A directory we may trust: ours, a real directory (not a symlink), not
 * writable by anyone else. */
static int open_trusted_dir(int parent, const char *name, mode_t mode, bool create) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (create && mkdirat(parent, name, mode) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return -EPERM;
        return TAKE_FD(fd);
}

static int open_sessions_dir(const char *state_dir, bool create) {
        _cleanup_close_ int sd = -1;
        int fd;
        struct stat st;

        if (!state_dir || state_dir[0] != '/')
                return -EINVAL;
        sd = open_trusted_dir(AT_FDCWD, state_dir, 0755, create);
        if (sd < 0)
                return sd;
        fd = open_trusted_dir(sd, "sessions", 0700, create);
        if (fd < 0)
                return fd;
        /* records are for root (and the recorder before it drops privileges) only */
        if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
                if (fchmod(fd, 0700) < 0) {
                        int e = -errno;
                        close(fd);
                        return e;
                }
        }
        return fd;
}

static int record_name(uint32_t ses, char *buf, size_t size) {
        int k = snprintf(buf, size, "%" PRIu32 ".json", ses);
        return k > 0 && (size_t) k < size ? 0 : -EINVAL;
}

int lb_pam_record_write(const char *state_dir, uint32_t ses, const char *json) {
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_free_ char *tmp = NULL;
        char name[32];
        unsigned char rnd[6];
        int r;

        if (ses == LB_AUDIT_SESSION_UNSET)
                return -ENXIO;
        r = record_name(ses, name, sizeof(name));
        if (r < 0)
                return r;
        dfd = open_sessions_dir(state_dir, true);
        if (dfd < 0)
                return dfd;
        r = lb_random_bytes(rnd, sizeof(rnd));
        if (r < 0)
                return r;
        tmp = lb_asprintf(".%s.%02x%02x%02x%02x%02x%02x", name, rnd[0], rnd[1], rnd[2], rnd[3],
                          rnd[4], rnd[5]);
        if (!tmp)
                return -ENOMEM;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = lb_write_all(fd, json, strlen(json));
        if (r >= 0)
                r = lb_write_all(fd, "\n", 1);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dfd, tmp, dfd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dfd, tmp, 0);
        return r < 0 ? r : 0;
}

int lb_pam_record_read(const char *state_dir, uint32_t ses, char **ret_json, size_t *ret_len) {
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_free_ char *buf = NULL;
        char name[32];
        struct stat st;
        size_t len = 0;
        int r;

        r = record_name(ses, name, sizeof(name));
        if (r < 0)
                return r;
        dfd = open_sessions_dir(state_dir, false);
        if (dfd < 0)
                return dfd;
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
                return -EPERM;
        if (st.st_size > LB_RECORD_MAX)
                return -E2BIG;
        buf = malloc(LB_RECORD_MAX + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + len, LB_RECORD_MAX - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len == LB_RECORD_MAX)
                        return -E2BIG;
        }
        buf[len] = '\0';
        *ret_json = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int lb_pam_record_remove(const char *state_dir, uint32_t ses) {
        _cleanup_close_ int dfd = -1;
        char name[32];
        int r;

        r = record_name(ses, name, sizeof(name));
        if (r < 0)
                return r;
        dfd = open_sessions_dir(state_dir, false);
        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, name, 0) < 0)
                return -errno;
        return 0;
}
