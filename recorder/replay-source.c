/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <systemd/sd-journal.h>

#include "replay-buf.h"
#include "replay-source.h"
#include "timeutil.h"
#include "util.h"

#define RECORDER_USER "lockbox-rec"
#define SPOOL_READ_MAX (64U * 1024 * 1024)

static const char *const message_ids[] = {
        "2fb1b94404e04226bd17aa5adfaa9a65", /* start */
        "5c67643dd735480685e8055ae4b6ac81", /* io */
        "d644840aff6f4e298f91556904be4955", /* cmd */
        "2b156c56ae184363b354bb9cffa04d5c", /* warn */
        "c76eb49925e541db92b0019982f1e195", /* end */
        "fa52885c31594338b07a7aedc5f2bef2", /* note */
};

void lb_source_trust_default(struct lb_source *s, const char *record_user) {
        struct passwd *pw = getpwnam(isempty(record_user) ? RECORDER_USER : record_user);

        (void) lb_source_trust_uid(s, 0);
        if (pw)
                (void) lb_source_trust_uid(s, pw->pw_uid);
}

int lb_source_trust_uid(struct lb_source *s, uid_t uid) {
        for (size_t i = 0; i < s->n_writers; i++)
                if (s->writers[i] == uid)
                        return 0;
        if (s->n_writers >= ELEMENTSOF(s->writers))
                return -E2BIG;
        s->writers[s->n_writers++] = uid;
        return 0;
}

void lb_claims_done(struct lb_claims *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].session);
        free(c->v);
        *c = (struct lb_claims) {};
}

/* Untrusted writers choose how many sessions they claim: past this many,
 * claims are only counted (the search stays bounded). */
#define CLAIMS_MAX 256

int lb_claims_add(struct lb_claims *c, const char *session, size_t len) {
        struct lb_claim *v;

        c->total++;
        if (!session || len == 0)
                return 0;
        /* an entry mostly claims the session the one before it claimed */
        if (c->n > 0 && strlen(c->v[c->n - 1].session) == len &&
            memcmp(c->v[c->n - 1].session, session, len) == 0) {
                c->v[c->n - 1].entries++;
                return 0;
        }
        for (size_t i = 0; i < c->n; i++)
                if (strlen(c->v[i].session) == len && memcmp(c->v[i].session, session, len) == 0) {
                        c->v[i].entries++;
                        return 0;
                }
        if (c->n >= CLAIMS_MAX)
                return 0; /* counted in total only */
        v = realloc(c->v, (c->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        c->v = v;
        v[c->n].session = strndup(session, len);
        if (!v[c->n].session)
                return -ENOMEM;
        v[c->n++].entries = 1;
        return 0;
}

struct lb_reader {
        const struct lb_source *src;
        char *session;
        sd_journal *j;
        /* spool */
        int fd, ino;
        char *path;
        struct lb_buf partial;
        struct lb_claims untrusted;
        bool checked_session;
};

void lb_reader_free(struct lb_reader *rd) {
        if (!rd)
                return;
        if (rd->j)
                sd_journal_close(rd->j);
        if (rd->fd >= 0)
                close(rd->fd);
        if (rd->ino >= 0)
                close(rd->ino);
        free(rd->session);
        free(rd->path);
        lb_buf_done(&rd->partial);
        lb_claims_done(&rd->untrusted);
        free(rd);
}

static int journal_open(const struct lb_source *s, sd_journal **ret) {
        sd_journal *j = NULL;
        int r;

        switch (s->type) {
        case LB_SOURCE_JOURNAL:
                r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
                break;
        case LB_SOURCE_DIRECTORY:
                r = sd_journal_open_directory(&j, s->paths[0], 0);
                break;
        case LB_SOURCE_FILES:
                r = sd_journal_open_files(&j, (const char **) s->paths, 0);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        /* LOCKBOX_RECORDS fields are large: read them whole */
        r = sd_journal_set_data_threshold(j, 0);
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }
        *ret = j;
        return 0;
}

static int add_message_ids(sd_journal *j) {
        for (size_t i = 0; i < ELEMENTSOF(message_ids); i++) {
                char m[64];
                int r;
                snprintf(m, sizeof(m), "MESSAGE_ID=%s", message_ids[i]);
                r = sd_journal_add_match(j, m, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Only the uid journald took from the kernel decides (see the header). */
static bool writer_trusted(const struct lb_source *s, const char *uid_s, size_t uid_len) {
        char buf[32];
        uint64_t uid;

        if (s->trust_all)
                return true;
        if (!uid_s || uid_len == 0 || uid_len >= sizeof(buf))
                return false;
        memcpy(buf, uid_s, uid_len);
        buf[uid_len] = '\0';
        if (lb_parse_u64(buf, UINT32_MAX, &uid) < 0)
                return false;
        for (size_t i = 0; i < s->n_writers; i++)
                if (s->writers[i] == (uid_t) uid)
                        return true;
        return false;
}

static bool entry_trusted(const struct lb_source *s, sd_journal *j) {
        const void *d;
        size_t l;

        if (s->trust_all)
                return true;
        if (sd_journal_get_data(j, "_UID", &d, &l) < 0 || l <= 5)
                return false;
        return writer_trusted(s, (const char *) d + 5, l - 5);
}

/* Counts an untrusted entry under the session it claims. */
static int entry_claim(struct lb_claims *c, sd_journal *j) {
        const void *d;
        size_t l;

        if (sd_journal_get_data(j, "LOCKBOX_SESSION", &d, &l) < 0 || l <= 16)
                return lb_claims_add(c, NULL, 0);
        return lb_claims_add(c, (const char *) d + 16, MIN(l - 16, (size_t) 256));
}

/* ---- journal export format (journalctl -o export) ---- */

#define EXPORT_FIELD_MAX (64U * 1024 * 1024)

struct export_entry {
        struct lb_buf session, msgid, uid, records;
        bool has_records;
};

static void export_entry_reset(struct export_entry *e) {
        e->session.n = e->msgid.n = e->uid.n = e->records.n = 0;
        e->has_records = false;
}

static void export_entry_done(struct export_entry *e) {
        lb_buf_done(&e->session);
        lb_buf_done(&e->msgid);
        lb_buf_done(&e->uid);
        lb_buf_done(&e->records);
}

static struct lb_buf *export_slot(struct export_entry *e, const char *name, size_t len) {
#define IS(n) (len == sizeof(n) - 1 && memcmp(name, n, len) == 0)
        if (IS("LOCKBOX_SESSION"))
                return &e->session;
        if (IS("MESSAGE_ID"))
                return &e->msgid;
        if (IS("_UID"))
                return &e->uid;
        if (IS("LOCKBOX_RECORDS")) {
                e->has_records = true;
                return &e->records;
        }
        return NULL;
#undef IS
}

/* Reads the next entry: 1 got one, 0 end of file, -errno. */
static int export_next(FILE *f, struct export_entry *e, char **line, size_t *cap) {
        bool any = false;
        int r;

        export_entry_reset(e);
        for (;;) {
                ssize_t n = getline(line, cap, f);
                const char *eq;
                struct lb_buf *slot;

                if (n < 0)
                        return ferror(f) ? -EIO : any;
                if (n == 1 && (*line)[0] == '\n') {
                        if (any)
                                return 1;
                        continue;
                }
                any = true;
                if ((*line)[n - 1] == '\n')
                        n--;
                eq = memchr(*line, '=', (size_t) n);
                if (eq) {
                        slot = export_slot(e, *line, (size_t) (eq - *line));
                        if (slot) {
                                slot->n = 0;
                                if ((r = lb_buf_put(slot, eq + 1, (size_t) (n - (eq - *line) - 1))) < 0)
                                        return r;
                        }
                        continue;
                }
                /* binary field: name, then a little-endian 64-bit size, data, newline */
                {
                        unsigned char le[8];
                        uint64_t size = 0;
                        slot = export_slot(e, *line, (size_t) n);
                        if (fread(le, 1, 8, f) != 8)
                                return -EBADMSG;
                        for (int i = 7; i >= 0; i--)
                                size = (size << 8) | le[i];
                        if (size > EXPORT_FIELD_MAX)
                                return -E2BIG;
                        if (slot)
                                slot->n = 0;
                        while (size > 0) {
                                char buf[65536];
                                size_t k = fread(buf, 1, (size_t) MIN(size, (uint64_t) sizeof(buf)), f);
                                if (k == 0)
                                        return -EBADMSG;
                                if (slot && (r = lb_buf_put(slot, buf, k)) < 0)
                                        return r;
                                size -= k;
                        }
                        if (fgetc(f) != '\n')
                                return -EBADMSG;
                }
        }
}

static bool is_recorder_id(const struct lb_buf *b, bool listing) {
        for (size_t i = 0; i < ELEMENTSOF(message_ids); i++) {
                if (listing && i != 0 && i != 2 && i != 4)
                        continue;
                if (b->n == strlen(message_ids[i]) && memcmp(b->p, message_ids[i], b->n) == 0)
                        return true;
        }
        return false;
}

/* Calls fn for each trusted recorder entry (of session, if given). */
static int export_foreach(const struct lb_source *s, const char *session, bool listing,
                          struct lb_claims *untrusted,
                          int (*fn)(struct export_entry *e, void *ud), void *ud) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        struct export_entry e = {};
        int r = 0;

        for (size_t i = 0; s->paths[i] && r >= 0; i++) {
                FILE *f = fopen(s->paths[i], "re");
                if (!f) {
                        r = -errno;
                        break;
                }
                while ((r = export_next(f, &e, &line, &cap)) > 0) {
                        if (!e.has_records || !is_recorder_id(&e.msgid, listing) || e.session.n == 0)
                                continue;
                        if (session && (e.session.n != strlen(session) ||
                                        memcmp(e.session.p, session, e.session.n) != 0))
                                continue;
                        if (!writer_trusted(s, e.uid.p, e.uid.n)) {
                                r = lb_claims_add(untrusted, e.session.p, MIN(e.session.n, (size_t) 256));
                                if (r < 0)
                                        break;
                                continue;
                        }
                        r = fn(&e, ud);
                        if (r < 0)
                                break;
                }
                fclose(f);
        }
        export_entry_done(&e);
        return r;
}

static int export_add(struct export_entry *e, void *ud) {
        int k = lb_recording_add_lines(ud, e->records.p ? e->records.p : "", e->records.n);
        return k < 0 ? k : 0;
}

static int entry_records(sd_journal *j, const char **ret, size_t *ret_len) {
        static const char field[] = "LOCKBOX_RECORDS=";
        const void *d;
        size_t l;
        int r;

        r = sd_journal_get_data(j, "LOCKBOX_RECORDS", &d, &l);
        if (r < 0)
                return r;
        if (l < sizeof(field) - 1)
                return -EBADMSG;
        *ret = (const char *) d + sizeof(field) - 1;
        *ret_len = l - (sizeof(field) - 1);
        return 0;
}

static char *spool_path(const char *p, const char *session, bool *ret_is_dir) {
        struct stat st;

        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
                *ret_is_dir = true;
                if (!lb_name_valid(session, 128))
                        return NULL;
                return lb_asprintf("%s/%s.jsonl", p, session);
        }
        *ret_is_dir = false;
        return strdup(p);
}

static int reader_fd(struct lb_reader *rd);

int lb_reader_open(const struct lb_source *s, const char *session, bool follow,
                   struct lb_reader **ret) {
        struct lb_reader *rd;
        int r;

        if (isempty(session))
                return -EINVAL;
        rd = calloc(1, sizeof(*rd));
        if (!rd)
                return -ENOMEM;
        rd->fd = rd->ino = -1;
        rd->src = s;
        rd->session = strdup(session);
        if (!rd->session) {
                r = -ENOMEM;
                goto fail;
        }

        if (s->type == LB_SOURCE_EXPORT) {
                if (follow) {
                        r = -EOPNOTSUPP; /* a finished file: nothing to follow */
                        goto fail;
                }
                *ret = rd;
                return 0;
        }

        if (s->type == LB_SOURCE_SPOOL) {
                bool dir = false;
                for (size_t i = 0; s->paths[i] && rd->fd < 0; i++) {
                        _cleanup_free_ char *p = spool_path(s->paths[i], session, &dir);
                        if (!p)
                                continue;
                        rd->fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                        if (rd->fd < 0) {
                                if (errno == ENOENT && (dir || s->paths[i + 1]))
                                        continue;
                                r = -errno;
                                goto fail;
                        }
                        rd->path = TAKE_PTR(p);
                        /* a file named by the auditor must hold this session */
                        rd->checked_session = dir;
                }
                if (rd->fd < 0) {
                        r = -ENOENT;
                        goto fail;
                }
                if (follow && (r = reader_fd(rd)) < 0)
                        goto fail;
                *ret = rd;
                return 0;
        }

        r = journal_open(s, &rd->j);
        if (r < 0)
                goto fail;
        {
                _cleanup_free_ char *m = lb_asprintf("LOCKBOX_SESSION=%s", session);
                if (!m) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = sd_journal_add_match(rd->j, m, 0);
                if (r >= 0)
                        r = add_message_ids(rd->j);
                if (r >= 0)
                        r = sd_journal_seek_head(rd->j);
                if (r >= 0 && follow)
                        r = reader_fd(rd);
                if (r < 0)
                        goto fail;
        }
        *ret = rd;
        return 0;
fail:
        lb_reader_free(rd);
        return r;
}

static int spool_read(struct lb_reader *rd, struct lb_recording *r) {
        char buf[65536];
        int added = 0;

        for (;;) {
                ssize_t n = read(rd->fd, buf, sizeof(buf));
                char *nl;
                int k;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                if (rd->partial.n + (size_t) n > LB_REPLAY_LINE_MAX + sizeof(buf))
                        return -E2BIG;
                k = lb_buf_put(&rd->partial, buf, (size_t) n);
                if (k < 0)
                        return k;
                nl = memrchr(rd->partial.p, '\n', rd->partial.n);
                if (!nl)
                        continue;
                size_t whole = (size_t) (nl - rd->partial.p) + 1;
                k = lb_recording_add_lines(r, rd->partial.p, whole);
                if (k < 0)
                        return k;
                added += k;
                memmove(rd->partial.p, rd->partial.p + whole, rd->partial.n - whole);
                rd->partial.n -= whole;
        }
        if (!rd->checked_session && r->n > 0) {
                const struct lb_rec *start = lb_recording_find(r, 1);
                const char *ses = start ? lb_json_str(start->obj, "session") : NULL;
                if (ses && !streq(ses, rd->session))
                        return -ENOENT;
                if (ses)
                        rd->checked_session = true;
        }
        return added;
}

static int journal_read(struct lb_reader *rd, struct lb_recording *r) {
        int added = 0, k;

        for (;;) {
                const char *p;
                size_t l;

                k = sd_journal_next(rd->j);
                if (k < 0)
                        return k;
                if (k == 0)
                        break;
                if (!entry_trusted(rd->src, rd->j)) {
                        k = lb_claims_add(&rd->untrusted, rd->session, strlen(rd->session));
                        if (k < 0)
                                return k;
                        continue;
                }
                if (entry_records(rd->j, &p, &l) < 0) {
                        r->malformed++;
                        continue;
                }
                k = lb_recording_add_lines(r, p, l);
                if (k < 0)
                        return k;
                added += k;
        }
        return added;
}

int lb_reader_read(struct lb_reader *rd, struct lb_recording *r) {
        if (rd->src->type == LB_SOURCE_EXPORT) {
                size_t before = r->n;
                int k;
                if (rd->checked_session)
                        return 0; /* read once */
                k = export_foreach(rd->src, rd->session, false, &rd->untrusted, export_add, r);
                if (k < 0)
                        return k;
                rd->checked_session = true;
                return (int) (r->n - before);
        }
        return rd->j ? journal_read(rd, r) : spool_read(rd, r);
}

static int reader_fd(struct lb_reader *rd) {
        if (rd->j)
                return sd_journal_get_fd(rd->j);
        if (rd->ino < 0) {
                rd->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (rd->ino < 0)
                        return -errno;
                if (inotify_add_watch(rd->ino, rd->path, IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB) < 0)
                        return -errno;
        }
        return rd->ino;
}

int lb_reader_wait(struct lb_reader *rd, int extra_fd, int timeout_ms) {
        struct pollfd pfd[2];
        int fd, k, events = POLLIN;

        fd = reader_fd(rd);
        if (fd < 0)
                return fd;
        if (rd->j) {
                uint64_t until;
                events = sd_journal_get_events(rd->j);
                if (events < 0)
                        return events;
                if (sd_journal_get_timeout(rd->j, &until) >= 0 && until != (uint64_t) -1) {
                        uint64_t now = lb_mono_ms() * 1000;
                        int ms = until > now ? (int) MIN((until - now + 999) / 1000, (uint64_t) INT32_MAX) : 0;
                        if (timeout_ms < 0 || ms < timeout_ms)
                                timeout_ms = ms;
                }
        }
        pfd[0] = (struct pollfd) { .fd = fd, .events = (short) events };
        pfd[1] = (struct pollfd) { .fd = extra_fd, .events = POLLIN };
        k = poll(pfd, extra_fd >= 0 ? 2 : 1, timeout_ms);
        if (k < 0)
                return errno == EINTR ? 1 : -errno;
        if (rd->j) {
                k = sd_journal_process(rd->j);
                if (k < 0)
                        return k;
        } else if (pfd[0].revents) {
                char buf[4096];
                while (read(fd, buf, sizeof(buf)) > 0)
                        ;
        }
        if (extra_fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP)))
                return 2;
        /* the journal may have news even when sd_journal_process says NOP
         * (rotation, a timeout passed): reading again is cheap */
        return 1;
}

size_t lb_reader_foreign(const struct lb_reader *rd) {
        return rd->untrusted.total;
}

/* ---- list ---- */

bool lb_session_id_valid(const char *s, size_t len) {
        if (!s || len < 3 || len > LB_SESSION_ID_MAX || memcmp(s, "s-", 2) != 0)
                return false;
        for (size_t i = 2; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

struct infos {
        struct lb_session_info *v;
        size_t n;
        size_t malformed; /* entries or files whose session name is not an id */
        size_t last; /* the session found last: entries of one session come together */
};

static struct lb_session_info *info_for(struct infos *is, const char *session) {
        struct lb_session_info *v;

        if (is->last < is->n && is->v[is->last].session && streq(is->v[is->last].session, session))
                return &is->v[is->last];
        for (size_t i = 0; i < is->n; i++)
                if (is->v[i].session && streq(is->v[i].session, session)) {
                        is->last = i;
                        return &is->v[i];
                }
        v = realloc(is->v, (is->n + 1) * sizeof(*v));
        if (!v)
                return NULL;
        is->v = v;
        v[is->n] = (struct lb_session_info) { .start_s = -1, .session = strdup(session) };
        if (!v[is->n].session)
                return NULL;
        is->last = is->n;
        return &v[is->n++];
}

static void fold_lines(struct lb_session_info *info, const char *p, size_t len) {
        while (len > 0) {
                const char *nl = memchr(p, '\n', len);
                size_t l = nl ? (size_t) (nl - p) : len;
                json_auto_t *o = l > 0 && l <= LB_REPLAY_LINE_MAX ? json_loadb(p, l, 0, NULL) : NULL;

                if (json_is_object(o))
                        lb_session_info_add(info, o);
                if (!nl)
                        break;
                p = nl + 1;
                len -= l + 1;
        }
}

static int list_journal(const struct lb_source *s, struct infos *is, struct lb_claims *untrusted) {
        sd_journal *j = NULL;
        int r;

        r = journal_open(s, &j);
        if (r < 0)
                return r;
        /* only start, end and cmd entries matter for a listing */
        for (size_t i = 0; i < ELEMENTSOF(message_ids); i++) {
                char m[64];
                if (i != 0 && i != 2 && i != 4)
                        continue;
                snprintf(m, sizeof(m), "MESSAGE_ID=%s", message_ids[i]);
                if ((r = sd_journal_add_match(j, m, 0)) < 0)
                        goto out;
        }
        SD_JOURNAL_FOREACH(j) {
                const void *d;
                const char *p;
                size_t l;
                char ses[160];
                struct lb_session_info *info;

                if (!entry_trusted(s, j)) {
                        if ((r = entry_claim(untrusted, j)) < 0)
                                goto out;
                        continue;
                }
                if (sd_journal_get_data(j, "LOCKBOX_SESSION", &d, &l) < 0 || l <= 16 ||
                    !lb_session_id_valid((const char *) d + 16, l - 16)) {
                        is->malformed++;
                        continue;
                }
                _Static_assert(sizeof(ses) > LB_SESSION_ID_MAX, "session buffer");
                memcpy(ses, (const char *) d + 16, l - 16);
                ses[l - 16] = '\0';
                if (entry_records(j, &p, &l) < 0)
                        continue;
                info = info_for(is, ses);
                if (!info) {
                        r = -ENOMEM;
                        goto out;
                }
                fold_lines(info, p, l);
        }
        r = 0;
out:
        sd_journal_close(j);
        return r;
}

static int export_fold(struct export_entry *e, void *ud) {
        struct infos *is = ud;
        _cleanup_free_ char *ses = NULL;
        struct lb_session_info *info;

        if (!lb_session_id_valid(e->session.p, e->session.n)) {
                is->malformed++;
                return 0;
        }
        ses = strndup(e->session.p, e->session.n);
        if (!ses)
                return -ENOMEM;
        info = info_for(is, ses);
        if (!info)
                return -ENOMEM;
        fold_lines(info, e->records.p ? e->records.p : "", e->records.n);
        return 0;
}

static int list_spool_file(const char *path, struct infos *is) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        struct lb_session_info tmp = { .start_s = -1 }, *info;
        int r;

        r = lb_read_file(path, SPOOL_READ_MAX, &data, &len);
        if (r < 0)
                return r;
        fold_lines(&tmp, data, len);
        if (!tmp.session) {
                lb_session_info_done(&tmp);
                return 0; /* no start record: nothing to list it by */
        }
        if (!lb_session_id_valid(tmp.session, strlen(tmp.session))) {
                lb_session_info_done(&tmp);
                is->malformed++;
                return 0;
        }
        info = info_for(is, tmp.session);
        if (!info) {
                lb_session_info_done(&tmp);
                return -ENOMEM;
        }
        lb_session_info_done(info);
        *info = tmp;
        return 0;
}

static int list_spool(const struct lb_source *s, struct infos *is) {
        for (size_t i = 0; s->paths[i]; i++) {
                struct stat st;
                DIR *d;
                struct dirent *de;
                int r = 0;

                if (stat(s->paths[i], &st) < 0)
                        return -errno;
                if (!S_ISDIR(st.st_mode)) {
                        r = list_spool_file(s->paths[i], is);
                        if (r < 0)
                                return r;
                        continue;
                }
                d = opendir(s->paths[i]);
                if (!d)
                        return -errno;
                while ((de = readdir(d))) {
                        size_t l = strlen(de->d_name);
                        _cleanup_free_ char *p = NULL;
                        if (l < 7 || !streq(de->d_name + l - 6, ".jsonl"))
                                continue;
                        p = lb_asprintf("%s/%s", s->paths[i], de->d_name);
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        r = list_spool_file(p, is);
                        if (r < 0 && r != -EACCES && r != -ENOENT)
                                break;
                        r = 0;
                }
                closedir(d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_info(const void *a, const void *b) {
        const struct lb_session_info *x = a, *y = b;
        if (x->start_s != y->start_s)
                return x->start_s < y->start_s ? -1 : 1;
        return strcmp(x->session, y->session);
}

int lb_source_list(const struct lb_source *s, struct lb_session_info **ret, size_t *ret_n,
                   struct lb_claims *ret_untrusted) {
        struct infos is = {};
        struct lb_claims untrusted = {};
        int r;

        if (s->type == LB_SOURCE_SPOOL)
                r = list_spool(s, &is);
        else if (s->type == LB_SOURCE_EXPORT)
                r = export_foreach(s, NULL, true, &untrusted, export_fold, &is);
        else
                r = list_journal(s, &is, &untrusted);
        if (r < 0) {
                lb_claims_done(&untrusted);
                for (size_t i = 0; i < is.n; i++)
                        lb_session_info_done(&is.v[i]);
                free(is.v);
                return r;
        }
        if (is.n > 1)
                qsort(is.v, is.n, sizeof(is.v[0]), cmp_info);
        *ret = is.v;
        *ret_n = is.n;
        untrusted.malformed = is.malformed;
        if (ret_untrusted)
                *ret_untrusted = untrusted;
        else
                lb_claims_done(&untrusted);
        return 0;
}

static bool in_group(const char *name) {
        struct group *g = getgrnam(name);
        gid_t groups[256];
        int n;

        if (!g)
                return false;
        if (getegid() == g->gr_gid)
                return true;
        n = getgroups(ELEMENTSOF(groups), groups);
        for (int i = 0; i < n; i++)
                if (groups[i] == g->gr_gid)
                        return true;
        return false;
}

const char *lb_source_hint(const struct lb_source *s) {
        if (s->type != LB_SOURCE_JOURNAL || geteuid() == 0)
                return NULL;
        if (in_group("systemd-journal") || in_group("adm"))
                return NULL;
        return "the system journal is not readable for you: are you in the systemd-journal group?";
}
