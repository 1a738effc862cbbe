/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Two tools for bench/record-throughput.sh:
 *   record-relay CMD [ARGS...]
 *       the baseline: a bare PTY relay (what any terminal recorder must at
 *       least do), nothing recorded;
 *   record-relay --measure SIZE CMD [ARGS...]
 *       the operator's terminal: runs CMD under a PTY and drains it as fast as
 *       it can; prints "seconds bytes sha256" of what arrived between the
 *       markers \2BENCH-START\3 and \2BENCH-END\3 (time from the start
 *       until the end marker), then waits for CMD to finish. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -1;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int measure(char **argv) {
        static const char start[] = "\002BENCH-START\003", end[] = "\002BENCH-END\003";
        static char buf[1 << 20];
        size_t have = 0, got = 0, ls = sizeof(start) - 1, le = sizeof(end) - 1;
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char d[32];
        int master, state = 0, st;
        double t0 = now(), t1 = 0;
        pid_t pid;

        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        pid = forkpty(&master, NULL, NULL, &ws);
        if (pid < 0)
                return 1;
        if (pid == 0) {
                execvp(argv[0], argv);
                _exit(127);
        }
        for (;;) {
                ssize_t n = read(master, buf + have, sizeof(buf) - have);
                char *p;
                if (n <= 0)
                        break;
                have += (size_t) n;
                if (state == 0) {
                        p = memmem(buf, have, start, ls);
                        if (!p) {
                                if (have > ls) {
                                        memmove(buf, buf + have - ls, ls);
                                        have = ls;
                                }
                                continue;
                        }
                        have -= (size_t) (p + ls - buf);
                        memmove(buf, p + ls, have);
                        state = 1;
                }
                if (state == 1) {
                        p = memmem(buf, have, end, le);
                        if (p) {
                                EVP_DigestUpdate(ctx, buf, (size_t) (p - buf));
                                got += (size_t) (p - buf);
                                t1 = now();
                                state = 2;
                                have = 0;
                                continue;
                        }
                        if (have > le) {
                                EVP_DigestUpdate(ctx, buf, have - le);
                                got += have - le;
                                memmove(buf, buf + have - le, le);
                                have = le;
                        }
                } else
                        have = 0; /* after the payload: drain until the end */
        }
        EVP_DigestFinal_ex(ctx, d, NULL);
        EVP_MD_CTX_free(ctx);
        waitpid(pid, &st, 0);
        if (state != 2) {
                fprintf(stderr, "payload end not seen (%zu bytes)\n", got);
                return 1;
        }
        printf("%.3f %zu ", t1 - t0, got);
        for (size_t i = 0; i < sizeof(d); i++)
                printf("%02x", d[i]);
        printf("\n");
        return 0;
}

int main(int argc, char **argv) {
        struct termios tio, raw;
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        static char buf[65536];
        int master, have_tio;
        pid_t pid;

        if (argc < 2)
                return 2;
        if (strcmp(argv[1], "--measure") == 0)
                return argc < 4 ? 2 : measure(argv + 3);
        (void) ioctl(0, TIOCGWINSZ, &ws);
        have_tio = tcgetattr(0, &tio) == 0;
        pid = forkpty(&master, NULL, have_tio ? &tio : NULL, &ws);
        if (pid < 0)
                return 1;
        if (pid == 0) {
                execvp(argv[1], argv + 1);
                _exit(127);
        }
        if (have_tio) {
                raw = tio;
                cfmakeraw(&raw);
                tcsetattr(0, TCSANOW, &raw);
        }
        for (;;) {
                struct pollfd p[2] = { { master, POLLIN, 0 }, { 0, POLLIN, 0 } };
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[0].revents) {
                        ssize_t n = read(master, buf, sizeof(buf));
                        if (n <= 0)
                                break;
                        if (write_all(1, buf, (size_t) n) < 0)
                                break;
                }
                if (p[1].revents) {
                        ssize_t n = read(0, buf, sizeof(buf));
                        if (n <= 0)
                                break;
                        if (write_all(master, buf, (size_t) n) < 0)
                                break;
                }
        }
        if (have_tio)
                tcsetattr(0, TCSANOW, &tio);
        {
                int st;
                waitpid(pid, &st, 0);
                return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
        }
}
