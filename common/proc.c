/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <signal.h>
#include <time.h>

#include "proc.h"
#include "util.h"

int lb_proc_audit_session(pid_t pid, uint32_t *ret) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        uint64_t v;
        size_t n;
        int r;

        path = pid > 0 ? lb_asprintf("/proc/%d/sessionid", (int) pid)
                       : strdup("/proc/self/sessionid");
        if (!path)
                return -ENOMEM;
        r = lb_read_file(path, 64, &s, &n);
        if (r < 0)
                return r;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = 0;
        r = lb_parse_u64(s, UINT32_MAX, &v);
        if (r < 0)
                return r;
        if (v == LB_AUDIT_SESSION_UNSET)
                return -ENXIO;
        *ret = (uint32_t) v;
        return 0;
}

/* Read /proc/PID/status into *ret_text; *ret_value points at the value of
 * its line "KEY:" (blanks skipped). */
static int proc_status_field(pid_t pid, const char *key, char **ret_text, const char **ret_value) {
        _cleanup_free_ char *path = lb_asprintf("/proc/%d/status", (int) pid), *s = NULL,
                            *needle = lb_asprintf("\n%s:", key);
        const char *p;
        size_t n;
        int r;

        if (!path || !needle)
                return -ENOMEM;
        r = lb_read_file(path, 64 * 1024, &s, &n);
        if (r < 0)
                return r;
        p = strstr(s, needle);
        if (!p)
                return -EBADMSG;
        p += strlen(needle);
        while (*p == ' ' || *p == '\t')
                p++;
        *ret_value = p;
        *ret_text = TAKE_PTR(s);
        return 0;
}

int lb_proc_ppid(pid_t pid, pid_t *ret) {
        _cleanup_free_ char *s = NULL;
        const char *p;
        char num[24];
        size_t k = 0;
        uint64_t v;
        int r;

        r = proc_status_field(pid, "PPid", &s, &p);
        if (r < 0)
                return r;
        while (k < sizeof(num) - 1 && p[k] >= '0' && p[k] <= '9') {
                num[k] = p[k];
                k++;
        }
        num[k] = 0;
        r = lb_parse_u64(num, INT32_MAX, &v);
        if (r < 0)
                return r;
        *ret = (pid_t) v;
        return 0;
}

#define MAX_ANCESTORS 64

static bool proc_is_zombie(pid_t pid) {
        _cleanup_free_ char *path = lb_asprintf("/proc/%d/stat", (int) pid), *s = NULL;
        const char *p;
        size_t n;

        if (!path || lb_read_file(path, 64 * 1024, &s, &n) < 0)
                return false;
        p = strrchr(s, ')');
        return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* Are the real, effective and saved uid of pid all uid? */
static bool proc_all_uid(pid_t pid, uid_t uid) {
        _cleanup_free_ char *s = NULL;
        unsigned long u[3];
        const char *p;

        if (proc_status_field(pid, "Uid", &s, &p) < 0 ||
            sscanf(p, "%lu %lu %lu", &u[0], &u[1], &u[2]) != 3)
                return false;
        return u[0] == uid && u[1] == uid && u[2] == uid;
}

int lb_session_kill(uint32_t audit_session, pid_t except, uid_t spare, int sig) {
        pid_t keep[MAX_ANCESTORS];
        size_t nkeep = 0;
        DIR *d;
        struct dirent *de;
        int count = 0;

        if (audit_session == LB_AUDIT_SESSION_UNSET)
                return -EINVAL;
        for (pid_t p = except; p > 1 && nkeep < MAX_ANCESTORS;) {
                keep[nkeep++] = p;
                if (lb_proc_ppid(p, &p) < 0)
                        break;
        }
        d = opendir("/proc");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                uint64_t v;
                uint32_t ses;
                bool skip = false;

                if (lb_parse_u64(de->d_name, INT32_MAX, &v) < 0 || v <= 1)
                        continue;
                for (size_t i = 0; i < nkeep; i++)
                        if (keep[i] == (pid_t) v)
                                skip = true;
                if (skip)
                        continue;
                if (lb_proc_audit_session((pid_t) v, &ses) < 0 || ses != audit_session)
                        continue;
                if (proc_is_zombie((pid_t) v))
                        continue;
                if (spare != LB_UID_NONE && proc_all_uid((pid_t) v, spare))
                        continue;
                if (kill((pid_t) v, sig) == 0)
                        count++;
        }
        closedir(d);
        return count;
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

int lb_session_kill_all(uint32_t audit_session, pid_t except, uid_t spare, unsigned grace_ms) {
        int r;

        /* HUP first: an interactive shell ignores TERM but not a hangup */
        r = lb_session_kill(audit_session, except, spare, SIGHUP);
        if (r <= 0)
                return r;
        (void) lb_session_kill(audit_session, except, spare, SIGTERM);
        (void) lb_session_kill(audit_session, except, spare, SIGCONT);
        for (unsigned waited = 0; waited < grace_ms; waited += 50) {
                sleep_ms(50);
                if (lb_session_kill(audit_session, except, spare, 0) == 0)
                        return 0;
        }
        (void) lb_session_kill(audit_session, except, spare, SIGKILL);
        for (unsigned waited = 0; waited < grace_ms; waited += 50) {
                sleep_ms(50);
                r = lb_session_kill(audit_session, except, spare, 0);
                if (r <= 0)
                        return r;
        }
        return lb_session_kill(audit_session, except, spare, 0);
}
