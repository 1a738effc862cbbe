/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>

#include "record-journal-check.h"
#include "util.h"

int lb_seq_ranges_add(struct lb_seq_ranges *s, uint64_t first, uint64_t last) {
        if (first > last)
                return -EINVAL;
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                struct lb_seq_range *r = realloc(s->r, cap * sizeof(*r));
                if (!r)
                        return -ENOMEM;
                s->r = r;
                s->cap = cap;
        }
        s->r[s->n++] = (struct lb_seq_range) { first, last };
        return 0;
}

void lb_seq_ranges_clear(struct lb_seq_ranges *s) {
        s->n = 0;
}

void lb_seq_ranges_done(struct lb_seq_ranges *s) {
        free(s->r);
        *s = (struct lb_seq_ranges) {};
}

static int cmp_range(const void *a, const void *b) {
        const struct lb_seq_range *x = a, *y = b;
        return x->first < y->first ? -1 : x->first > y->first;
}

int lb_seq_ranges_next_gap(struct lb_seq_ranges *s, uint64_t from, uint64_t upto,
                           struct lb_seq_range *ret) {
        uint64_t next = from; /* lowest seq not yet known present */

        if (from > upto)
                return -ENOENT;
        if (s->n > 0)
                qsort(s->r, s->n, sizeof(*s->r), cmp_range);
        for (size_t i = 0; i < s->n; i++) {
                if (s->r[i].last < next)
                        continue;
                if (s->r[i].first > next) {
                        *ret = (struct lb_seq_range) { next, MIN(s->r[i].first - 1, upto) };
                        return 0;
                }
                if (s->r[i].last >= upto)
                        return -ENOENT;
                next = s->r[i].last + 1;
        }
        if (next > upto)
                return -ENOENT;
        *ret = (struct lb_seq_range) { next, upto };
        return 0;
}

struct lb_journal_reader {
        sd_journal *j;
        char *m_session, *m_uid;
};

void lb_journal_reader_free(void *reader) {
        struct lb_journal_reader *r = reader;

        if (!r)
                return;
        sd_journal_close(r->j);
        free(r->m_session);
        free(r->m_uid);
        free(r);
}

int lb_journal_reader_open(const char *session, uid_t uid, struct lb_journal_reader **ret) {
        struct lb_journal_reader *r = calloc(1, sizeof(*r));
        int k;

        if (!r)
                return -ENOMEM;
        r->m_session = lb_asprintf("LOCKBOX_SESSION=%s", session);
        r->m_uid = lb_asprintf("_UID=%u", (unsigned) uid);
        if (!r->m_session || !r->m_uid) {
                lb_journal_reader_free(r);
                return -ENOMEM;
        }
        k = sd_journal_open(&r->j, SD_JOURNAL_LOCAL_ONLY);
        if (k < 0) {
                r->j = NULL;
                lb_journal_reader_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

static int field_u64(sd_journal *j, const char *field, uint64_t *ret) {
        const void *d;
        size_t l, fl = strlen(field);
        char num[24];
        int k = sd_journal_get_data(j, field, &d, &l);

        if (k < 0)
                return k;
        if (l <= fl + 1 || l - fl - 1 >= sizeof(num))
                return -EBADMSG;
        memcpy(num, (const char *) d + fl + 1, l - fl - 1);
        num[l - fl - 1] = 0;
        return lb_parse_u64(num, UINT64_MAX, ret);
}

int lb_journal_reader_read(void *reader, struct lb_seq_ranges *ret) {
        struct lb_journal_reader *r = reader;
        int k;

        lb_seq_ranges_clear(ret);
        (void) sd_journal_process(r->j); /* pick up new and rotated files */
        sd_journal_flush_matches(r->j);
        k = sd_journal_add_match(r->j, r->m_session, 0);
        if (k >= 0)
                k = sd_journal_add_match(r->j, r->m_uid, 0);
        if (k < 0)
                return k;
        k = sd_journal_seek_head(r->j);
        if (k < 0)
                return k;
        for (;;) {
                uint64_t first, last;

                k = sd_journal_next(r->j);
                if (k < 0)
                        return k;
                if (k == 0)
                        break;
                if (field_u64(r->j, "LOCKBOX_SEQ_FIRST", &first) < 0 ||
                    field_u64(r->j, "LOCKBOX_SEQ_LAST", &last) < 0 || first > last)
                        continue; /* not ours to judge: verify reports it */
                k = lb_seq_ranges_add(ret, first, last);
                if (k < 0)
                        return k;
        }
        return ret->n > 0 ? 0 : -ENODATA;
}
