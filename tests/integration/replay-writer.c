/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A test writer for lockbox-replay: writes one session's records exactly as
 * docs/EVIDENCE.md §2-4 specifies, to a spool file and/or journald. It is
 * written from the document, independently of lockbox-record, so the two
 * sides meet only at the contract.
 *
 * replay-writer --session S [--request R] [--operator O] [--user U] [--host H]
 *               [--spool FILE] [--journal] [--skip-seq N] [--resend] DIRECTIVE...
 *   out:FILE[:CHUNK]  out records with FILE's bytes, CHUNK bytes each (4096),
 *                     batched into one io entry
 *   in:TEXT           an in record
 *   cmd:FILE          a cmd record, FILE holds the argv NUL-separated
 *   resize:COLSxROWS  a resize record
 *   note:TEXT         a note record
 *   sleep:MS          sleep for real (the clock t follows)
 *   tick:MS           advance t by MS without sleeping
 *   touch:FILE        create FILE (tells a test what has been written)
 *   end[:REASON]      the end record (reason exit by default)
 * --skip-seq N leaves record N out of every sink (a gap); --resend sends
 * every io entry twice, the second with LOCKBOX_RESENT=1. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>

#include <jansson.h>

#include "chain.h"
#include "evidence.h"
#include "timeutil.h"
#include "util.h"

#define ID_START "2fb1b94404e04226bd17aa5adfaa9a65"
#define ID_IO "5c67643dd735480685e8055ae4b6ac81"
#define ID_CMD "d644840aff6f4e298f91556904be4955"
#define ID_END "c76eb49925e541db92b0019982f1e195"
#define ID_NOTE "fa52885c31594338b07a7aedc5f2bef2"

static const char *session = "s-test", *request = "r-test", *operator_ = "alice",
                  *user = "vendor", *host = "web1";
static int spool_fd = -1;
static bool journal, resend;
static uint64_t skip_seq;
static uint64_t seq;
static char prev[LB_CHAIN_HEX_LEN + 1] = LB_CHAIN_ZERO;
static uint64_t mono0, tick;

static uint64_t now_t(void) {
        return lb_mono_ms() - mono0 + tick;
}

static void die(const char *what) {
        fprintf(stderr, "replay-writer: %s\n", what);
        exit(1);
}

static char *time_ms(void) {
        struct timeval tv;
        struct tm tm;
        char buf[64];
        time_t s;

        gettimeofday(&tv, NULL);
        s = tv.tv_sec;
        gmtime_r(&s, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        return lb_asprintf("%s.%03dZ", buf, (int) (tv.tv_usec / 1000));
}

/* Completes obj (seq, t, kind, hash) and returns its line (without '\n'). */
static char *seal(json_t *obj, const char *kind) {
        char h[LB_CHAIN_HEX_LEN + 1];
        char *line;

        seq++;
        json_object_set_new(obj, "seq", json_integer((json_int_t) seq));
        json_object_set_new(obj, "t", json_integer((json_int_t) now_t()));
        json_object_set_new(obj, "kind", json_string(kind));
        if (lb_chain_hash(prev, obj, (const char *const[]) { "hash", NULL }, h) < 0)
                die("hash");
        json_object_set_new(obj, "hash", json_string(h));
        memcpy(prev, h, sizeof(h));
        line = json_dumps(obj, LB_CANON_FLAGS);
        if (!line)
                die("dump");
        json_decref(obj);
        return line;
}

static void spool_put(const char *line, uint64_t s) {
        if (spool_fd < 0 || s == skip_seq)
                return;
        if (lb_write_all(spool_fd, line, strlen(line)) < 0 || lb_write_all(spool_fd, "\n", 1) < 0)
                die("spool write");
        (void) fdatasync(spool_fd);
}

struct entry {
        char *records; /* lines, each ending in '\n' */
        size_t len;
        uint64_t first, last;
};

static void entry_add(struct entry *e, const char *line, uint64_t s) {
        size_t l = strlen(line);
        if (s == skip_seq)
                return;
        e->records = realloc(e->records, e->len + l + 2);
        if (!e->records)
                die("oom");
        memcpy(e->records + e->len, line, l);
        e->records[e->len + l] = '\n';
        e->len += l + 1;
        if (!e->first)
                e->first = s;
        e->last = s;
}

static void journal_send(struct entry *e, const char *id, const char *kind, int prio,
                         const char *message, char **extra) {
        struct iovec iov[32];
        char *f[32];
        size_t n = 0, nf = 0;
        int r;

        if (!journal || e->len == 0)
                goto done;
#define FIELD(...)                                                                      \
        do {                                                                            \
                f[nf] = lb_asprintf(__VA_ARGS__);                                       \
                iov[n++] = (struct iovec) { .iov_base = f[nf], .iov_len = strlen(f[nf]) }; \
                nf++;                                                                   \
        } while (0)
        FIELD("MESSAGE_ID=%s", id);
        FIELD("MESSAGE=%s", message);
        FIELD("PRIORITY=%d", prio);
        FIELD("SYSLOG_IDENTIFIER=lockbox-record");
        FIELD("LOCKBOX_SESSION=%s", session);
        FIELD("LOCKBOX_REQUEST=%s", request);
        FIELD("LOCKBOX_OPERATOR=%s", operator_);
        FIELD("LOCKBOX_USER=%s", user);
        FIELD("LOCKBOX_HOST=%s", host);
        FIELD("LOCKBOX_KIND=%s", kind);
        FIELD("LOCKBOX_SEQ_FIRST=%" PRIu64, e->first);
        FIELD("LOCKBOX_SEQ_LAST=%" PRIu64, e->last);
        for (size_t i = 0; extra && extra[i]; i++)
                FIELD("%s", extra[i]);
        /* binary-safe: the records field is given with its length */
        f[nf] = malloc(e->len + 17);
        memcpy(f[nf], "LOCKBOX_RECORDS=", 16);
        memcpy(f[nf] + 16, e->records, e->len);
        iov[n++] = (struct iovec) { .iov_base = f[nf], .iov_len = e->len + 16 };
        nf++;
        r = lb_journal_sendv(iov, n);
        if (r < 0)
                die("journal send failed");
        if (resend && streq(kind, "io")) {
                FIELD("LOCKBOX_RESENT=1");
                if (lb_journal_sendv(iov, n) < 0)
                        die("journal re-send failed");
        }
        for (size_t i = 0; i < nf; i++)
                free(f[i]);
done:
        free(e->records);
        *e = (struct entry) {};
}

static void one(json_t *obj, const char *kind, const char *id, const char *jkind, int prio,
                const char *message, char **extra) {
        struct entry e = {};
        uint64_t s = seq + 1;
        _cleanup_free_ char *line = seal(obj, kind);

        spool_put(line, s);
        entry_add(&e, line, s);
        journal_send(&e, id, jkind, prio, message, extra);
}

static char *read_all(const char *path, size_t *len) {
        char *d = NULL;
        if (lb_read_file(path, 64 * 1024 * 1024, &d, len) < 0)
                die("cannot read a directive's file");
        return d;
}

static void do_out(const char *arg) {
        _cleanup_free_ char *path = strdup(arg), *data = NULL;
        char *colon = strrchr(path, ':');
        size_t chunk = 4096, len, batched = 0;
        struct entry e = {};

        if (colon) {
                uint64_t c;
                if (lb_parse_u64(colon + 1, 1 << 20, &c) < 0 || c == 0)
                        die("bad chunk size");
                chunk = c;
                *colon = '\0';
        }
        data = read_all(path, &len);
        for (size_t off = 0; off < len; off += chunk) {
                size_t n = MIN(chunk, len - off);
                _cleanup_free_ char *b64 = lb_base64_encode(data + off, n, true);
                json_t *o = json_pack("{s:s, s:s, s:I}", "data", b64, "stream", "tty", "len",
                                      (json_int_t) n);
                uint64_t s = seq + 1;
                _cleanup_free_ char *line = seal(o, "out");
                spool_put(line, s);
                entry_add(&e, line, s);
                batched += n;
                if (e.len >= 256 * 1024) {
                        _cleanup_free_ char *m = lb_asprintf("lockbox: session %s output, %" PRIu64
                                                             " records, %zu bytes",
                                                             session, e.last - e.first + 1, batched);
                        journal_send(&e, ID_IO, "io", 6, m, NULL);
                        batched = 0;
                }
        }
        if (e.len > 0) {
                _cleanup_free_ char *m = lb_asprintf("lockbox: session %s output, %" PRIu64
                                                     " records, %zu bytes",
                                                     session, e.last - e.first + 1, batched);
                journal_send(&e, ID_IO, "io", 6, m, NULL);
        }
}

static void do_cmd(const char *path) {
        _cleanup_free_ char *data = NULL, *text = NULL, *m = NULL, *fa = NULL, *fc = NULL,
                            *fe = NULL, *fp = NULL;
        size_t len;
        json_t *argv = json_array();
        char *extra[5];

        data = read_all(path, &len);
        text = strdup("");
        for (size_t off = 0; off < len;) {
                size_t l = strnlen(data + off, len - off);
                _cleanup_free_ char *b64 = lb_base64_encode(data + off, l, true);
                _cleanup_free_ char *part = NULL, *safe = NULL;
                json_array_append_new(argv, json_string(b64));
                part = strndup(data + off, l);
                safe = lb_term_safe(part);
                char *t = lb_asprintf("%s%s%s", text, *text ? " " : "", safe);
                free(text);
                text = t;
                off += l + 1;
        }
        json_t *o = json_pack("{s:i, s:i, s:i, s:s, s:s, s:o, s:s, s:s}", "pid", 4242, "ppid", 4241,
                              "uid", 1000, "exe", "/usr/bin/test-exe", "cwd", "/home/vendor",
                              "argv", argv, "argv_text", text, "source", "audit");
        m = lb_asprintf("lockbox: %s (%s@%s) ran %s", operator_, user, host, text);
        fa = lb_asprintf("LOCKBOX_ARGV=%s", text);
        fc = strdup("LOCKBOX_CWD=/home/vendor");
        fe = strdup("LOCKBOX_EXE=/usr/bin/test-exe");
        fp = strdup("LOCKBOX_PID=4242");
        extra[0] = fa, extra[1] = fc, extra[2] = fe, extra[3] = fp, extra[4] = NULL;
        one(o, "cmd", ID_CMD, "cmd", 6, m, extra);
}

int main(int argc, char **argv) {
        static const struct option lo[] = {
                { "session", required_argument, NULL, 's' }, { "request", required_argument, NULL, 'r' },
                { "operator", required_argument, NULL, 'o' }, { "user", required_argument, NULL, 'u' },
                { "host", required_argument, NULL, 'H' },    { "spool", required_argument, NULL, 'S' },
                { "journal", no_argument, NULL, 'j' },       { "skip-seq", required_argument, NULL, 'k' },
                { "resend", no_argument, NULL, 'R' },        {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "+", lo, NULL)) >= 0)
                switch (c) {
                case 's': session = optarg; break;
                case 'r': request = optarg; break;
                case 'o': operator_ = optarg; break;
                case 'u': user = optarg; break;
                case 'H': host = optarg; break;
                case 'S':
                        spool_fd = open(optarg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                        if (spool_fd < 0)
                                die("cannot open the spool file");
                        break;
                case 'j': journal = true; break;
                case 'k':
                        if (lb_parse_u64(optarg, UINT64_MAX, &skip_seq) < 0)
                                die("bad --skip-seq");
                        break;
                case 'R': resend = true; break;
                default: return 2;
                }
        if (journal && !lb_journal_available())
                die("journald is not there");
        mono0 = lb_mono_ms();

        {
                _cleanup_free_ char *tm = time_ms(), *m = NULL;
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:i, s:i, s:s, "
                                      "s:s, s:s}",
                                      "session", session, "request", request, "operator", operator_,
                                      "user", user, "host", host, "time", tm, "not_after",
                                      "2099-01-01T00:00:00Z", "mode", "interactive", "command",
                                      "cols", 100, "rows", 30, "term", "xterm-256color",
                                      "recorder", "test-writer", "cmd_source", "audit");
                m = lb_asprintf("lockbox: session %s started: %s (%s@%s) for %s", session,
                                operator_, user, host, request);
                one(o, "start", ID_START, "start", 5, m, NULL);
        }

        for (int i = optind; i < argc; i++) {
                const char *d = argv[i];
                if (strneq(d, "out:", 4))
                        do_out(d + 4);
                else if (strneq(d, "cmd:", 4))
                        do_cmd(d + 4);
                else if (strneq(d, "in:", 3)) {
                        _cleanup_free_ char *b64 = lb_base64_encode(d + 3, strlen(d + 3), true);
                        json_t *o = json_pack("{s:s, s:s, s:I}", "data", b64, "stream", "tty", "len",
                                              (json_int_t) strlen(d + 3));
                        one(o, "in", ID_IO, "io", 6, "lockbox: input", NULL);
                } else if (strneq(d, "resize:", 7)) {
                        unsigned cols, rows;
                        if (sscanf(d + 7, "%ux%u", &cols, &rows) != 2)
                                die("bad resize");
                        json_t *o = json_pack("{s:i, s:i}", "cols", (int) cols, "rows", (int) rows);
                        one(o, "resize", ID_IO, "io", 6, "lockbox: resize", NULL);
                } else if (strneq(d, "note:", 5)) {
                        json_t *o = json_pack("{s:s}", "text", d + 5);
                        one(o, "note", ID_NOTE, "note", 6, d + 5, NULL);
                } else if (strneq(d, "sleep:", 6) || strneq(d, "tick:", 5)) {
                        uint64_t ms;
                        if (lb_parse_u64(strchr(d, ':') + 1, 600000, &ms) < 0)
                                die("bad sleep/tick");
                        if (d[1] == 'l') {
                                struct timespec ts = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };
                                nanosleep(&ts, NULL);
                        } else
                                tick += ms;
                } else if (strneq(d, "touch:", 6)) {
                        int fd = open(d + 6, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                        if (fd < 0)
                                die("cannot create the touch file");
                        close(fd);
                } else if (strneq(d, "end", 3)) {
                        _cleanup_free_ char *tm = time_ms(), *m = NULL;
                        const char *reason = d[3] == ':' ? d + 4 : "exit";
                        json_t *o = json_pack("{s:s, s:i, s:s, s:[]}", "reason", reason, "status", 0,
                                              "time", tm, "truncated");
                        m = lb_asprintf("lockbox: session %s ended (%s)", session, reason);
                        one(o, "end", ID_END, "end", 5, m, NULL);
                } else
                        die("unknown directive");
        }
        if (spool_fd >= 0)
                close(spool_fd);
        return 0;
}
