/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sink.h"
#include "util.h"

static int memory_send(struct lb_sink *s, const struct lb_sink_entry *e) {
        struct lb_sink_memory *m = (struct lb_sink_memory *) s;
        struct lb_sink_entry *n, c = *e;

        if (m->fail_next > 0) {
                m->fail_next--;
                return -ENOTCONN;
        }
        if (m->drop_next > 0) {
                m->drop_next--;
                return 0;
        }
        n = realloc(m->entries, (m->n + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        m->entries = n;
        c.kind = strdup(e->kind);
        c.records = malloc(e->records_len + 1);
        c.argv_text = e->argv_text ? strdup(e->argv_text) : NULL;
        c.cwd = e->cwd ? strdup(e->cwd) : NULL;
        c.exe = e->exe ? strdup(e->exe) : NULL;
        if (!c.kind || !c.records)
                return -ENOMEM;
        memcpy((char *) c.records, e->records, e->records_len);
        ((char *) c.records)[e->records_len] = 0;
        m->entries[m->n++] = c;
        return 0;
}

static int memory_read_back(struct lb_sink *s, bool full, lb_sink_seen_fn seen,
                            void *userdata) {
        struct lb_sink_memory *m = (struct lb_sink_memory *) s;

        m->read_backs++;
        for (size_t i = full ? 0 : m->reported; i < m->n; i++)
                seen(userdata, m->entries[i].seq_first, m->entries[i].seq_last);
        m->reported = m->n;
        return 0;
}

static void memory_free(struct lb_sink *s) {
        struct lb_sink_memory *m = (struct lb_sink_memory *) s;
        for (size_t i = 0; i < m->n; i++) {
                free((char *) m->entries[i].kind);
                free((char *) m->entries[i].records);
                free((char *) m->entries[i].argv_text);
                free((char *) m->entries[i].cwd);
                free((char *) m->entries[i].exe);
        }
        free(m->entries);
        free(m);
}

int lb_sink_memory_new(struct lb_sink_memory **ret) {
        struct lb_sink_memory *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->sink = (struct lb_sink) { memory_send, memory_free, memory_read_back };
        *ret = m;
        return 0;
}
