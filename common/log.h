/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

/* Program logging (not for library code, which returns errors instead).
 * LB_LOG_AUTO: stderr when it is a terminal or a pipe someone reads, journald
 * otherwise; LB_LOG_JOURNAL for helpers whose stderr is thrown away (sshd's
 * AuthorizedKeysCommand). Structured fields may follow the message as
 * "KEY=value" strings, terminated by NULL, with lb_log_fields(). */
enum lb_log_target { LB_LOG_STDERR, LB_LOG_JOURNAL, LB_LOG_BOTH };

void lb_log_open(const char *ident, enum lb_log_target target);
void lb_log_set_max_level(int level);
int lb_log(int priority, const char *fmt, ...) _printf_(2, 3);
/* Logs "fmt: strerror(-error)"; returns error so "return lb_log_errno(r, ...)" works. */
int lb_log_errno(int error, int priority, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) lb_log(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) lb_log(LOG_INFO, __VA_ARGS__)
#define log_notice(...) lb_log(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) lb_log(LOG_WARNING, __VA_ARGS__)
#define log_error(...) lb_log(LOG_ERR, __VA_ARGS__)
