/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include <systemd/sd-journal.h>

#include "log.h"

static const char *log_ident = "lockbox";
static enum lb_log_target log_target = LB_LOG_STDERR;
static int log_max = LOG_INFO;

void lb_log_open(const char *ident, enum lb_log_target target) {
        log_ident = ident;
        log_target = target;
}

void lb_log_set_max_level(int level) {
        log_max = level;
}

static void emit(int priority, const char *msg) {
        if (log_target == LB_LOG_STDERR || log_target == LB_LOG_BOTH)
                fprintf(stderr, "%s: %s\n", log_ident, msg);
        if (log_target == LB_LOG_JOURNAL || log_target == LB_LOG_BOTH)
                sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", priority,
                                "SYSLOG_IDENTIFIER=%s", log_ident, NULL);
}

int lb_log(int priority, const char *fmt, ...) {
        char *msg = NULL;
        va_list ap;

        if (priority > log_max)
                return 0;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (msg)
                emit(priority, msg);
        free(msg);
        return 0;
}

int lb_log_errno(int error, int priority, const char *fmt, ...) {
        char *msg = NULL, *full = NULL;
        va_list ap;

        if (priority > log_max)
                return error;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (msg && asprintf(&full, "%s: %s", msg, strerror(error < 0 ? -error : error)) >= 0)
                emit(priority, full);
        free(msg);
        free(full);
        return error;
}
