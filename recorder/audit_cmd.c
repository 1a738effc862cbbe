/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "audit_cmd.h"
#include "record.h"
#include "util.h"

#define MAX_OPEN 256
#define MAX_ARGS 65536
#define MAX_ARG_BYTES (2u * 1024 * 1024)

struct event {
        uint64_t serial;
        bool used, wanted, is_exec, have_syscall;
        struct lb_cmd cmd;
        size_t argc_expected;
        size_t args_bytes;
        uint64_t age;
};

struct lb_audit_parser {
        uint32_t ses;
        struct event ev[MAX_OPEN];
        uint64_t tick, overflows;
};

void lb_cmd_free(struct lb_cmd *c) {
        if (!c)
                return;
        free(c->exe);
        free(c->cwd);
        for (size_t i = 0; i < c->argc; i++)
                free(c->argv[i]);
        free(c->argv);
        free(c->argv_len);
        free(c);
}

static void event_clear(struct event *e) {
        free(e->cmd.exe);
        free(e->cmd.cwd);
        for (size_t i = 0; i < e->cmd.argc; i++)
                free(e->cmd.argv[i]);
        free(e->cmd.argv);
        free(e->cmd.argv_len);
        *e = (struct event) {};
}

int lb_audit_parser_new(uint32_t ses, struct lb_audit_parser **ret) {
        struct lb_audit_parser *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->ses = ses;
        *ret = p;
        return 0;
}

void lb_audit_parser_free(struct lb_audit_parser *p) {
        if (!p)
                return;
        for (size_t i = 0; i < MAX_OPEN; i++)
                event_clear(&p->ev[i]);
        free(p);
}

uint64_t lb_audit_parser_overflows(struct lb_audit_parser *p) {
        return p->overflows;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Find " key=" (or key= at the start) in text. */
static const char *find_key(const char *text, size_t len, const char *key) {
        size_t kl = strlen(key);
        const char *p = text, *end = text + len;

        while (p < end) {
                const char *hit = memmem(p, (size_t) (end - p), key, kl);
                if (!hit)
                        return NULL;
                if ((hit == text || hit[-1] == ' ') && hit + kl < end && hit[kl] == '=')
                        return hit + kl + 1;
                p = hit + 1;
        }
        return NULL;
}

int lb_audit_field(const char *text, size_t len, const char *key, char **ret,
                   size_t *ret_len) {
        const char *v = find_key(text, len, key), *end = text + len, *e;
        char *out;
        size_t n = 0;
        bool hex = true;

        if (!v)
                return -ENOENT;
        if (v < end && *v == '"') {
                v++;
                e = memchr(v, '"', (size_t) (end - v));
                if (!e)
                        return -EBADMSG;
                /* the kernel quotes only printable text: a NUL would make the
                 * copy shorter than the length we hand back */
                if (memchr(v, 0, (size_t) (e - v)))
                        return -EBADMSG;
                out = malloc((size_t) (e - v) + 1);
                if (!out)
                        return -ENOMEM;
                memcpy(out, v, (size_t) (e - v));
                out[e - v] = 0;
                *ret_len = (size_t) (e - v);
                *ret = out;
                return 0;
        }
        for (e = v; e < end && *e != ' ' && *e != '\n' && *e != '\x1d'; e++) {
                if (*e == '\0')
                        return -EBADMSG;
                if (hexval(*e) < 0)
                        hex = false;
        }
        if ((e - v) % 2 != 0 || e == v)
                hex = false;
        /* "(null)" and plain numbers stay as they are; only untrusted strings
         * are hex-encoded, and all-hex-digit plain words cannot be told apart,
         * so callers only ask for fields the kernel encodes. */
        out = malloc((size_t) (e - v) + 1);
        if (!out)
                return -ENOMEM;
        if (hex) {
                /* decoded bytes may hold a NUL: *ret_len counts them all */
                for (const char *q = v; q < e; q += 2)
                        out[n++] = (char) (hexval(q[0]) << 4 | hexval(q[1]));
        } else {
                memcpy(out, v, (size_t) (e - v));
                n = (size_t) (e - v);
        }
        out[n] = 0;
        *ret = out;
        *ret_len = n;
        return 0;
}

static int field_num(const char *text, size_t len, const char *key, int64_t *ret) {
        const char *v = find_key(text, len, key), *end = text + len;
        size_t n = 0;
        int64_t x = 0;
        bool neg = false;

        if (!v)
                return -ENOENT;
        if (v < end && *v == '-') {
                neg = true;
                v++;
        }
        for (; v < end && *v >= '0' && *v <= '9'; v++, n++) {
                if (x > (INT64_MAX - 9) / 10)
                        return -ERANGE;
                x = x * 10 + (*v - '0');
        }
        if (n == 0)
                return -EBADMSG;
        *ret = neg ? -x : x;
        return 0;
}

/* "MAJ:MIN" in hex, as the kernel writes dev= of a PATH record. */
static int parse_dev(const char *p, size_t n, unsigned *ret_major, unsigned *ret_minor) {
        unsigned v[2] = { 0, 0 };
        size_t i = 0;

        for (int part = 0; part < 2; part++) {
                size_t digits = 0;
                for (; i < n; i++, digits++) {
                        char ch = p[i];
                        unsigned d = ch >= '0' && ch <= '9' ? (unsigned) (ch - '0')
                                   : ch >= 'a' && ch <= 'f' ? (unsigned) (ch - 'a' + 10)
                                   : ch >= 'A' && ch <= 'F' ? (unsigned) (ch - 'A' + 10) : 16;
                        if (d == 16)
                                break;
                        if (v[part] > 0xfffffu)
                                return -ERANGE;
                        v[part] = v[part] * 16 + d;
                }
                if (digits == 0 || (part == 0 && (i >= n || p[i++] != ':')))
                        return -EBADMSG;
        }
        *ret_major = v[0];
        *ret_minor = v[1];
        return 0;
}

int lb_audit_serial(const char *text, size_t len, uint64_t *ret, size_t *ret_body) {
        const char *p = memmem(text, len, "audit(", 6), *colon, *close;
        uint64_t s = 0;

        if (!p)
                return -EBADMSG;
        close = memmem(p, (size_t) (text + len - p), "):", 2);
        if (!close)
                return -EBADMSG;
        colon = memchr(p, ':', (size_t) (close - p));
        if (!colon || colon + 1 >= close)
                return -EBADMSG;
        for (const char *q = colon + 1; q < close; q++) {
                if (*q < '0' || *q > '9' || s > UINT64_MAX / 10 - 1)
                        return -EBADMSG;
                s = s * 10 + (uint64_t) (*q - '0');
        }
        *ret = s;
        *ret_body = (size_t) (close + 2 - text);
        return 0;
}

static struct event *event_get(struct lb_audit_parser *p, uint64_t serial) {
        struct event *free_slot = NULL, *oldest = NULL;

        for (size_t i = 0; i < MAX_OPEN; i++) {
                struct event *e = &p->ev[i];
                if (e->used && e->serial == serial)
                        return e;
                if (!e->used && !free_slot)
                        free_slot = e;
                if (e->used && (!oldest || e->age < oldest->age))
                        oldest = e;
        }
        if (!free_slot) {
                /* an event whose EOE never came: drop the oldest */
                if (oldest->wanted && oldest->is_exec)
                        p->overflows++;
                event_clear(oldest);
                free_slot = oldest;
        }
        free_slot->used = true;
        free_slot->wanted = true; /* until its SYSCALL says otherwise */
        free_slot->serial = serial;
        free_slot->age = ++p->tick;
        return free_slot;
}

static int add_execve(struct event *e, const char *t, size_t len) {
        int64_t argc;
        int r;

        e->is_exec = true;
        if (e->cmd.argv == NULL) {
                r = field_num(t, len, "argc", &argc);
                if (r < 0)
                        return r;
                if (argc < 0 || argc > MAX_ARGS)
                        return -EBADMSG;
                e->argc_expected = (size_t) argc;
                e->cmd.argv = calloc((size_t) argc + 1, sizeof(char *));
                e->cmd.argv_len = calloc((size_t) argc + 1, sizeof(size_t));
                if (!e->cmd.argv || !e->cmd.argv_len)
                        return -ENOMEM;
        }
        /* aN=VALUE, or aN_len=L followed by aN[0]=HEX aN[1]=HEX ...; a long
         * argv is split over several EXECVE records of the same event. */
        for (size_t i = e->cmd.argc; i < e->argc_expected; i++) {
                char key[32];
                _cleanup_free_ char *v = NULL;
                size_t vl;

                snprintf(key, sizeof(key), "a%zu", i);
                r = lb_audit_field(t, len, key, &v, &vl);
                if (r == -ENOENT) {
                        struct lb_buf b = {};
                        bool any = false;
                        for (size_t k = 0;; k++) {
                                _cleanup_free_ char *piece = NULL;
                                size_t pl;
                                snprintf(key, sizeof(key), "a%zu[%zu]", i, k);
                                if (lb_audit_field(t, len, key, &piece, &pl) < 0)
                                        break;
                                any = true;
                                /* an empty piece adds nothing (and an empty
                                 * buffer has no memory to append to yet) */
                                if (pl > 0 && lb_buf_append(&b, piece, pl) < 0) {
                                        lb_buf_done(&b);
                                        return -ENOMEM;
                                }
                        }
                        if (!any) {
                                lb_buf_done(&b);
                                return 0; /* continues in the next EXECVE record */
                        }
                        /* a split argument may itself continue: the kernel
                         * starts the next record with aN[k+1]; keep it simple
                         * by accepting what this record holds. */
                        if (lb_buf_append(&b, "", 1) < 0) {
                                lb_buf_done(&b);
                                return -ENOMEM;
                        }
                        e->cmd.argv[i] = b.p;
                        e->cmd.argv_len[i] = b.len - 1;
                } else if (r < 0)
                        return r;
                else {
                        e->cmd.argv[i] = TAKE_PTR(v);
                        e->cmd.argv_len[i] = vl;
                }
                e->args_bytes += e->cmd.argv_len[i];
                if (e->args_bytes > MAX_ARG_BYTES)
                        return -E2BIG;
                e->cmd.argc = i + 1;
        }
        return 0;
}

int lb_audit_parser_feed(struct lb_audit_parser *p, int type, const char *text, size_t len,
                         struct lb_cmd **ret_cmd) {
        uint64_t serial;
        size_t body;
        struct event *e;
        const char *t;
        size_t tl;
        int r;

        if (type != LB_AUDIT_SYSCALL && type != LB_AUDIT_EXECVE && type != LB_AUDIT_CWD &&
            type != LB_AUDIT_PATH && type != LB_AUDIT_EOE && type != LB_AUDIT_PROCTITLE)
                return 0;
        r = lb_audit_serial(text, len, &serial, &body);
        if (r < 0)
                return r;
        t = text + body;
        tl = len - body;
        e = event_get(p, serial);

        switch (type) {
        case LB_AUDIT_SYSCALL: {
                int64_t ses = -1;
                _cleanup_free_ char *succ = NULL;
                size_t sl;

                e->have_syscall = true;
                if (field_num(t, tl, "ses", &ses) < 0 || ses != (int64_t) p->ses)
                        e->wanted = false;
                if (lb_audit_field(t, tl, "success", &succ, &sl) == 0 && !streq(succ, "yes"))
                        e->wanted = false;
                e->cmd.ses = (uint32_t) ses;
                (void) field_num(t, tl, "pid", &e->cmd.pid);
                (void) field_num(t, tl, "ppid", &e->cmd.ppid);
                (void) field_num(t, tl, "uid", &e->cmd.uid);
                if (e->wanted && !e->cmd.exe) {
                        size_t el;
                        (void) lb_audit_field(t, tl, "exe", &e->cmd.exe, &el);
                }
                break;
        }
        case LB_AUDIT_EXECVE:
                if (e->wanted) {
                        r = add_execve(e, t, tl);
                        if (r < 0)
                                e->wanted = false;
                }
                break;
        case LB_AUDIT_CWD:
                if (e->wanted && !e->cmd.cwd) {
                        size_t cl;
                        (void) lb_audit_field(t, tl, "cwd", &e->cmd.cwd, &cl);
                }
                break;
        case LB_AUDIT_PATH: {
                int64_t item = -1;
                if (e->wanted && field_num(t, tl, "item", &item) == 0 && item == 0) {
                        size_t nl;
                        int64_t ino = -1;
                        const char *dev = find_key(t, tl, "dev");
                        unsigned maj, min;
                        if (!e->cmd.exe)
                                (void) lb_audit_field(t, tl, "name", &e->cmd.exe, &nl);
                        /* inode=N dev=MAJ:MIN (hex) */
                        if (field_num(t, tl, "inode", &ino) == 0 && ino >= 0 && dev &&
                            parse_dev(dev, (size_t) (t + tl - dev), &maj, &min) == 0) {
                                e->cmd.has_inode = true;
                                e->cmd.inode = (uint64_t) ino;
                                e->cmd.dev_major = maj;
                                e->cmd.dev_minor = min;
                        }
                }
                break;
        }
        case LB_AUDIT_PROCTITLE:
                break;
        case LB_AUDIT_EOE: {
                struct lb_cmd *c;

                if (!e->wanted || !e->is_exec || !e->have_syscall) {
                        event_clear(e);
                        return 0;
                }
                c = malloc(sizeof(*c));
                if (!c) {
                        event_clear(e);
                        return -ENOMEM;
                }
                *c = e->cmd;
                c->serial = serial;
                c->source = "audit";
                e->cmd = (struct lb_cmd) {};
                event_clear(e);
                *ret_cmd = c;
                return 1;
        }
        }
        return 0;
}

/* ---- what ran: sftp ---- */

const char *const lb_sftp_server_paths[] = {
        "/usr/lib/openssh/sftp-server",     /* Debian, Ubuntu */
        "/usr/libexec/openssh/sftp-server", /* Fedora, RHEL, SUSE */
        "/usr/lib/ssh/sftp-server",         /* Arch */
        "/usr/libexec/sftp-server",
        NULL,
};

bool lb_cmd_is_sftp_server(const struct lb_cmd *c, const char *const *known) {
        _cleanup_free_ char *full = NULL;
        const char *exe, *base;
        struct stat st;

        if (!c)
                return false;
        if (isempty(c->exe)) {
                /* the proc connector cannot read another user's exe: argv[0]
                 * then (the operator can change it; stdin is checked too) */
                if (c->argc == 0 || c->argv_len[0] == 0 || memchr(c->argv[0], 0, c->argv_len[0]))
                        return false;
                base = strrchr(c->argv[0], '/');
                return streq(base ? base + 1 : c->argv[0], "sftp-server");
        }
        base = strrchr(c->exe, '/');
        base = base ? base + 1 : c->exe;
        if (streq(base, "sftp-server"))
                return true;
        /* the file the kernel executed, by the inode its record names */
        if (c->has_inode)
                for (size_t i = 0; known && known[i]; i++) {
                        struct stat k;
                        if (stat(known[i], &k) == 0 && k.st_ino == c->inode &&
                            major(k.st_dev) == c->dev_major && minor(k.st_dev) == c->dev_minor)
                                return true;
                }
        /* the same file under another name (a symlink or hard link): the
         * path as the process gave it to execve, from its working directory */
        exe = c->exe;
        if (exe[0] != '/') {
                if (isempty(c->cwd))
                        return false;
                full = lb_asprintf("%s/%s", c->cwd, exe);
                if (!full)
                        return false;
                exe = full;
        }
        if (stat(exe, &st) < 0)
                return false;
        for (size_t i = 0; known && known[i]; i++) {
                struct stat k;
                if (stat(known[i], &k) == 0 && k.st_dev == st.st_dev && k.st_ino == st.st_ino)
                        return true;
        }
        return false;
}

bool lb_sftp_init_seen(const void *p, size_t n) {
        /* uint32 length 5, byte SSH_FXP_INIT (1), uint32 version */
        static const unsigned char init[5] = { 0, 0, 0, 5, 1 };
        return n >= 9 && memcmp(p, init, sizeof(init)) == 0;
}
