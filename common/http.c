/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "http.h"
#include "util.h"

#define LB_HTTP_DEFAULT_MAX (1024 * 1024)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_result = CURLE_FAILED_INIT;

static void do_init(void) {
        init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int lb_http_global_init(void) {
        pthread_once(&init_once, do_init);
        return init_result == CURLE_OK ? 0 : -EIO;
}

void lb_http_response_done(struct lb_http_response *r) {
        free(r->body);
        *r = (struct lb_http_response) {};
}

struct sink {
        char *buf;
        size_t len, max;
        int overflow;
};

static size_t on_data(char *p, size_t size, size_t n, void *userdata) {
        struct sink *s = userdata;
        size_t k = size * n;

        if (s->len + k > s->max) {
                s->overflow = 1;
                return 0; /* abort the transfer */
        }
        char *nb = realloc(s->buf, s->len + k + 1);
        if (!nb)
                return 0;
        s->buf = nb;
        memcpy(s->buf + s->len, p, k);
        s->len += k;
        s->buf[s->len] = '\0';
        return k;
}

static void curl_cleanup(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}

static void slist_cleanup(struct curl_slist **l) {
        curl_slist_free_all(*l);
}

static int map_curl(CURLcode c) {
        switch (c) {
        case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST: return -ECONNREFUSED;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_HTTP2:
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR: return -EPROTO;
        case CURLE_URL_MALFORMAT: return -EINVAL;
        case CURLE_OUT_OF_MEMORY: return -ENOMEM;
        default: return -EIO;
        }
}

int lb_http_request(const struct lb_http_opts *o, const char *method, const char *path,
                    const char *body, struct lb_http_response *ret) {
        _cleanup_(curl_cleanup) CURL *c = NULL;
        _cleanup_(slist_cleanup) struct curl_slist *hdrs = NULL;
        _cleanup_free_ char *url = NULL, *auth = NULL;
        struct sink s = { .max = o->max_response ? o->max_response : LB_HTTP_DEFAULT_MAX };
        unsigned timeout = o->timeout_ms ? o->timeout_ms : 5000;
        CURLcode cc;
        long status = 0;
        int r;

        if (!o->base || !path || path[0] != '/')
                return -EINVAL;
        r = lb_http_global_init();
        if (r < 0)
                return r;
        c = curl_easy_init();
        if (!c)
                return -ENOMEM;

        if (strneq(o->base, "unix:", 5)) {
                if (o->base[5] != '/')
                        return -EINVAL;
                curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, o->base + 5);
                url = lb_strjoin("http://localhost", path);
                curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
        } else if (strneq(o->base, "https://", 8)) {
                size_t bl = strlen(o->base);
                while (bl > 8 && o->base[bl - 1] == '/')
                        bl--;
                url = lb_asprintf("%.*s%s", (int) bl, o->base, path);
                curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
                curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
                curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
                if (o->ca_file)
                        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
        } else
                return -EINVAL;
        if (!url)
                return -ENOMEM;

        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) timeout);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long) timeout);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "lockbox/" PACKAGE_VERSION);
        curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);

        hdrs = curl_slist_append(hdrs, "Accept: application/json");
        if (body)
                hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        if (o->token) {
                auth = lb_strjoin("Authorization: Bearer ", o->token);
                if (!auth)
                        return -ENOMEM;
                hdrs = curl_slist_append(hdrs, auth);
        }
        hdrs = curl_slist_append(hdrs, "Expect:");
        if (!hdrs)
                return -ENOMEM;
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

        if (streq(method, "POST")) {
                curl_easy_setopt(c, CURLOPT_POST, 1L);
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) (body ? strlen(body) : 0));
        } else if (streq(method, "GET")) {
                curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else {
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
                if (body) {
                        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
                        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
                }
        }

        cc = curl_easy_perform(c);
        if (auth)
                lb_explicit_bzero(auth, strlen(auth));
        if (cc != CURLE_OK) {
                free(s.buf);
                if (s.overflow)
                        return -EFBIG;
                return map_curl(cc);
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (!s.buf) {
                s.buf = strdup("");
                if (!s.buf)
                        return -ENOMEM;
        }
        ret->status = status;
        ret->body = s.buf;
        ret->len = s.len;
        return 0;
}

char *lb_http_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s), o = 0;
        char *r = malloc(n * 3 + 1);

        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];
                if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
                        r[o++] = (char) ch;
                else {
                        r[o++] = '%';
                        r[o++] = hex[ch >> 4];
                        r[o++] = hex[ch & 15];
                }
        }
        r[o] = '\0';
        return r;
}

int lb_http_read_token(const char *path, char **ret) {
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t len;
        int r;

        if (stat(path, &st) < 0)
                return -errno;
        if (st.st_mode & S_IWOTH || st.st_mode & S_IROTH)
                return -EPERM; /* a world-readable token is a leaked token */
        r = lb_read_file(path, 4096, &data, &len);
        if (r < 0)
                return r;
        data[strcspn(data, "\r\n")] = '\0';
        len = strlen(data);
        while (len > 0 && isspace((unsigned char) data[len - 1]))
                data[--len] = '\0';
        if (len == 0)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++)
                if (!isgraph((unsigned char) data[i]))
                        return -EBADMSG;
        *ret = TAKE_PTR(data);
        return 0;
}
