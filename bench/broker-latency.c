/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Latency of sequential broker calls over its unix socket, as a host's PAM
 * module or keys helper makes them: one connection per call, one request,
 * read the answer to the end. Prints p50/p90/p99/max in milliseconds.
 *
 *   broker-latency SOCKET PATH SAMPLES
 *
 * Not part of the product (bench/ only). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* One call; returns the HTTP status or -1. */
static int call(const char *sock, const char *req, size_t reqlen) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[65536];
        size_t got = 0;
        int fd, status = -1;

        if (strlen(sock) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, sock);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || write(fd, req, reqlen) != (ssize_t) reqlen) {
                close(fd);
                return -1;
        }
        for (;;) {
                ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t) n;
                if (got == sizeof(buf) - 1)
                        got = 16; /* keep the status line, drop the rest */
        }
        close(fd);
        buf[got] = '\0';
        if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
                status = atoi(buf + 9);
        return status;
}

int main(int argc, char **argv) {
        char req[4096];
        double *t;
        int n, len, errors = 0;

        if (argc != 4 || (n = atoi(argv[3])) <= 0) {
                fprintf(stderr, "usage: %s SOCKET PATH SAMPLES\n", argv[0]);
                return 2;
        }
        len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                                         "Connection: close\r\n\r\n", argv[2]);
        if (len <= 0 || (size_t) len >= sizeof(req))
                return 2;
        t = calloc((size_t) n, sizeof(double));
        if (!t)
                return 1;
        for (int i = 0; i < 100; i++) /* warm up */
                call(argv[1], req, (size_t) len);
        for (int i = 0; i < n; i++) {
                double a = now_ms();
                int s = call(argv[1], req, (size_t) len);
                t[i] = now_ms() - a;
                if (s != 200)
                        errors++;
        }
        qsort(t, (size_t) n, sizeof(double), cmp);
        printf("samples=%d errors=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", n, errors,
               t[n / 2], t[(int) ((double) n * 0.90)], t[(int) ((double) n * 0.99)], t[n - 1]);
        free(t);
        return errors ? 1 : 0;
}
