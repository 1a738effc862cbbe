/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A forger for tests/integration/replay-trust.sh, preloaded (LD_PRELOAD) into
 * the recorder's own binary that a local user runs under no_new_privs: its
 * setuid bit is ignored, the preload is honoured, and journald records the
 * recorder as _EXE of what this sends. It sends each line of the file named
 * by LBX_FORGE (records as a spool holds them, written by replay-writer) as
 * one journal entry with the recorder's fields (docs/EVIDENCE.md §4), then
 * waits a little (journald reads _EXE from /proc) and exits before the
 * recorder's main runs. Built by the test with cc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

static const char *msgid(const char *kind) {
        if (!strcmp(kind, "start"))
                return "MESSAGE_ID=2fb1b94404e04226bd17aa5adfaa9a65";
        if (!strcmp(kind, "cmd"))
                return "MESSAGE_ID=d644840aff6f4e298f91556904be4955";
        if (!strcmp(kind, "end"))
                return "MESSAGE_ID=c76eb49925e541db92b0019982f1e195";
        if (!strcmp(kind, "note"))
                return "MESSAGE_ID=fa52885c31594338b07a7aedc5f2bef2";
        return "MESSAGE_ID=5c67643dd735480685e8055ae4b6ac81";
}

static void str_field(const char *line, const char *key, char *out, size_t n) {
        const char *p = strstr(line, key);
        size_t k = 0;

        out[0] = 0;
        if (!p)
                return;
        p += strlen(key);
        while (*p && *p != '"' && *p != ',' && *p != '}' && k + 1 < n)
                out[k++] = *p++;
        out[k] = 0;
}

__attribute__((constructor)) static void forge(void) {
        const char *path = getenv("LBX_FORGE");
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        FILE *f;
        int sent = 0;
        char session[128] = "";

        if (!path)
                return;
        f = fopen(path, "re");
        if (!f)
                _exit(2);
        while ((n = getline(&line, &cap, f)) > 0) {
                char kind[32], seq[32], ses[128];
                char f_kind[64], f_first[64], f_last[64], f_ses[160];
                char *rec = malloc((size_t) n + 32);
                struct iovec iov[8];
                int k;

                if (!rec)
                        _exit(3);
                str_field(line, "\"kind\":\"", kind, sizeof(kind));
                str_field(line, "\"seq\":", seq, sizeof(seq));
                /* the start record names the session; the others do not */
                str_field(line, "\"session\":\"", ses, sizeof(ses));
                if (ses[0])
                        memcpy(session, ses, sizeof(session));
                snprintf(f_kind, sizeof(f_kind), "LOCKBOX_KIND=%s",
                         strcmp(kind, "out") && strcmp(kind, "in") && strcmp(kind, "resize")
                                 ? kind : "io");
                snprintf(f_first, sizeof(f_first), "LOCKBOX_SEQ_FIRST=%s", seq);
                snprintf(f_last, sizeof(f_last), "LOCKBOX_SEQ_LAST=%s", seq);
                snprintf(f_ses, sizeof(f_ses), "LOCKBOX_SESSION=%s", session);
                memcpy(rec, "LOCKBOX_RECORDS=", 16);
                memcpy(rec + 16, line, (size_t) n);
                iov[0] = (struct iovec) { (void *) msgid(kind), strlen(msgid(kind)) };
                iov[1] = (struct iovec) { "MESSAGE=lockbox: forged", 23 };
                iov[2] = (struct iovec) { "SYSLOG_IDENTIFIER=lockbox-record", 32 };
                iov[3] = (struct iovec) { f_ses, strlen(f_ses) };
                iov[4] = (struct iovec) { f_kind, strlen(f_kind) };
                iov[5] = (struct iovec) { f_first, strlen(f_first) };
                iov[6] = (struct iovec) { f_last, strlen(f_last) };
                iov[7] = (struct iovec) { rec, 16 + (size_t) n };
                k = sd_journal_sendv(iov, 8);
                free(rec);
                if (k < 0)
                        _exit(4);
                sent++;
        }
        fclose(f);
        /* journald reads _EXE from /proc when it takes an entry: stay the
         * recorder's process until it has */
        sleep(3);
        _exit(sent > 0 ? 0 : 5);
}
