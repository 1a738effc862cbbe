/* A host whose clocks disagree with the broker's, for bypass-keys.sh: loaded
 * into sshd (LD_PRELOAD; it reaches pam_lockbox inside sshd, not the setuid
 * recorder), it moves the wall clock by LBX_SKEW_WALL_S seconds and the
 * monotonic clocks by LBX_SKEW_MONO_S seconds. Built by the test with cc. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long skew(const char *name) {
        const char *v = getenv(name);
        return v ? strtol(v, NULL, 10) : 0;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
        static int (*real)(clockid_t, struct timespec *);
        int k;

        if (!real)
                real = (int (*)(clockid_t, struct timespec *)) dlsym(RTLD_NEXT, "clock_gettime");
        k = real(id, ts);
        if (k == 0) {
                if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)
                        ts->tv_sec += skew("LBX_SKEW_WALL_S");
                else if (id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE ||
                         id == CLOCK_MONOTONIC_RAW || id == CLOCK_BOOTTIME)
                        ts->tv_sec += skew("LBX_SKEW_MONO_S");
        }
        return k;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
        struct timespec ts;

        (void) tz;
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -1;
        if (tv) {
                tv->tv_sec = ts.tv_sec;
                tv->tv_usec = ts.tv_nsec / 1000;
        }
        return 0;
}

time_t time(time_t *t) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        if (t)
                *t = ts.tv_sec;
        return ts.tv_sec;
}
