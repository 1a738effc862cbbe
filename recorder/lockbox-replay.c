/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockbox-replay: find, verify, replay and export recorded sessions
 * (docs/EVIDENCE.md, DESIGN §7). The work is in replay-*.c. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <time.h>

#include "broker_client.h"
#include "conf.h"
#include "log.h"
#include "replay-asciicast.h"
#include "replay-records.h"
#include "replay-sanitize.h"
#include "replay-source.h"
#include "timeutil.h"
#include "util.h"

#define EXIT_USAGE 2

static const char *strempty_or(const char *s) {
        return s ? s : "";
}

struct opts {
        struct lb_source src;
        bool json;
        const char *broker, *token_file;
};

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("lockbox-replay: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputs("\nTry 'lockbox-replay --help'.\n", stderr);
        va_end(ap);
        return EXIT_USAGE;
}

static void help(void) {
        printf("Usage: lockbox-replay [SOURCE] [--json] COMMAND ...\n"
               "Find, verify, replay and export Lockbox session recordings.\n\n"
               "Sources (default: the local journal):\n"
               "  --journal            the local journal\n"
               "  --directory DIR      a directory of exported journal files\n"
               "  --file FILE          a journal file, or journal export format (repeatable)\n"
               "  --spool FILE|DIR     a spool file <session>.jsonl or a spool directory\n"
               "  --trusted-uid UID    also take journal entries written by this uid (the\n"
               "                       recorder's user on the host a journal came from)\n"
               "  --any-writer         take journal entries from every writer (not evidence)\n\n"
               "Commands:\n"
               "  list [--request ID] [--operator P] [--host H] [--since T] [--until T]\n"
               "  commands SESSION\n"
               "  input SESSION [--reveal-hidden-input]\n"
               "  verify SESSION\n"
               "  play SESSION [--speed X] [--max-idle S] [--follow] [--raw]\n"
               "  export SESSION --format asciicast|bundle [-o FILE] [--sanitize] [--broker URL]\n"
               "                 [--token-file FILE] [--reveal-hidden-input]\n\n"
               "Input typed with echo off (passwords, or lines an operator hid) is masked\n"
               "unless --reveal-hidden-input is given; revealing it is noted.\n\n"
               "Exit status: 0 success, 1 failure or verification failure, 2 usage error.\n");
}

static char *safe(const char *s) {
        char *r = lb_term_safe(s ? s : "-");
        if (!r) {
                fputs("lockbox-replay: out of memory\n", stderr);
                exit(EXIT_FAILURE);
        }
        return r;
}

static int open_error(const struct opts *o, int r, const char *session) {
        const char *hint = lb_source_hint(&o->src);
        _cleanup_free_ char *s = safe(session);

        if (r == -ENOENT)
                log_error("no such session: %s%s%s", s, hint ? "; " : "", strempty_or(hint));
        else
                log_error("cannot read the recording of %s: %s%s%s", s, strerror(-r),
                          hint ? "; " : "", strempty_or(hint));
        return EXIT_FAILURE;
}

/* Loads a whole session; on error prints why and returns an exit code > 0. */
static int load(const struct opts *o, const char *session, struct lb_recording *rec,
                size_t *ret_foreign) {
        struct lb_reader *rd = NULL;
        int r;

        r = lb_reader_open(&o->src, session, false, &rd);
        if (r >= 0)
                r = lb_reader_read(rd, rec);
        if (rd && ret_foreign)
                *ret_foreign = lb_reader_foreign(rd);
        if (r < 0) {
                lb_reader_free(rd);
                return open_error(o, r, session);
        }
        if (rec->n == 0 && rec->malformed == 0 && lb_reader_foreign(rd) == 0) {
                lb_reader_free(rd);
                return open_error(o, -ENOENT, session);
        }
        if (rec->n == 0 && rec->malformed == 0) {
                _cleanup_free_ char *s = safe(session);
                log_error("%s: no evidence: %zu untrusted journal entries claim session %s, "
                          "ignored (written by users that are not the recorder; if the recorder "
                          "ran under another uid on the recorded host, name it with "
                          "--trusted-uid UID)",
                          s, lb_reader_foreign(rd), s);
                lb_reader_free(rd);
                return EXIT_FAILURE;
        }
        if (!ret_foreign && lb_reader_foreign(rd) > 0) {
                /* verify says it in its report; the others say it here */
                _cleanup_free_ char *s = safe(session);
                fprintf(stderr, "lockbox-replay: WARNING: %zu untrusted journal entries claim "
                        "session %s, ignored (not evidence)\n", lb_reader_foreign(rd), s);
        }
        lb_reader_free(rd);
        return 0;
}

/* ---- list ---- */

static int parse_time_arg(const char *s, int64_t *ret) {
        uint64_t d;
        _cleanup_free_ char *full = NULL;

        if (lb_time_parse(s, ret) >= 0)
                return 0;
        if (strlen(s) == 10) { /* YYYY-MM-DD */
                full = lb_asprintf("%sT00:00:00Z", s);
                if (full && lb_time_parse(full, ret) >= 0)
                        return 0;
        }
        if (lb_parse_duration(s, &d) >= 0) { /* "2h": that long ago */
                *ret = lb_now_s() - (int64_t) d;
                return 0;
        }
        return -EINVAL;
}

/* What was ignored, on stderr (the table or JSON on stdout stays clean):
 * each session that untrusted entries claim, those that claim a recorded
 * session first, then the newest. */
#define CLAIMS_SHOWN 20
static bool is_listed(const struct lb_session_info *v, size_t n, const char *session) {
        for (size_t k = 0; k < n; k++)
                if (v[k].session && streq(v[k].session, session))
                        return true;
        return false;
}

static void report_untrusted(const struct lb_claims *c, const struct lb_session_info *v,
                             size_t n) {
        size_t shown = 0, named = 0, rest = 0, rest_s = 0;

        for (int pass = 0; pass < 2; pass++)
                for (size_t i = c->n; i-- > 0;) {
                        const struct lb_claim *cl = &c->v[i];
                        bool real = is_listed(v, n, cl->session);
                        if (real != (pass == 0))
                                continue;
                        named += cl->entries;
                        if (shown >= CLAIMS_SHOWN) {
                                rest += cl->entries;
                                rest_s++;
                                continue;
                        }
                        _cleanup_free_ char *s = safe(cl->session);
                        fprintf(stderr, "lockbox-replay: %zu untrusted journal entr%s claim%s "
                                "session %s, ignored%s\n", cl->entries,
                                cl->entries == 1 ? "y" : "ies", cl->entries == 1 ? "s" : "", s,
                                real ? " (a recorded session of that name exists: forged "
                                       "entries?)"
                                     : " (not evidence)");
                        shown++;
                }
        if (rest_s > 0)
                fprintf(stderr, "lockbox-replay: %zu more untrusted journal entries claim %zu "
                        "older sessions, ignored\n", rest, rest_s);
        if (c->total > named)
                fprintf(stderr, "lockbox-replay: %zu untrusted journal entries without a session, "
                        "ignored\n", c->total - named);
}

static int cmd_list(struct opts *o, int argc, char **argv) {
        static const struct option lo[] = {
                { "request", required_argument, NULL, 'r' }, { "operator", required_argument, NULL, 'p' },
                { "host", required_argument, NULL, 'H' },    { "since", required_argument, NULL, 's' },
                { "until", required_argument, NULL, 'u' },   { "json", no_argument, NULL, 'j' },
                {},
        };
        const char *request = NULL, *operator_ = NULL, *host = NULL;
        int64_t since = INT64_MIN, until = INT64_MAX;
        struct lb_session_info *v = NULL;
        size_t n = 0;
        struct lb_claims untrusted = {};
        json_auto_t *arr = NULL;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+", lo, NULL)) >= 0)
                switch (c) {
                case 'r': request = optarg; break;
                case 'p': operator_ = optarg; break;
                case 'H': host = optarg; break;
                case 's':
                        if (parse_time_arg(optarg, &since) < 0)
                                return usage_error("--since: not a time: %s", optarg);
                        break;
                case 'u':
                        if (parse_time_arg(optarg, &until) < 0)
                                return usage_error("--until: not a time: %s", optarg);
                        break;
                case 'j': o->json = true; break;
                default: return EXIT_USAGE;
                }
        if (optind != argc)
                return usage_error("list takes no arguments");

        r = lb_source_list(&o->src, &v, &n, &untrusted);
        if (r < 0) {
                const char *hint = lb_source_hint(&o->src);
                log_error("cannot read the recordings: %s%s%s", strerror(-r), hint ? "; " : "",
                          strempty_or(hint));
                return EXIT_FAILURE;
        }
        arr = json_array();
        if (!o->json)
                printf("%-20s %-16s %-12s %-24s %-24s %-24s %-10s %5s\n", "SESSION", "REQUEST",
                       "OPERATOR", "USER@HOST", "START", "END", "REASON", "CMDS");
        for (size_t i = 0; i < n; i++) {
                struct lb_session_info *s = &v[i];
                if ((request && !(s->request && streq(s->request, request))) ||
                    (operator_ && !(s->operator_ && streq(s->operator_, operator_))) ||
                    (host && !(s->host && streq(s->host, host))) ||
                    ((since != INT64_MIN || until != INT64_MAX) &&
                     (s->start_s < 0 || s->start_s < since || s->start_s > until)))
                        continue;
                if (o->json) {
                        json_array_append_new(arr, lb_session_info_to_json(s));
                        continue;
                }
                _cleanup_free_ char *ses = safe(s->session), *req = safe(s->request),
                                    *op = safe(s->operator_), *st = safe(s->start),
                                    *en = safe(s->ended ? s->end : "(live)"),
                                    *re = safe(s->reason), *uh = NULL, *uh_safe = NULL;
                uh = lb_asprintf("%s@%s", strna(s->user), strna(s->host));
                uh_safe = safe(uh);
                printf("%-20s %-16s %-12s %-24s %-24s %-24s %-10s %5" PRIu64 "\n", ses, req, op,
                       uh_safe, st, en, re, s->commands);
        }
        if (o->json) {
                _cleanup_free_ char *d = json_dumps(arr, JSON_INDENT(2));
                if (d)
                        puts(d);
        }
        report_untrusted(&untrusted, v, n);
        if (untrusted.malformed > 0)
                fprintf(stderr, "lockbox-replay: %zu entr%s or file%s whose session is not a session "
                        "id (s-...), not listed (malformed)\n", untrusted.malformed,
                        untrusted.malformed == 1 ? "y" : "ies", untrusted.malformed == 1 ? "" : "s");
        lb_claims_done(&untrusted);
        for (size_t i = 0; i < n; i++)
                lb_session_info_done(&v[i]);
        free(v);
        return 0;
}

/* ---- commands ---- */

static char *abs_time(const struct lb_recording *rec, uint64_t t) {
        const char *st = rec->n > 0 && streq(rec->recs[0].kind, "start")
                                 ? lb_json_str(rec->recs[0].obj, "time")
                                 : NULL;
        int64_t s;
        struct tm tm;
        time_t tt;
        char buf[64];
        uint64_t ms;

        if (!st || lb_time_parse(st, &s) < 0)
                return lb_asprintf("+%" PRIu64 ".%03u", t / 1000, (unsigned) (t % 1000));
        /* the start time has milliseconds; lb_time_parse drops them */
        ms = 0;
        {
                const char *dot = strchr(st, '.');
                if (dot) {
                        unsigned k = 0;
                        for (const char *p = dot + 1; *p >= '0' && *p <= '9' && k < 3; p++, k++)
                                ms = ms * 10 + (uint64_t) (*p - '0');
                        for (; k < 3; k++)
                                ms *= 10;
                }
        }
        ms += t;
        tt = (time_t) (s + (int64_t) (ms / 1000));
        if (!gmtime_r(&tt, &tm))
                return NULL;
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        return lb_asprintf("%s.%03uZ", buf, (unsigned) (ms % 1000));
}

static json_t *command_json(const struct lb_recording *rec, const struct lb_rec *c) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ size_t *lens = NULL;
        _cleanup_free_ char *text = NULL, *when = NULL;
        json_t *o, *a;
        size_t n = 0;

        if (lb_rec_argv(c, &argv, &lens, &n) < 0)
                return NULL;
        text = lb_argv_render(argv, lens, n);
        when = abs_time(rec, c->t);
        o = json_pack("{s:I, s:I, s:s?, s:O?, s:O?, s:O?, s:O?, s:O?, s:s?, s:s?}", "seq",
                      (json_int_t) c->seq, "t", (json_int_t) c->t, "time", when, "pid",
                      json_object_get(c->obj, "pid"), "ppid", json_object_get(c->obj, "ppid"),
                      "uid", json_object_get(c->obj, "uid"), "exe", json_object_get(c->obj, "exe"),
                      "cwd", json_object_get(c->obj, "cwd"), "source",
                      lb_json_str(c->obj, "source"), "argv_text", text);
        if (!o)
                return NULL;
        a = json_object_get(c->obj, "argv");
        json_object_set(o, "argv", a);
        return o;
}

static int cmd_commands(struct opts *o, int argc, char **argv) {
        static const struct option lo[] = { { "json", no_argument, NULL, 'j' }, {} };
        struct lb_recording rec = {};
        json_auto_t *arr = json_array();
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", lo, NULL)) >= 0)
                switch (c) {
                case 'j': o->json = true; break;
                default: return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return usage_error("commands takes one SESSION");
        r = load(o, argv[optind], &rec, NULL);
        if (r > 0)
                return r;
        lb_recording_sort(&rec);
        if (!o->json)
                printf("%-24s %8s %6s %-5s %-20s %s\n", "TIME", "PID", "UID", "SRC", "CWD", "COMMAND");
        for (size_t i = 0; i < rec.n; i++) {
                const struct lb_rec *cr = &rec.recs[i];
                json_t *cj;
                if (!streq(cr->kind, "cmd"))
                        continue;
                cj = command_json(&rec, cr);
                if (!cj) {
                        fprintf(stderr, "lockbox-replay: seq %" PRIu64 ": malformed command record\n",
                                cr->seq);
                        continue;
                }
                if (o->json) {
                        json_array_append_new(arr, cj);
                        continue;
                }
                _cleanup_free_ char *cwd = safe(lb_json_str(cj, "cwd")),
                                    *src = safe(lb_json_str(cj, "source"));
                printf("%-24s %8" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT " %-5s %-20s %s\n",
                       strna(lb_json_str(cj, "time")), json_integer_value(json_object_get(cj, "pid")),
                       json_integer_value(json_object_get(cj, "uid")), src, cwd,
                       lb_json_str(cj, "argv_text"));
                json_decref(cj);
        }
        if (o->json) {
                _cleanup_free_ char *d = json_dumps(arr, JSON_INDENT(2));
                if (d)
                        puts(d);
        }
        lb_recording_done(&rec);
        return 0;
}

/* ---- input ---- */

/* Revealing input typed with echo off is itself noted (stderr, and the
 * journal: who asked, for which session). */
static void note_reveal(struct lb_recording *rec, const char *session) {
        size_t n = 0;
        _cleanup_free_ char *s = safe(session);

        for (size_t i = 0; i < rec->n; i++)
                n += lb_rec_hidden_input(&rec->recs[i]);
        if (n == 0)
                return;
        fprintf(stderr, "lockbox-replay: revealing %zu input record%s of %s typed with echo off "
                "(passwords may be among them)\n", n, n == 1 ? "" : "s", s);
        lb_log_open("lockbox-replay", LB_LOG_JOURNAL);
        log_notice("uid %u revealed %zu input records typed with echo off of session %s", getuid(), n, s);
        lb_log_open("lockbox-replay", LB_LOG_STDERR);
}

/* Every input record, in order: time, stream, whether the terminal echoed
 * it and who was in the foreground when it did not, and the bytes
 * (terminal-safe). Input typed with echo off is masked unless revealed. */
static int cmd_input(struct opts *o, int argc, char **argv) {
        static const struct option lo[] = {
                { "json", no_argument, NULL, 'j' }, { "reveal-hidden-input", no_argument, NULL, 'R' }, {},
        };
        struct lb_recording rec = {};
        json_auto_t *arr = json_array();
        bool reveal = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", lo, NULL)) >= 0)
                switch (c) {
                case 'j': o->json = true; break;
                case 'R': reveal = true; break;
                default: return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return usage_error("input takes one SESSION");
        r = load(o, argv[optind], &rec, NULL);
        if (r > 0)
                return r;
        lb_recording_sort(&rec);
        if (reveal)
                note_reveal(&rec, argv[optind]);
        if (!o->json)
                printf("%-24s %-6s %-4s %-24s %s\n", "TIME", "STREAM", "ECHO", "FOREGROUND", "INPUT");
        for (size_t i = 0; i < rec.n; i++) {
                const struct lb_rec *in = &rec.recs[i];
                bool hidden = lb_rec_hidden_input(in), old_mask = json_is_true(json_object_get(in->obj, "masked"));
                json_t *fg = json_object_get(in->obj, "fg");
                _cleanup_free_ unsigned char *data = NULL;
                _cleanup_free_ char *when = NULL, *text = NULL, *fgs = NULL, *comm = NULL;
                size_t len = 0;

                if (!streq(in->kind, "in"))
                        continue;
                when = abs_time(&rec, in->t);
                if (json_is_object(fg))
                        comm = safe(lb_json_str(fg, "comm"));
                if (comm)
                        fgs = lb_asprintf("%s (pid %" JSON_INTEGER_FORMAT ")", comm,
                                          json_integer_value(json_object_get(fg, "pid")));
                if ((!hidden || reveal) && lb_rec_data(in, &data, &len) >= 0) {
                        char *argv1[1] = { (char *) data };
                        text = lb_argv_render(argv1, &len, 1);
                } else
                        text = lb_asprintf("[%" JSON_INTEGER_FORMAT " bytes typed with echo off: %s]",
                                           json_integer_value(json_object_get(in->obj, "len")),
                                           old_mask ? "not recorded (older recorder)"
                                                    : "masked, --reveal-hidden-input shows them");
                if (o->json) {
                        json_t *e = json_pack("{s:I, s:I, s:s?, s:s?, s:b, s:O?, s:I}", "seq",
                                              (json_int_t) in->seq, "t", (json_int_t) in->t, "time",
                                              when, "stream", lb_json_str(in->obj, "stream"),
                                              "echo", !(hidden || old_mask), "fg", fg, "len",
                                              json_integer_value(json_object_get(in->obj, "len")));
                        if (e && data)
                                json_object_set(e, "data", json_object_get(in->obj, "data"));
                        if (e && !data)
                                json_object_set_new(e, "masked", json_true());
                        if (e)
                                json_array_append_new(arr, e);
                        continue;
                }
                _cleanup_free_ char *st = safe(lb_json_str(in->obj, "stream"));
                printf("%-24s %-6s %-4s %-24s %s\n", strna(when), st, hidden || old_mask ? "off" : "on",
                       fgs ? fgs : "-", strna(text));
        }
        if (o->json) {
                _cleanup_free_ char *d = json_dumps(arr, JSON_INDENT(2));
                if (d)
                        puts(d);
        }
        lb_recording_done(&rec);
        return 0;
}

/* ---- verify ---- */

static int cmd_verify(struct opts *o, int argc, char **argv) {
        static const struct option lo[] = { { "json", no_argument, NULL, 'j' }, {} };
        struct lb_recording rec = {};
        struct lb_verify v = {};
        size_t foreign = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", lo, NULL)) >= 0)
                switch (c) {
                case 'j': o->json = true; break;
                default: return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return usage_error("verify takes one SESSION");
        r = load(o, argv[optind], &rec, &foreign);
        if (r > 0)
                return r;
        r = lb_recording_verify(&rec, &v);
        if (r < 0) {
                log_error("verification failed: %s", strerror(-r));
                lb_recording_done(&rec);
                return EXIT_FAILURE;
        }
        if (o->json) {
                json_auto_t *j = lb_verify_to_json(&v);
                _cleanup_free_ char *d = NULL;
                json_object_set_new(j, "duplicates", json_integer((json_int_t) rec.duplicates));
                json_object_set_new(j, "foreign_entries", json_integer((json_int_t) foreign));
                json_object_set_new(j, "untrusted_entries", json_integer((json_int_t) foreign));
                d = json_dumps(j, JSON_INDENT(2));
                if (d)
                        puts(d);
        } else {
                _cleanup_free_ char *s = safe(argv[optind]);
                for (size_t i = 0; i < v.n_problems; i++) {
                        _cleanup_free_ char *t = lb_problem_format(&v.problems[i]);
                        printf("%s\n", strna(t));
                }
                if (o->src.trust_all)
                        printf("note: --any-writer: journal entries of every writer were taken\n");
                if (foreign > 0)
                        printf("WARNING: %zu untrusted journal entr%s claim%s session %s, ignored "
                               "(written by users that are not the recorder: not evidence)\n",
                               foreign, foreign == 1 ? "y" : "ies", foreign == 1 ? "s" : "", s);
                if (v.ok)
                        printf("OK: %s: %zu records, seq 1-%" PRIu64 ", head %s\n", s, v.count,
                               v.last_seq, v.head);
                else
                        printf("FAILED: %s: %zu problem(s) in %zu records\n", s, v.n_problems,
                               v.count);
        }
        r = v.ok ? 0 : EXIT_FAILURE;
        lb_verify_done(&v);
        lb_recording_done(&rec);
        return r;
}

/* ---- play ---- */

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void) {
        if (tio_saved)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static void on_signal(int sig) {
        restore_tty();
        signal(sig, SIG_DFL);
        raise(sig);
}

struct player {
        double speed;
        double max_idle; /* seconds, < 0: none */
        bool raw, keys, quit, paused;
        struct lb_sanitizer san;
        uint64_t last_t;
        bool started;
        uint64_t last_seq;
};

static int out_write(const void *p, size_t n) {
        return lb_write_all(STDOUT_FILENO, p, n);
}

static void handle_key(struct player *pl) {
        char ch;
        if (read(STDIN_FILENO, &ch, 1) != 1)
                return;
        if (ch == ' ')
                pl->paused = !pl->paused;
        else if (ch == 'q' || ch == 3)
                pl->quit = true;
}

/* Sleeps ms milliseconds, answering keys (space: pause, q: quit). */
static void wait_ms(struct player *pl, uint64_t ms) {
        uint64_t end = lb_mono_ms() + ms;

        for (;;) {
                uint64_t now = lb_mono_ms();
                int timeout;
                if (pl->quit)
                        return;
                if (!pl->paused && now >= end)
                        return;
                timeout = pl->paused ? -1 : (int) MIN(end - now, (uint64_t) INT32_MAX);
                if (pl->keys) {
                        struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
                        uint64_t before = lb_mono_ms();
                        if (poll(&p, 1, timeout) > 0) {
                                bool was = pl->paused;
                                handle_key(pl);
                                if (was && !pl->paused)
                                        end += lb_mono_ms() - before; /* paused time does not count */
                        }
                } else {
                        struct timespec ts = { (time_t) ((end - now) / 1000),
                                               (long) ((end - now) % 1000) * 1000000L };
                        nanosleep(&ts, NULL);
                }
        }
}

static int play_rec(struct player *pl, const struct lb_rec *r, bool timed) {
        _cleanup_free_ unsigned char *data = NULL;
        _cleanup_free_ char *out = NULL;
        size_t len = 0, n;
        int k;

        if (!streq(r->kind, "out"))
                return 0;
        if (lb_rec_data(r, &data, &len) < 0)
                return 0;
        if (timed && pl->started && r->t > pl->last_t) {
                double d = (double) (r->t - pl->last_t) / pl->speed;
                if (pl->max_idle >= 0 && d > pl->max_idle * 1000)
                        d = pl->max_idle * 1000;
                wait_ms(pl, (uint64_t) d);
        }
        pl->started = true;
        pl->last_t = r->t;
        if (pl->quit)
                return 0;
        if (pl->raw)
                return out_write(data, len);
        out = malloc(len + LB_SANITIZE_SLACK);
        if (!out)
                return -ENOMEM;
        n = lb_sanitize(&pl->san, data, len, out);
        k = out_write(out, n);
        return k;
}

/* Plays the records with seq above what was played; returns 1 when the end
 * record was seen. */
static int play_new(struct player *pl, struct lb_recording *rec, bool timed) {
        bool end = false;
        int k;

        lb_recording_sort(rec);
        for (size_t i = 0; i < rec->n && !pl->quit; i++) {
                const struct lb_rec *r = &rec->recs[i];
                if (streq(r->kind, "end"))
                        end = true;
                if (r->seq <= pl->last_seq)
                        continue;
                k = play_rec(pl, r, timed);
                if (k < 0)
                        return k;
                pl->last_seq = r->seq;
        }
        return end;
}

static int parse_double(const char *s, double min, double *ret) {
        char *e;
        double d;
        errno = 0;
        d = strtod(s, &e);
        if (errno || e == s || *e || !isfinite(d) || d < min)
                return -EINVAL;
        *ret = d;
        return 0;
}

static int cmd_play(struct opts *o, int argc, char **argv) {
        static const struct option lo[] = {
                { "speed", required_argument, NULL, 's' },   { "max-idle", required_argument, NULL, 'i' },
                { "follow", no_argument, NULL, 'f' },         { "raw", no_argument, NULL, 'r' },
                {},
        };
        struct player pl = { .speed = 1.0, .max_idle = -1 };
        struct lb_recording rec = {};
        struct lb_reader *rd = NULL;
        bool follow = false;
        const char *session;
        char tail[LB_SANITIZE_SLACK];
        int c, r, ret = EXIT_FAILURE;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", lo, NULL)) >= 0)
                switch (c) {
                case 's':
                        if (parse_double(optarg, 1e-6, &pl.speed) < 0 || pl.speed <= 0)
                                return usage_error("--speed: not a positive number: %s", optarg);
                        break;
                case 'i':
                        if (parse_double(optarg, 0, &pl.max_idle) < 0)
                                return usage_error("--max-idle: not a number of seconds: %s", optarg);
                        break;
                case 'f': follow = true; break;
                case 'r': pl.raw = true; break;
                default: return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return usage_error("play takes one SESSION");
        session = argv[optind];
        if (follow && o->src.type == LB_SOURCE_EXPORT)
                return usage_error("--follow needs the journal, journal files or a spool file, "
                                   "not journal export format");
        lb_sanitize_init(&pl.san);

        r = lb_reader_open(&o->src, session, follow, &rd);
        if (r < 0)
                return open_error(o, r, session);
        r = lb_reader_read(rd, &rec);
        if (r < 0 || rec.n == 0) {
                ret = open_error(o, r < 0 ? r : -ENOENT, session);
                goto out;
        }
        if (lb_reader_foreign(rd) > 0) {
                _cleanup_free_ char *ss = safe(session);
                fprintf(stderr, "lockbox-replay: WARNING: %zu untrusted journal entries claim "
                        "session %s, ignored (not evidence)\n", lb_reader_foreign(rd), ss);
        }

        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
                struct termios t = saved_tio;
                t.c_lflag &= ~(tcflag_t) (ICANON | ECHO);
                t.c_cc[VMIN] = 1;
                t.c_cc[VTIME] = 0;
                tio_saved = true;
                signal(SIGINT, on_signal);
                signal(SIGTERM, on_signal);
                signal(SIGHUP, on_signal);
                if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
                        pl.keys = true;
        }

        r = play_new(&pl, &rec, true);
        while (r == 0 && follow && !pl.quit) {
                int w = lb_reader_wait(rd, pl.keys ? STDIN_FILENO : -1, -1);
                if (w < 0) {
                        r = w;
                        break;
                }
                if (w == 2)
                        handle_key(&pl);
                while (pl.paused && !pl.quit)
                        wait_ms(&pl, 1000);
                r = lb_reader_read(rd, &rec);
                if (r < 0)
                        break;
                r = play_new(&pl, &rec, false);
        }
        if (!pl.raw) {
                /* leave the auditor's terminal as a shell expects it: plain
                 * attributes, ASCII character sets, cursor shown, line wrap
                 * and normal cursor/keypad keys */
                static const char reset[] = "\033[0m\033(B\033)B\017\033[?25h\033[?7h\033[?1l\033>";
                size_t n = lb_sanitize_finish(&pl.san, tail);
                (void) out_write(tail, n);
                if (isatty(STDOUT_FILENO))
                        (void) out_write(reset, sizeof(reset) - 1);
        }
        if (r < 0) {
                _cleanup_free_ char *ss = safe(session);
                log_error("playing %s: %s", ss, strerror(-r));
                goto out;
        }
        ret = 0;
out:
        restore_tty();
        lb_reader_free(rd);
        lb_recording_done(&rec);
        return ret;
}

/* ---- export ---- */

static json_t *broker_part(const struct opts *o, const char *request, json_t **ret_request,
                           json_t **ret_audit) {
        const char *base = o->broker ? o->broker : getenv("LOCKBOX_BROKER");
        const char *tf = o->token_file ? o->token_file : getenv("LOCKBOX_TOKEN_FILE");
        _cleanup_free_ char *token = NULL, *path = NULL, *err = NULL, *apath = NULL;
        struct lb_broker b = {};
        json_t *req = NULL, *audit = NULL;
        int r;

        *ret_request = *ret_audit = NULL;
        if (isempty(base))
                return json_pack("{s:b, s:s}", "available", 0, "error",
                                 "no broker given (--broker or LOCKBOX_BROKER): request and "
                                 "approvals not included");
        if (!request || !lb_name_valid(request, 128))
                return json_pack("{s:s, s:b, s:s}", "url", base, "available", 0, "error",
                                 "the recording names no valid request");
        if (!isempty(tf)) {
                size_t l;
                r = lb_read_file(tf, 4096, &token, &l);
                if (r < 0)
                        return json_pack("{s:s, s:b, s:s+}", "url", base, "available", 0, "error",
                                         "cannot read the token file: ", strerror(-r));
                token[strcspn(token, "\r\n")] = '\0';
        }
        r = lb_broker_init_base(&b, base, token, NULL, 5000);
        if (r < 0)
                return json_pack("{s:s, s:b, s:s+}", "url", base, "available", 0, "error",
                                 "bad broker address: ", strerror(-r));
        path = lb_asprintf("/v1/requests/%s", request);
        apath = lb_asprintf("/v1/audit?request=%s", request);
        r = path && apath ? lb_broker_call(&b, "GET", path, NULL, &req, &err) : -ENOMEM;
        if (r >= 0) {
                free(err);
                err = NULL;
                r = lb_broker_call(&b, "GET", apath, NULL, &audit, &err);
        }
        lb_broker_done(&b);
        if (r < 0) {
                json_decref(req);
                json_decref(audit);
                return json_pack("{s:s, s:b, s:s}", "url", base, "available", 0, "error",
                                 err ? err : strerror(-r));
        }
        *ret_request = req;
        *ret_audit = audit;
        return json_pack("{s:s, s:b}", "url", base, "available", 1);
}

static int export_bundle(struct opts *o, struct lb_recording *rec, bool reveal, FILE *f) {
        struct lb_session_info info = { .start_s = -1 };
        struct lb_verify v = {};
        json_auto_t *b = NULL, *records = json_array(), *cmds = json_array(), *vj = NULL,
                    *broker = NULL;
        json_t *req = NULL, *audit = NULL;
        _cleanup_free_ char *d = NULL;
        char now[LB_TIME_LEN];
        size_t hidden = 0;
        int r;

        lb_recording_sort(rec);
        for (size_t i = 0; i < rec->n; i++) {
                lb_session_info_add(&info, rec->recs[i].obj);
                if (lb_rec_hidden_input(&rec->recs[i])) {
                        hidden++;
                        if (!reveal) {
                                json_array_append_new(records, lb_rec_masked_copy(&rec->recs[i]));
                                continue;
                        }
                }
                json_array_append(records, rec->recs[i].obj);
                if (streq(rec->recs[i].kind, "cmd")) {
                        json_t *c = command_json(rec, &rec->recs[i]);
                        if (c)
                                json_array_append_new(cmds, c);
                }
        }
        r = lb_recording_verify(rec, &v);
        if (r < 0)
                goto out;
        vj = lb_verify_to_json(&v);
        broker = broker_part(o, info.request, &req, &audit);
        b = json_pack("{s:s, s:i, s:s, s:s, s:o, s:O?, s:o, s:o, s:O, s:O?, s:O, s:O}", "bundle",
                      "lockbox-evidence", "version", 1, "generated_at",
                      lb_time_format(lb_now_s(), now, sizeof(now)), "generated_by",
                      "lockbox-replay " PACKAGE_VERSION, "session", lb_session_info_to_json(&info),
                      "broker", broker, "request", req ? req : json_null(), "approvals",
                      req && json_object_get(req, "approvals") ? json_incref(json_object_get(req, "approvals"))
                                                               : json_null(),
                      "audit", audit ? audit : json_null(), "verification", vj,
                      "commands", cmds, "records", records);
        req = audit = NULL;
        if (!b) {
                r = -ENOMEM;
                goto out;
        }
        json_object_set_new(b, "hidden_input",
                            json_pack("{s:I, s:b, s:s}", "records", (json_int_t) hidden, "revealed",
                                      reveal, "note",
                                      reveal ? "input typed with echo off is included as recorded"
                                             : "input typed with echo off is masked here (data "
                                               "removed, \"masked\": true; the hash of such a "
                                               "record no longer matches): export with "
                                               "--reveal-hidden-input to include it"));
        d = json_dumps(b, JSON_INDENT(1) | JSON_SORT_KEYS);
        if (!d || fprintf(f, "%s\n", d) < 0)
                r = -EIO;
        else
                r = 0;
out:
        lb_session_info_done(&info);
        lb_verify_done(&v);
        return r;
}

static int cmd_export(struct opts *o, int argc, char **argv) {
        static const struct option lo[] = {
                { "format", required_argument, NULL, 'F' },   { "output", required_argument, NULL, 'o' },
                { "broker", required_argument, NULL, 'b' },   { "token-file", required_argument, NULL, 't' },
                { "sanitize", no_argument, NULL, 's' },       { "reveal-hidden-input", no_argument, NULL, 'R' },
                {},
        };
        const char *format = NULL, *output = NULL;
        bool sanitize = false, reveal = false;
        struct lb_recording rec = {};
        _cleanup_fclose_ FILE *f = NULL;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "o:", lo, NULL)) >= 0)
                switch (c) {
                case 'F': format = optarg; break;
                case 'o': output = optarg; break;
                case 'b': o->broker = optarg; break;
                case 't': o->token_file = optarg; break;
                case 's': sanitize = true; break;
                case 'R': reveal = true; break;
                default: return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return usage_error("export takes one SESSION");
        if (!format || !(streq(format, "asciicast") || streq(format, "bundle")))
                return usage_error("export needs --format asciicast or --format bundle");
        r = load(o, argv[optind], &rec, NULL);
        if (r > 0)
                return r;
        if (output && !streq(output, "-")) {
                f = fopen(output, "we");
                if (!f) {
                        r = -errno;
                        _cleanup_free_ char *p = safe(output);
                        log_error("cannot write %s: %s", p, strerror(-r));
                        lb_recording_done(&rec);
                        return EXIT_FAILURE;
                }
        }
        if (reveal)
                note_reveal(&rec, argv[optind]);
        r = streq(format, "asciicast") ? lb_asciicast_export(&rec, sanitize, reveal, f ? f : stdout)
                                       : export_bundle(o, &rec, reveal, f ? f : stdout);
        if (r >= 0 && fflush(f ? f : stdout) != 0)
                r = -EIO;
        if (r >= 0 && f) {
                r = fclose(f) == 0 ? 0 : -EIO;
                f = NULL;
        }
        lb_recording_done(&rec);
        if (r < 0) {
                log_error("export failed: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        return 0;
}

/* ---- main ---- */

static int add_path(char ***v, const char *p) {
        size_t n = lb_strv_length(*v);
        char **nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        nv[n] = strdup(p);
        nv[n + 1] = NULL;
        *v = nv;
        return nv[n] ? 0 : -ENOMEM;
}

int main(int argc, char **argv) {
        static const struct option lo[] = {
                { "journal", no_argument, NULL, 'J' },        { "directory", required_argument, NULL, 'D' },
                { "file", required_argument, NULL, 'f' },      { "spool", required_argument, NULL, 'S' },
                { "json", no_argument, NULL, 'j' },            { "broker", required_argument, NULL, 'b' },
                { "token-file", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },         { "writer-uid", required_argument, NULL, 'U' },
                { "any-writer", no_argument, NULL, 'A' },      { "trusted-uid", required_argument, NULL, 'U' },
                {},
        };
        struct opts o = { .src.type = LB_SOURCE_JOURNAL };
        int c, nsrc = 0, r;
        const char *cmd;

        lb_log_open("lockbox-replay", LB_LOG_STDERR);
        while ((c = getopt_long(argc, argv, "+h", lo, NULL)) >= 0)
                switch (c) {
                case 'J':
                        if (o.src.type != LB_SOURCE_JOURNAL || nsrc++ > 0)
                                return usage_error("give one kind of source");
                        break;
                case 'D':
                        if (nsrc++ > 0)
                                return usage_error("give one kind of source (one --directory)");
                        o.src.type = LB_SOURCE_DIRECTORY;
                        if (add_path(&o.src.paths, optarg) < 0)
                                return EXIT_FAILURE;
                        break;
                case 'f':
                case 'S': {
                        /* journal files end in .journal (or .journal~ when
                         * journald set them aside); anything else given with
                         * --file is read as journal export format */
                        size_t l = strlen(optarg);
                        bool jf = (l > 8 && streq(optarg + l - 8, ".journal")) ||
                                  (l > 9 && streq(optarg + l - 9, ".journal~"));
                        enum lb_source_type t = c == 'S' ? LB_SOURCE_SPOOL
                                                : jf     ? LB_SOURCE_FILES
                                                         : LB_SOURCE_EXPORT;
                        if (nsrc++ > 0 && o.src.type != t)
                                return usage_error("give one kind of source");
                        o.src.type = t;
                        if (add_path(&o.src.paths, optarg) < 0)
                                return EXIT_FAILURE;
                        break;
                }
                case 'U': {
                        uint64_t u;
                        if (lb_parse_u64(optarg, UINT32_MAX - 1, &u) < 0)
                                return usage_error("--trusted-uid: not a uid: %s", optarg);
                        if (lb_source_trust_uid(&o.src, (uid_t) u) < 0)
                                return usage_error("too many --trusted-uid");
                        break;
                }
                case 'A': o.src.trust_all = true; break;
                case 'j': o.json = true; break;
                case 'b': o.broker = optarg; break;
                case 't': o.token_file = optarg; break;
                case 'h': help(); return 0;
                case 'V': puts("lockbox-replay " PACKAGE_VERSION); return 0;
                default: return EXIT_USAGE;
                }
        if (optind >= argc)
                return usage_error("no command given");
        {
                /* the recorder's user as this host's configuration names it
                 * (an unreadable or missing file: the default name) */
                struct lb_host_conf conf;
                lb_host_conf_init(&conf);
                (void) lb_host_conf_load(&conf, NULL, false, NULL, NULL);
                lb_source_trust_default(&o.src, conf.record_user);
                lb_host_conf_done(&conf);
        }
        cmd = argv[optind];
        argc -= optind;
        argv += optind;
        if (streq(cmd, "list"))
                r = cmd_list(&o, argc, argv);
        else if (streq(cmd, "commands"))
                r = cmd_commands(&o, argc, argv);
        else if (streq(cmd, "input"))
                r = cmd_input(&o, argc, argv);
        else if (streq(cmd, "verify"))
                r = cmd_verify(&o, argc, argv);
        else if (streq(cmd, "play"))
                r = cmd_play(&o, argc, argv);
        else if (streq(cmd, "export"))
                r = cmd_export(&o, argc, argv);
        else {
                _cleanup_free_ char *s = safe(cmd);
                r = usage_error("unknown command: %s", s);
        }
        lb_strv_free(o.src.paths);
        fflush(stdout);
        return r;
}
