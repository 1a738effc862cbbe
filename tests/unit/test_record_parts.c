/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lockbox-record's pure parts: audit record parsing, records
 * and their chain, batching for journald, the spool writer's re-send, the
 * masking and sftp decisions, the warning schedule. */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>

#include "audit_cmd.h"
#include "chain.h"
#include "jsend.h"
#include "record-session.h"
#include "record-writer.h"
#include "record.h"
#include "sink.h"
#include "spool.h"
#include "util.h"

/* Real record text, as the kernel sends it on the audit multicast socket
 * (captured from `auditctl -a always,exit -F arch=b64 -S execve ...`). */
#define SYSCALL_TXT                                                                            \
        "audit(1763805000.123:4242): arch=c000003e syscall=59 success=yes exit=0 "              \
        "a0=55d0c1a2b3c0 a1=55d0c1a2b4d0 a2=55d0c1a2b5e0 a3=8 items=2 ppid=1200 pid=1234 "    \
        "auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 "     \
        "fsgid=1001 tty=pts1 ses=7 comm=\"ls\" exe=\"/usr/bin/ls\" subj=unconfined "          \
        "key=\"lockbox-exec\""
#define EXECVE_TXT                                                                             \
        "audit(1763805000.123:4242): argc=4 a0=\"ls\" a1=\"-l\" a2=2F746D702F6120622063 "     \
        "a3=\"\""
#define CWD_TXT "audit(1763805000.123:4242): cwd=2F686F6D652F7665 6E646F72"
#define CWD_TXT2 "audit(1763805000.123:4242): cwd=\"/home/vendor\""
#define PATH_TXT                                                                               \
        "audit(1763805000.123:4242): item=0 name=\"/usr/bin/ls\" inode=1234 dev=08:01 "       \
        "mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"
#define PROCTITLE_TXT "audit(1763805000.123:4242): proctitle=6C73002D6C"
#define EOE_TXT "audit(1763805000.123:4242): "

static int feed(struct lb_audit_parser *p, int type, const char *t, struct lb_cmd **c) {
        return lb_audit_parser_feed(p, type, t, strlen(t), c);
}

START_TEST(test_audit_exec) {
        struct lb_audit_parser *p;
        struct lb_cmd *c = NULL;

        ck_assert_int_eq(lb_audit_parser_new(7, &p), 0);
        ck_assert_int_eq(feed(p, LB_AUDIT_SYSCALL, SYSCALL_TXT, &c), 0);
        ck_assert_int_eq(feed(p, LB_AUDIT_EXECVE, EXECVE_TXT, &c), 0);
        ck_assert_int_eq(feed(p, LB_AUDIT_CWD, CWD_TXT2, &c), 0);
        ck_assert_int_eq(feed(p, LB_AUDIT_PATH, PATH_TXT, &c), 0);
        ck_assert_int_eq(feed(p, LB_AUDIT_PROCTITLE, PROCTITLE_TXT, &c), 0);
        ck_assert_ptr_null(c);
        ck_assert_int_eq(feed(p, LB_AUDIT_EOE, EOE_TXT, &c), 1);
        ck_assert_ptr_nonnull(c);
        ck_assert_uint_eq(c->serial, 4242);
        ck_assert_int_eq(c->pid, 1234);
        ck_assert_int_eq(c->ppid, 1200);
        ck_assert_int_eq(c->uid, 1001);
        ck_assert_str_eq(c->exe, "/usr/bin/ls");
        ck_assert(c->has_inode);
        ck_assert_uint_eq(c->inode, 1234);
        ck_assert_uint_eq(c->dev_major, 8);
        ck_assert_uint_eq(c->dev_minor, 1);
        ck_assert_str_eq(c->cwd, "/home/vendor");
        ck_assert_uint_eq(c->argc, 4);
        ck_assert_str_eq(c->argv[0], "ls");
        ck_assert_str_eq(c->argv[1], "-l");
        /* hex-encoded because of the spaces: exact bytes back */
        ck_assert_uint_eq(c->argv_len[2], 10);
        ck_assert_mem_eq(c->argv[2], "/tmp/a b c", 10);
        ck_assert_uint_eq(c->argv_len[3], 0);
        ck_assert_str_eq(c->source, "audit");
        lb_cmd_free(c);
        lb_audit_parser_free(p);
}
END_TEST

START_TEST(test_audit_other_session_and_interleaved) {
        struct lb_audit_parser *p;
        struct lb_cmd *c = NULL;

        ck_assert_int_eq(lb_audit_parser_new(8, &p), 0);
        /* ses=7 is not ours: nothing comes out */
        feed(p, LB_AUDIT_SYSCALL, SYSCALL_TXT, &c);
        /* an event of ours, interleaved with the other */
        feed(p, LB_AUDIT_SYSCALL,
             "audit(1763805000.200:5000): arch=c000003e syscall=59 success=yes exit=0 "
             "ppid=1 pid=2 auid=1001 uid=0 ses=8 comm=\"x\" exe=2F746D702F782079",
             &c);
        feed(p, LB_AUDIT_EXECVE, EXECVE_TXT, &c);
        feed(p, LB_AUDIT_EXECVE,
             "audit(1763805000.200:5000): argc=2 a0=\"x\" a1_len=6 a1[0]=616263 a1[1]=00FF0A",
             &c);
        feed(p, LB_AUDIT_CWD, "audit(1763805000.200:5000): cwd=\"/\"", &c);
        ck_assert_int_eq(feed(p, LB_AUDIT_EOE, EOE_TXT, &c), 0);
        ck_assert_ptr_null(c);
        ck_assert_int_eq(feed(p, LB_AUDIT_EOE, "audit(1763805000.200:5000): ", &c), 1);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->exe, "/tmp/x y");
        ck_assert_uint_eq(c->argc, 2);
        ck_assert_uint_eq(c->argv_len[1], 6);
        ck_assert_mem_eq(c->argv[1], "abc\0\xff\n", 6);
        ck_assert_uint_eq(c->uid, 0);
        lb_cmd_free(c);
        lb_audit_parser_free(p);
}
END_TEST

START_TEST(test_audit_failed_exec_and_argv_split) {
        struct lb_audit_parser *p;
        struct lb_cmd *c = NULL;

        ck_assert_int_eq(lb_audit_parser_new(3, &p), 0);
        feed(p, LB_AUDIT_SYSCALL,
             "audit(1.000:10): arch=c000003e syscall=59 success=no exit=-2 ppid=1 pid=2 "
             "auid=1001 uid=1001 ses=3 exe=\"/bin/bash\"", &c);
        feed(p, LB_AUDIT_EXECVE, "audit(1.000:10): argc=1 a0=\"nope\"", &c);
        ck_assert_int_eq(feed(p, LB_AUDIT_EOE, "audit(1.000:10): ", &c), 0);
        /* a long argv split over two EXECVE records */
        feed(p, LB_AUDIT_SYSCALL,
             "audit(1.000:11): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=3 "
             "auid=1001 uid=1001 ses=3 exe=\"/usr/bin/echo\"", &c);
        feed(p, LB_AUDIT_EXECVE, "audit(1.000:11): argc=3 a0=\"echo\" a1=\"one\"", &c);
        feed(p, LB_AUDIT_EXECVE, "audit(1.000:11): a2=\"two\"", &c);
        ck_assert_int_eq(feed(p, LB_AUDIT_EOE, "audit(1.000:11): ", &c), 1);
        ck_assert_uint_eq(c->argc, 3);
        ck_assert_str_eq(c->argv[2], "two");
        ck_assert_ptr_null(c->cwd);
        lb_cmd_free(c);
        ck_assert_int_eq(feed(p, LB_AUDIT_SYSCALL, "garbage", &c), -EBADMSG);
        lb_audit_parser_free(p);
}
END_TEST

START_TEST(test_audit_field) {
        char *v;
        size_t n;
        const char *t = "a=\"x y\" b=414243 c=(null) d=12";
        ck_assert_int_eq(lb_audit_field(t, strlen(t), "a", &v, &n), 0);
        ck_assert_str_eq(v, "x y");
        free(v);
        ck_assert_int_eq(lb_audit_field(t, strlen(t), "b", &v, &n), 0);
        ck_assert_str_eq(v, "ABC");
        free(v);
        ck_assert_int_eq(lb_audit_field(t, strlen(t), "c", &v, &n), 0);
        ck_assert_str_eq(v, "(null)");
        free(v);
        ck_assert_int_eq(lb_audit_field(t, strlen(t), "e", &v, &n), -ENOENT);
}
END_TEST

/* A copy of n bytes that ends where an unreadable page starts: a read one
 * byte past the text faults, with or without a sanitizer. */
static char *at_page_end(const void *text, size_t n, void **ret_map, size_t *ret_maplen) {
        size_t pg = (size_t) sysconf(_SC_PAGESIZE), ml = 2 * pg;
        char *m;

        ck_assert_uint_le(n, pg);
        m = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(m, MAP_FAILED);
        ck_assert_int_eq(mprotect(m + pg, pg, PROT_NONE), 0);
        memcpy(m + pg - n, text, n);
        *ret_map = m;
        *ret_maplen = ml;
        return m + pg - n;
}

/* The length lb_audit_field reports is the number of bytes it returns: a
 * NUL inside a quoted or plain value (the kernel sends none) is refused (a
 * quoted "a\0b" used to come back as "a" with length 3, and callers copied
 * 3); hex-encoded bytes decode to exactly what they say, NUL included. */
START_TEST(test_audit_field_nul) {
        static const char quoted[] = "audit(1.1:1): a0=\"a\0b\" a1=\"ok\"";
        static const char plain[] = "audit(1.1:1): a0=x\0y a1=\"ok\"";
        static const char hexed[] = "audit(1.1:1): a0=610062 a1=\"ok\"";
        const char *const texts[] = { quoted, plain };
        const size_t lens[] = { sizeof(quoted) - 1, sizeof(plain) - 1 };

        {
                char *v = NULL;
                size_t n = 0;
                ck_assert_int_eq(lb_audit_field(hexed, sizeof(hexed) - 1, "a0", &v, &n), 0);
                ck_assert_uint_eq(n, 3);
                ck_assert_mem_eq(v, "a\0b", 4);
                free(v);
        }
        for (size_t i = 0; i < 2; i++) {
                char *v = NULL;
                size_t n = 0;
                int r = lb_audit_field(texts[i], lens[i], "a0", &v, &n);
                ck_assert_msg(r == -EBADMSG, "text %zu: %d, %zu bytes, strlen %zu", i, r, n,
                              v ? strlen(v) : 0);
                free(v);
                /* the other fields of the record still read */
                ck_assert_int_eq(lb_audit_field(texts[i], lens[i], "a1", &v, &n), 0);
                ck_assert_str_eq(v, "ok");
                ck_assert_uint_eq(n, 2);
                free(v);
        }

        /* through the parser: an EXECVE whose argument holds a NUL gives no
         * command whose argv entry is shorter than its length */
        {
                static const char sys[] = "audit(1.1:9): success=yes ppid=1 pid=2 uid=3 ses=7";
                static const char exe[] = "audit(1.1:9): argc=1 a0=\"a\0bbbbbbbbbbbbbbbbbbbbbb\"";
                struct lb_audit_parser *p;
                struct lb_cmd *c = NULL;
                int r;

                ck_assert_int_eq(lb_audit_parser_new(7, &p), 0);
                ck_assert_int_eq(lb_audit_parser_feed(p, LB_AUDIT_SYSCALL, sys, sizeof(sys) - 1, &c), 0);
                (void) lb_audit_parser_feed(p, LB_AUDIT_EXECVE, exe, sizeof(exe) - 1, &c);
                r = lb_audit_parser_feed(p, LB_AUDIT_EOE, "audit(1.1:9): ", 14, &c);
                if (r > 0 && c) {
                        for (size_t i = 0; i < c->argc; i++)
                                ck_assert_uint_eq(strlen(c->argv[i]), c->argv_len[i]);
                        lb_cmd_free(c);
                }
                lb_audit_parser_free(p);
        }
}
END_TEST

/* A numeric field whose '=' is the last byte of the record: nothing is read
 * past the record (it used to look at the byte after it for a '-'). */
START_TEST(test_audit_numeric_field_at_end) {
        static const char *const texts[] = {
                "audit(1.1:1): ses=", "audit(1.1:1): ses=-", "audit(1.1:1): pid=",
                "audit(1.1:1): ses=7 ppid=", "audit(1.1:1): ses=7 uid=", "audit(1.1:2): argc=",
                "audit(1.1:3): item=",
        };
        static const int types[] = {
                LB_AUDIT_SYSCALL, LB_AUDIT_SYSCALL, LB_AUDIT_SYSCALL, LB_AUDIT_SYSCALL,
                LB_AUDIT_SYSCALL, LB_AUDIT_EXECVE, LB_AUDIT_PATH,
        };

        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
                struct lb_audit_parser *p;
                struct lb_cmd *c = NULL;
                void *map;
                size_t ml;
                const char *t = at_page_end(texts[i], strlen(texts[i]), &map, &ml);

                ck_assert_int_eq(lb_audit_parser_new(7, &p), 0);
                (void) lb_audit_parser_feed(p, types[i], t, strlen(texts[i]), &c);
                ck_assert_ptr_null(c);
                lb_audit_parser_free(p);
                munmap(map, ml);
        }
}
END_TEST

/* ---- records and the chain ---- */

static void check_chain(const char *lines) {
        char prev[LB_CHAIN_HEX_LEN + 1] = LB_CHAIN_ZERO;
        static const char *const omit[] = { "hash", NULL };
        uint64_t seq = 0;

        for (const char *l = lines; *l;) {
                const char *nl = strchr(l, '\n');
                json_auto_t *j;
                char h[LB_CHAIN_HEX_LEN + 1];
                _cleanup_free_ char *again = NULL;

                ck_assert_ptr_nonnull(nl);
                j = json_loadb(l, (size_t) (nl - l), 0, NULL);
                ck_assert_ptr_nonnull(j);
                ck_assert_int_eq(json_integer_value(json_object_get(j, "seq")), (json_int_t) ++seq);
                ck_assert_int_eq(lb_chain_hash(prev, j, omit, h), 0);
                ck_assert_str_eq(h, json_string_value(json_object_get(j, "hash")));
                /* the line is exactly the canonical serialisation */
                again = json_dumps(j, LB_CANON_FLAGS);
                ck_assert_uint_eq(strlen(again), (size_t) (nl - l));
                ck_assert_mem_eq(again, l, (size_t) (nl - l));
                memcpy(prev, h, sizeof(prev));
                l = nl + 1;
        }
}

START_TEST(test_record_io_matches_jansson) {
        struct lb_rec_chain c;
        struct lb_buf b = {};
        unsigned char bin[1000];
        json_auto_t *o = json_pack("{s:I, s:s, s:s}", "t", (json_int_t) 0, "kind", "start",
                                   "session", "s-1");

        for (size_t i = 0; i < sizeof(bin); i++)
                bin[i] = (unsigned char) (i * 7);
        lb_rec_chain_init(&c);
        ck_assert_int_eq(lb_rec_finish(&c, o, &b), 0);
        ck_assert_int_eq(lb_rec_io(&c, "out", "tty", 12, bin, sizeof(bin), false, &b), 0);
        ck_assert_int_eq(lb_rec_io(&c, "in", "tty", 13, "secret", 6, true, &b), 0);
        ck_assert_int_eq(lb_rec_io(&c, "out", "stderr", 14, "", 0, false, &b), 0);
        ck_assert_int_eq(lb_rec_io(&c, "out", "tty", 15, "\0\n\"", 3, false, &b), 0);
        ck_assert_uint_eq(c.seq, 5);
        ck_assert_int_eq(lb_buf_append(&b, "", 1), 0);
        check_chain(b.p);
        /* masked input keeps only the length */
        {
                _cleanup_free_ char *b64 = lb_base64_encode("secret", 6, true);
                ck_assert_ptr_null(strstr(b.p, b64));
        }
        ck_assert_ptr_nonnull(strstr(b.p, "\"kind\":\"in\",\"len\":6,\"masked\":true"));
        lb_buf_done(&b);
}
END_TEST

START_TEST(test_argv_text) {
        char *argv[] = { "ls", "-l", "a b", "it's", "\x1b[2J" };
        size_t lens[] = { 2, 2, 3, 4, 4 };
        _cleanup_free_ char *t = lb_rec_argv_text(argv, lens, 5);
        ck_assert_str_eq(t, "ls -l 'a b' 'it'\\''s' '\\x1b[2J'");
}
END_TEST

/* ---- batching and the writer ---- */

static void add_records(struct lb_rec_chain *c, struct lb_buf *b, int n_out, size_t size) {
        char *data = malloc(size);
        memset(data, 'x', size);
        for (int i = 0; i < n_out; i++)
                ck_assert_int_eq(lb_rec_io(c, "out", "tty", (uint64_t) i, data, size, false, b), 0);
        free(data);
}

START_TEST(test_next_entry) {
        struct lb_rec_chain c;
        struct lb_buf b = {};
        struct lb_entry_span sp;
        json_auto_t *cmd = json_pack("{s:I, s:s, s:s}", "t", (json_int_t) 1, "kind", "cmd",
                                     "argv_text", "say \"kind\":\"end\"");

        lb_rec_chain_init(&c);
        add_records(&c, &b, 3, 100);
        ck_assert_int_eq(lb_rec_finish(&c, cmd, &b), 0);
        add_records(&c, &b, 2, 100);

        ck_assert_int_eq(lb_writer_next_entry(b.p, b.len, 256 * 1024, &sp), 0);
        ck_assert_str_eq(sp.kind, "io");
        ck_assert_uint_eq(sp.seq_first, 1);
        ck_assert_uint_eq(sp.seq_last, 3);
        ck_assert_uint_eq(sp.n_records, 3);
        ck_assert(!sp.open);
        ck_assert_int_eq(lb_writer_next_entry(b.p + sp.len, b.len - sp.len, 256 * 1024, &sp), 0);
        ck_assert_str_eq(sp.kind, "cmd");
        ck_assert_uint_eq(sp.seq_first, 4);
        ck_assert_uint_eq(sp.seq_last, 4);
        /* the batch limit */
        ck_assert_int_eq(lb_writer_next_entry(b.p, b.len, 300, &sp), 0);
        ck_assert_uint_eq(sp.n_records, 1);
        ck_assert_uint_eq(sp.seq_last, 1);
        /* an incomplete line is not an entry yet */
        ck_assert_int_eq(lb_writer_next_entry("{\"kind\":\"out\"", 13, 300, &sp), -EAGAIN);
        ck_assert_int_eq(lb_writer_next_entry("{}\n", 3, 300, &sp), -EBADMSG);
        lb_buf_done(&b);
}
END_TEST

/* Lines the spool refused go straight to a sink, one entry per line, marked
 * unspooled; a command keeps its readable fields. */
START_TEST(test_writer_unspooled) {
        struct lb_sink_memory *m;
        struct lb_rec_chain c;
        struct lb_buf b = {};
        json_auto_t *cmd = json_pack("{s:I, s:s, s:s, s:s}", "t", (json_int_t) 1, "kind", "cmd",
                                     "argv_text", "touch x", "cwd", "/tmp");

        ck_assert_int_eq(lb_sink_memory_new(&m), 0);
        lb_rec_chain_init(&c);
        add_records(&c, &b, 2, 100);
        ck_assert_int_eq(lb_rec_finish(&c, cmd, &b), 0);
        ck_assert_int_eq(lb_writer_send_unspooled(&m->sink, b.p, b.len), 0);
        ck_assert_uint_eq(m->n, 3);
        for (size_t i = 0; i < 3; i++) {
                ck_assert(m->entries[i].unspooled);
                ck_assert_uint_eq(m->entries[i].n_records, 1);
                ck_assert_uint_eq(m->entries[i].seq_first, i + 1);
        }
        ck_assert_str_eq(m->entries[2].kind, "cmd");
        ck_assert_str_eq(m->entries[2].argv_text, "touch x");
        /* a failed send is said, the rest still sent */
        m->fail_next = 1;
        ck_assert_int_eq(lb_writer_send_unspooled(&m->sink, b.p, b.len), -ENOTCONN);
        ck_assert_uint_eq(m->n, 5);
        lb_sink_free(&m->sink);
        lb_buf_done(&b);
}
END_TEST

START_TEST(test_writer_resend) {
        char dir[] = "/tmp/lbx-unit.XXXXXX";
        struct lb_spool s;
        struct lb_sink_memory *m;
        struct lb_writer w;
        struct lb_rec_chain c;
        struct lb_buf b = {}, all = {};
        json_auto_t *end = json_pack("{s:I, s:s}", "t", (json_int_t) 9, "kind", "end");

        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_int_eq(lb_spool_open(&s, dir, "s-unit", getuid(), getgid()), 0);
        ck_assert_int_eq(lb_sink_memory_new(&m), 0);
        lb_writer_init(&w, &s, &m->sink);
        lb_rec_chain_init(&c);

        add_records(&c, &b, 5, 1000);
        ck_assert_int_eq(lb_spool_append(&s, b.p, b.len), 0);
        /* an open io batch waits for flush_ms ... */
        ck_assert_int_eq(lb_writer_step(&w, 1000, false), 0);
        ck_assert_uint_eq(m->n, 0);
        /* ... then goes; journald is down: nothing is lost, it stays pending */
        m->fail_next = 1;
        ck_assert_int_lt(lb_writer_step(&w, 1300, false), 0);
        ck_assert_uint_eq(m->n, 0);
        ck_assert(!lb_writer_caught_up(&w));
        b.len = 0;
        ck_assert_int_eq(lb_rec_finish(&c, end, &b), 0);
        ck_assert_int_eq(lb_spool_append(&s, b.p, b.len), 0);
        /* back: re-sent, marked so, then the end record */
        ck_assert_int_eq(lb_writer_step(&w, 1400, false), 1);
        ck_assert_uint_eq(m->n, 2);
        ck_assert_str_eq(m->entries[0].kind, "io");
        ck_assert(m->entries[0].resent);
        ck_assert_uint_eq(m->entries[0].seq_first, 1);
        ck_assert_uint_eq(m->entries[0].seq_last, 5);
        ck_assert_str_eq(m->entries[1].kind, "end");
        ck_assert_uint_eq(m->entries[1].seq_first, 6);
        ck_assert(lb_writer_caught_up(&w));
        /* every record once, in order, chain intact */
        for (size_t i = 0; i < m->n; i++)
                lb_buf_append(&all, m->entries[i].records, m->entries[i].records_len);
        lb_buf_append(&all, "", 1);
        check_chain(all.p);

        ck_assert_int_eq(lb_spool_close(&s), 0);
        {
                _cleanup_free_ char *p = lb_asprintf("%s/s-unit.jsonl", dir);
                struct stat st;
                ck_assert_int_eq(stat(p, &st), 0);
                ck_assert_int_eq(st.st_mode & 0777, 0600);
                unlink(p);
        }
        rmdir(dir);
        lb_writer_done(&w);
        lb_sink_free(&m->sink);
        lb_buf_done(&b);
        lb_buf_done(&all);
}
END_TEST

/* ---- decisions ---- */

START_TEST(test_masking) {
        struct termios t = {};
        t.c_lflag = ICANON | ECHO;
        ck_assert(!lb_rec_input_masked(&t));
        t.c_lflag = ICANON; /* a password prompt */
        ck_assert(lb_rec_input_masked(&t));
        t.c_lflag = 0; /* raw mode: an editor */
        ck_assert(!lb_rec_input_masked(&t));
}
END_TEST

START_TEST(test_sftp) {
        ck_assert(lb_rec_is_sftp("internal-sftp"));
        ck_assert(lb_rec_is_sftp("/usr/lib/openssh/sftp-server"));
        ck_assert(lb_rec_is_sftp("/usr/lib/openssh/sftp-server -l INFO"));
        ck_assert(lb_rec_is_sftp("  sftp-server"));
        ck_assert(!lb_rec_is_sftp("ls sftp-server"));
        ck_assert(!lb_rec_is_sftp("ls"));
        ck_assert(!lb_rec_is_sftp(NULL));
        ck_assert(!lb_rec_is_sftp("internal-sftpx"));
}
END_TEST

/* What ran is judged by the exec, not the command's text: a file named
 * sftp-server anywhere, or the same file as a known server under another
 * name (a symlink, relative names from the process's cwd). */
START_TEST(test_sftp_by_exec) {
        char dir[] = "/tmp/lbx-sftp-XXXXXX", *argv0 = (char *) "x";
        size_t l0 = 1;
        _cleanup_free_ char *server = NULL, *link = NULL, *other = NULL;
        const char *known[2] = { NULL, NULL };
        struct lb_cmd c = { .argv = &argv0, .argv_len = &l0, .argc = 1 };
        int fd;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        server = lb_asprintf("%s/the-server", dir);
        link = lb_asprintf("%s/innocent", dir);
        other = lb_asprintf("%s/other", dir);
        fd = open(server, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
        ck_assert_int_ge(fd, 0);
        close(fd);
        fd = open(other, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(symlink(server, link), 0);
        known[0] = server;

        c.exe = (char *) "/usr/lib/openssh/sftp-server";
        ck_assert(lb_cmd_is_sftp_server(&c, known));
        c.exe = (char *) "/home/op/bin/sftp-server"; /* by name, wherever */
        ck_assert(lb_cmd_is_sftp_server(&c, known));
        c.exe = link; /* the known server under another name */
        ck_assert(lb_cmd_is_sftp_server(&c, known));
        c.exe = (char *) "innocent"; /* relative: from the process's cwd */
        c.cwd = dir;
        ck_assert(lb_cmd_is_sftp_server(&c, known));
        c.cwd = (char *) "/";
        ck_assert(!lb_cmd_is_sftp_server(&c, known));
        c.exe = other;
        ck_assert(!lb_cmd_is_sftp_server(&c, known));
        c.exe = (char *) "/usr/bin/env"; /* the text "env .../sftp-server" is not what ran */
        ck_assert(!lb_cmd_is_sftp_server(&c, known));
        {
                /* by the inode the kernel's record names, whatever the path
                 * (one the recorder cannot read, or gone) */
                struct stat st;
                ck_assert_int_eq(stat(server, &st), 0);
                c.exe = (char *) "/nonexistent/private/tool";
                c.has_inode = true;
                c.inode = st.st_ino;
                c.dev_major = major(st.st_dev);
                c.dev_minor = minor(st.st_dev);
                ck_assert(lb_cmd_is_sftp_server(&c, known));
                c.inode = st.st_ino + 1;
                ck_assert(!lb_cmd_is_sftp_server(&c, known));
                c.has_inode = false;
        }
        c.exe = NULL; /* the proc connector without exe: argv[0] */
        ck_assert(!lb_cmd_is_sftp_server(&c, known));
        argv0 = (char *) "/usr/lib/openssh/sftp-server";
        l0 = strlen(argv0);
        ck_assert(lb_cmd_is_sftp_server(&c, known));
        ck_assert(lb_cmd_is_sftp_server(&(struct lb_cmd) { .exe = (char *) "sftp-server" }, NULL));

        /* an sftp client's first packet: SSH_FXP_INIT, version 3 */
        ck_assert(lb_sftp_init_seen("\0\0\0\x05\x01\0\0\0\x03", 9));
        ck_assert(!lb_sftp_init_seen("\0\0\0\x05\x01\0\0\0", 8));
        ck_assert(!lb_sftp_init_seen("ls -l\nexit\n", 11));
        unlink(link);
        unlink(server);
        unlink(other);
        rmdir(dir);
}
END_TEST

START_TEST(test_warnings) {
        unsigned w = 0;
        uint64_t d = 100 * 60 * 1000;
        ck_assert_uint_eq(lb_rec_warning_due(d - 11 * 60 * 1000, d, &w), 0);
        ck_assert_uint_eq(lb_rec_warning_due(d - 10 * 60 * 1000, d, &w), 10);
        ck_assert_uint_eq(lb_rec_warning_due(d - 9 * 60 * 1000, d, &w), 0);
        ck_assert_uint_eq(lb_rec_warning_due(d - 60 * 1000, d, &w), 1);
        ck_assert_uint_eq(lb_rec_warning_due(d - 30 * 1000, d, &w), 0);
        ck_assert_uint_eq(lb_rec_warning_due(d, d, &w), 0);
        /* a session that starts with 5 minutes left: one 10-minute-class warning, then T-1 */
        w = 0;
        ck_assert_uint_eq(lb_rec_warning_due(d - 5 * 60 * 1000, d, &w), 10);
        ck_assert_uint_eq(lb_rec_warning_due(d - 59 * 1000, d, &w), 1);
}
END_TEST

START_TEST(test_session_record) {
        const char *t = "{\"session\":\"s-0123456789abcdef\",\"request\":\"r-0123456789ab\","
                        "\"operator\":\"alice@vendor.example\",\"user\":\"vendor\",\"host\":\"web1\","
                        "\"not_after\":\"2026-11-22T12:05:00Z\",\"remaining_s\":7199,"
                        "\"mono_ms\":123456789,\"audit_session\":7,\"sshd_pid\":4242,"
                        "\"created_at\":\"2026-11-22T10:05:01Z\"}";
        struct lb_rec_session s;
        ck_assert_int_eq(lb_rec_session_parse(t, strlen(t), &s), 0);
        ck_assert_str_eq(s.session, "s-0123456789abcdef");
        ck_assert_str_eq(s.operator_, "alice@vendor.example");
        ck_assert_uint_eq(s.audit_session, 7);
        ck_assert_uint_eq(s.mono_ms, 123456789);
        ck_assert_int_eq(s.remaining_s, 7199);
        lb_rec_session_done(&s);
        ck_assert_int_eq(lb_rec_session_parse("{\"session\":\"../x\"}", 17, &s), -EBADMSG);
        ck_assert_int_eq(lb_rec_session_parse("[]", 2, &s), -EBADMSG);
        ck_assert_str_eq(lb_rec_reason_from_broker("open", "revoked: bye"), "revoked");
        ck_assert_str_eq(lb_rec_reason_from_broker("open", "expired"), "expired");
}
END_TEST

START_TEST(test_message_ids) {
        ck_assert_str_eq(lb_sink_message_id("cmd"), "d644840aff6f4e298f91556904be4955");
        ck_assert_str_eq(lb_sink_message_id("io"), "5c67643dd735480685e8055ae4b6ac81");
        ck_assert_ptr_null(lb_sink_message_id("out"));
}
END_TEST

/* notes: one journald entry each */
static void add_notes(struct lb_spool *s, struct lb_rec_chain *c, int n) {
        struct lb_buf b = {};
        for (int i = 0; i < n; i++) {
                json_auto_t *o = json_pack("{s:I, s:s, s:s}", "t", (json_int_t) i, "kind", "note",
                                           "text", "n");
                ck_assert_int_eq(lb_rec_finish(c, o, &b), 0);
        }
        ck_assert_int_eq(lb_spool_append(s, b.p, b.len), 0);
        lb_buf_done(&b);
}

/* Every seq of the spool exactly in the sink's entries (duplicates allowed). */
static void check_all_seen(struct lb_sink_memory *m, uint64_t last) {
        for (uint64_t q = 1; q <= last; q++) {
                bool found = false;
                for (size_t i = 0; i < m->n && !found; i++)
                        found = m->entries[i].seq_first <= q && q <= m->entries[i].seq_last;
                ck_assert_msg(found, "seq %" PRIu64 " missing from the sink", q);
        }
}

START_TEST(test_writer_read_back) {
        char dir[] = "/tmp/lbx-unit.XXXXXX";
        struct lb_spool s;
        struct lb_sink_memory *m;
        struct lb_writer w;
        struct lb_rec_chain c;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_int_eq(lb_spool_open(&s, dir, "s-rb", getuid(), getgid()), 0);
        ck_assert_int_eq(lb_sink_memory_new(&m), 0);
        lb_writer_init(&w, &s, &m->sink);
        lb_rec_chain_init(&c);

        /* 1. journald takes 1 and 2 and loses them, keeps 3..5: seeing 3
         * proves 1 and 2 lost (journald keeps send order) */
        add_notes(&s, &c, 5);
        m->drop_next = 2;
        ck_assert_int_eq(lb_writer_step(&w, 1000, false), 1);
        ck_assert(lb_writer_caught_up(&w));
        ck_assert_uint_eq(m->n, 5);
        ck_assert_uint_eq(m->entries[0].seq_first, 3);
        ck_assert_uint_eq(m->entries[3].seq_first, 1);
        ck_assert(m->entries[3].resent);
        ck_assert_uint_eq(m->entries[4].seq_first, 2);
        ck_assert_uint_eq(atomic_load(&w.dropped), 2);
        ck_assert(!lb_writer_settled(&w)); /* the re-sent ones are not seen yet */
        ck_assert_int_eq(lb_writer_step(&w, 2100, false), 0);
        ck_assert(lb_writer_settled(&w));
        check_all_seen(m, 5);

        /* 2. the last entry lost, nothing after it: not re-sent while it may
         * just be on its way, then probed */
        add_notes(&s, &c, 1);
        m->drop_next = 1;
        ck_assert_int_eq(lb_writer_step(&w, 3200, false), 1);
        ck_assert_uint_eq(m->n, 5);
        ck_assert_int_eq(lb_writer_step(&w, 4300, false), 0);
        ck_assert(!lb_writer_settled(&w));
        ck_assert_uint_eq(atomic_load(&w.probes), 0);
        ck_assert_int_eq(lb_writer_step(&w, 6300, false), 1);
        ck_assert_uint_eq(atomic_load(&w.probes), 1);
        ck_assert_uint_eq(m->n, 6);
        ck_assert_uint_eq(m->entries[5].seq_first, 6);
        ck_assert(m->entries[5].resent);
        ck_assert_int_eq(lb_writer_step(&w, 7400, false), 0);
        ck_assert(lb_writer_settled(&w));

        /* 3. the end of a session: drain, single-threaded, on the real clock */
        add_notes(&s, &c, 3);
        m->drop_next = 3;
        w.probe_ms = 30;
        ck_assert_int_eq(lb_writer_drain(&w, 5000), 0);
        ck_assert(lb_writer_settled(&w));
        check_all_seen(m, 9);

        /* 4. entries that never show (Storage=none): after blind_ms the
         * writer stops waiting for them, and says so */
        {
                struct lb_sink_memory *m2;
                struct lb_writer w2;
                ck_assert_int_eq(lb_sink_memory_new(&m2), 0);
                lb_writer_init(&w2, &s, &m2->sink);
                m2->drop_next = 1000;
                ck_assert_int_eq(lb_writer_step(&w2, 1000, true), 1);
                ck_assert(lb_writer_caught_up(&w2));
                ck_assert(!lb_writer_settled(&w2));
                ck_assert_int_eq(atomic_load(&w2.read_back), 0);
                for (uint64_t t = 1100; t <= 1000 + w2.blind_ms + 1100; t += 1000)
                        (void) lb_writer_step(&w2, t, false);
                ck_assert_int_eq(atomic_load(&w2.read_back), -ENODATA);
                ck_assert(lb_writer_settled(&w2));
                ck_assert_uint_eq(m2->n, 0);
                lb_writer_done(&w2);
                lb_sink_free(&m2->sink);
        }

        ck_assert_int_eq(lb_spool_close(&s), 0);
        {
                _cleanup_free_ char *p = lb_asprintf("%s/s-rb.jsonl", dir);
                unlink(p);
        }
        rmdir(dir);
        lb_writer_done(&w);
        lb_sink_free(&m->sink);
}
END_TEST

/* ---- the journald sender, against a datagram socket of our own ---- */

static int bind_dgram(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        strcpy(sa.sun_path, path);
        unlink(path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

START_TEST(test_jsend) {
        char dir[] = "/tmp/lbx-unit.XXXXXX", buf[4096];
        _cleanup_free_ char *path = NULL;
        struct lb_jsend js;
        struct iovec iov[2] = { { "MESSAGE=hi", 10 }, { "LOCKBOX_RECORDS=a\nb", 19 } };
        static const char want[] = "MESSAGE=hi\nLOCKBOX_RECORDS\n\003\0\0\0\0\0\0\0a\nb\n";
        struct iovec bad = { "_UID=0", 6 };
        int fd, r, n = 0;
        ssize_t got;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        path = lb_asprintf("%s/socket", dir);
        setenv("LOCKBOX_JOURNAL_SOCKET", path, 1);
        lb_jsend_init(&js, 100);

        /* nobody there */
        ck_assert_int_eq(lb_jsend_sendv(&js, iov, 2), -ENOTCONN);
        /* the native format: a value with a newline goes as a binary field */
        fd = bind_dgram(path);
        ck_assert_int_eq(lb_jsend_sendv(&js, iov, 2), 0);
        got = recv(fd, buf, sizeof(buf), 0);
        ck_assert_int_eq(got, (ssize_t) sizeof(want) - 1);
        ck_assert(memcmp(buf, want, sizeof(want) - 1) == 0);
        /* journald's own fields cannot be given */
        ck_assert_int_eq(lb_jsend_sendv(&js, &bad, 1), -EINVAL);
        /* a receiver that stops reading: the queue fills, and a send gives up
         * after its timeout instead of blocking */
        do {
                r = lb_jsend_sendv(&js, iov, 2);
        } while (r == 0 && ++n < 100000);
        ck_assert_int_eq(r, -ETIMEDOUT);
        /* a new receiver at the path (journald restarted): sent there */
        close(fd);
        fd = bind_dgram(path);
        ck_assert_int_eq(lb_jsend_sendv(&js, iov, 2), 0);
        ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), (ssize_t) sizeof(want) - 1);
        /* too big for a datagram: a sealed memfd */
        {
                size_t big = 12 * 1024 * 1024; /* over any datagram limit */
                char *p = malloc(big + 16);
                struct iovec v = { p, big + 16 };
                char cbuf[CMSG_SPACE(sizeof(int))];
                struct msghdr mh = { .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
                struct cmsghdr *c;
                int mfd, seals;
                struct stat st;

                memcpy(p, "LOCKBOX_RECORDS=", 16);
                memset(p + 16, 'x', big);
                ck_assert_int_eq(lb_jsend_sendv(&js, &v, 1), 0);
                ck_assert_int_ge(recvmsg(fd, &mh, MSG_DONTWAIT), 0);
                c = CMSG_FIRSTHDR(&mh);
                ck_assert_ptr_nonnull(c);
                ck_assert_int_eq(c->cmsg_type, SCM_RIGHTS);
                memcpy(&mfd, CMSG_DATA(c), sizeof(int));
                seals = fcntl(mfd, F_GET_SEALS);
                ck_assert(seals & F_SEAL_WRITE);
                ck_assert_int_eq(fstat(mfd, &st), 0);
                ck_assert_int_eq(st.st_size, (off_t) (big + 17));
                close(mfd);
                free(p);
        }
        close(fd);
        lb_jsend_done(&js);
        unlink(path);
        rmdir(dir);
        unsetenv("LOCKBOX_JOURNAL_SOCKET");
}
END_TEST

int main(void) {
        Suite *s = suite_create("record");
        TCase *tc = tcase_create("parts");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_audit_exec);
        tcase_add_test(tc, test_audit_other_session_and_interleaved);
        tcase_add_test(tc, test_audit_failed_exec_and_argv_split);
        tcase_add_test(tc, test_audit_field);
        tcase_add_test(tc, test_audit_field_nul);
        tcase_add_test(tc, test_audit_numeric_field_at_end);
        tcase_add_test(tc, test_record_io_matches_jansson);
        tcase_add_test(tc, test_argv_text);
        tcase_add_test(tc, test_next_entry);
        tcase_add_test(tc, test_writer_unspooled);
        tcase_add_test(tc, test_writer_resend);
        tcase_add_test(tc, test_writer_read_back);
        tcase_add_test(tc, test_jsend);
        tcase_add_test(tc, test_masking);
        tcase_add_test(tc, test_sftp);
        tcase_add_test(tc, test_warnings);
        tcase_add_test(tc, test_sftp_by_exec);
        tcase_add_test(tc, test_session_record);
        tcase_add_test(tc, test_message_ids);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
