/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The baseline for bench/record-throughput.sh: a bare PTY relay (what any
 * terminal recorder must at least do), nothing recorded.
 *   record-relay CMD [ARGS...] */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

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

int main(int argc, char **argv) {
        struct termios tio, raw;
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        static char buf[65536];
        int master, have_tio;
        pid_t pid;

        if (argc < 2)
                return 2;
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
