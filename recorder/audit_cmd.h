/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Commands from the kernel's audit records. Pure: record text in, commands
 * out. An event's records (SYSCALL, EXECVE, CWD, PATH, PROCTITLE) share the
 * serial in "audit(SEC.MS:SERIAL): "; EOE ends it. Only exec events (those
 * with an EXECVE record and success=yes) of the wanted audit session become
 * commands. Strings are exact bytes: hex-encoded values are decoded. */

#define LB_AUDIT_SYSCALL 1300
#define LB_AUDIT_PATH 1302
#define LB_AUDIT_CWD 1307
#define LB_AUDIT_EXECVE 1309
#define LB_AUDIT_EOE 1320
#define LB_AUDIT_PROCTITLE 1327

struct lb_cmd {
        uint64_t serial;
        uint32_t ses;
        int64_t pid, ppid, uid;
        char *exe;             /* NUL-terminated (may not hold NUL) */
        char *cwd;
        char **argv;           /* argc entries, each argv_len[i] bytes + NUL */
        size_t *argv_len;
        size_t argc;
        char *source;          /* "audit" or "proc" (static) */
        /* the executed file as the kernel named it (audit PATH item 0) */
        bool has_inode;
        uint64_t inode;
        unsigned dev_major, dev_minor;
};
void lb_cmd_free(struct lb_cmd *c);

struct lb_audit_parser;
/* ses: the audit session to keep (others are dropped early). */
int lb_audit_parser_new(uint32_t ses, struct lb_audit_parser **ret);
void lb_audit_parser_free(struct lb_audit_parser *p);
/* Feed one record (netlink message type and payload). On EOE of a wanted exec,
 * *ret_cmd gets the command (caller frees) and 1 is returned; 0 otherwise.
 * -EBADMSG for text that is not an audit record. */
int lb_audit_parser_feed(struct lb_audit_parser *p, int type, const char *text, size_t len,
                         struct lb_cmd **ret_cmd);
/* Events that were dropped because too many were open at once. */
uint64_t lb_audit_parser_overflows(struct lb_audit_parser *p);

/* The serial of a record ("audit(SEC.MS:SERIAL): ..."), and where its body
 * starts. -EBADMSG if text has no such header. */
int lb_audit_serial(const char *text, size_t len, uint64_t *ret, size_t *ret_body);

/* Value of field `key` in an audit record's text, decoded: "quoted" as is,
 * unquoted hex as bytes, anything else as is. -ENOENT if absent. */
int lb_audit_field(const char *text, size_t len, const char *key, char **ret,
                   size_t *ret_len);

/* What ran, judged by what the kernel executed (not by the command's text):
 * whether c is an sftp server: its executable is named sftp-server, or is the
 * same file (device and inode) as one of known (NULL-terminated): by the
 * inode the kernel's record names, else by the path (relative names taken
 * from c's working directory). A renamed copy of the binary
 * is not found here: lb_sftp_init_seen() looks at what is said to it. */
extern const char *const lb_sftp_server_paths[];
bool lb_cmd_is_sftp_server(const struct lb_cmd *c, const char *const *known);
/* Whether the first bytes of a command's stdin are an sftp client's first
 * packet (SSH_FXP_INIT). */
bool lb_sftp_init_seen(const void *p, size_t n);
