/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ceiling for bench/broker-access.sh: a minimal libmicrohttpd server
 * that answers every request with the same JSON body, on 127.0.0.1:PORT,
 * with the threading the broker uses (a pool of THREADS polling threads) and
 * optionally TLS. No parsing, no store, no auth: what is left is MHD, the
 * kernel and (with TLS) GnuTLS.
 *
 *   mhd-fixed PORT BODYFILE THREADS [CERT KEY]
 *
 * Runs until SIGTERM/SIGINT. Not part of the product. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

static char *body;
static size_t body_len;

static char *slurp(const char *path, size_t *len) {
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                fclose(f);
                return NULL;
        }
        buf = malloc((size_t) n + 1);
        if (!buf || fread(buf, 1, (size_t) n, f) != (size_t) n) {
                free(buf);
                fclose(f);
                return NULL;
        }
        buf[n] = '\0';
        fclose(f);
        *len = (size_t) n;
        return buf;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size,
                              void **con_cls) {
        struct MHD_Response *r;
        enum MHD_Result ret;

        (void) cls, (void) url, (void) method, (void) version, (void) upload_data;
        if (*con_cls == NULL) {
                *con_cls = (void *) 1; /* first call: headers only */
                return MHD_YES;
        }
        *upload_size = 0;
        r = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
        if (!r)
                return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "application/json");
        ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
}

int main(int argc, char **argv) {
        struct MHD_Daemon *d;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ERROR_LOG;
        char *cert = NULL, *key = NULL;
        size_t n;
        sigset_t ss;
        int port, threads, sig;

        if (argc != 4 && argc != 6) {
                fprintf(stderr, "usage: %s PORT BODYFILE THREADS [CERT KEY]\n", argv[0]);
                return 2;
        }
        port = atoi(argv[1]);
        threads = atoi(argv[3]);
        body = slurp(argv[2], &body_len);
        if (!body || port <= 0 || threads <= 0) {
                fprintf(stderr, "mhd-fixed: bad arguments\n");
                return 2;
        }
        if (argc == 6) {
                cert = slurp(argv[4], &n);
                key = slurp(argv[5], &n);
                if (!cert || !key) {
                        fprintf(stderr, "mhd-fixed: cannot read %s or %s\n", argv[4], argv[5]);
                        return 1;
                }
                flags |= MHD_USE_TLS;
        }
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL); /* MHD threads inherit the mask */

        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (cert)
                d = MHD_start_daemon(flags, (uint16_t) port, NULL, NULL, answer, NULL,
                                     MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned) threads,
                                     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
                                     MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
        else
                d = MHD_start_daemon(flags, (uint16_t) port, NULL, NULL, answer, NULL,
                                     MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned) threads,
                                     MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
        if (!d) {
                fprintf(stderr, "mhd-fixed: cannot start on 127.0.0.1:%d\n", port);
                return 1;
        }
        sigwait(&ss, &sig);
        MHD_stop_daemon(d);
        return 0;
}
