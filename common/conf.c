/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>

#include "conf.h"
#include "util.h"

#define LB_CONF_MAX_FILE (1024 * 1024)
#define LB_CONF_MAX_VALUE 4096

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = '\0';
        return s;
}

int lb_conf_parse_line(const char *line, char **ret_key, char **ret_value) {
        _cleanup_free_ char *copy = strdup(line);
        char *s, *eq, *k, *v;
        size_t vl;

        if (!copy)
                return -ENOMEM;
        s = strip(copy);
        if (*s == '\0' || *s == '#' || *s == ';')
                return 0;
        eq = strchr(s, '=');
        if (!eq)
                return -EINVAL;
        *eq = '\0';
        k = strip(s);
        v = strip(eq + 1);
        if (*k == '\0')
                return -EINVAL;
        for (char *p = k; *p; p++)
                if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '_'))
                        return -EINVAL;
        vl = strlen(v);
        if (vl > LB_CONF_MAX_VALUE)
                return -E2BIG;
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                v[vl - 1] = '\0';
                v++;
        }
        for (char *p = v; *p; p++)
                if ((unsigned char) *p < 0x20 && *p != '\t')
                        return -EINVAL;
        *ret_key = strdup(k);
        *ret_value = strdup(v);
        if (!*ret_key || !*ret_value) {
                free(*ret_key);
                free(*ret_value);
                return -ENOMEM;
        }
        return 1;
}

int lb_conf_load_file(const char *path, lb_conf_setter_t set, void *set_data,
                      lb_conf_report_t report, void *report_data) {
        _cleanup_free_ char *data = NULL;
        char *line;
        unsigned lineno = 0;
        int r, problems = 0;

        size_t len;

        r = lb_read_file(path, LB_CONF_MAX_FILE, &data, &len);
        if (r < 0)
                return r;
        if (strlen(data) != len) /* a NUL byte inside */
                return -EBADMSG;
        for (char *p = data; p; p = line) {
                char *nl = strchr(p, '\n');
                _cleanup_free_ char *k = NULL, *v = NULL;

                line = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                lineno++;
                r = lb_conf_parse_line(p, &k, &v);
                if (r == 0)
                        continue;
                if (r < 0) {
                        problems++;
                        if (report)
                                report(report_data, path, lineno, NULL, r);
                        continue;
                }
                r = set(set_data, k, v);
                if (r < 0) {
                        problems++;
                        if (report)
                                report(report_data, path, lineno, k, r);
                }
                if (!line || !*line)
                        break;
        }
        return problems;
}

void lb_host_conf_init(struct lb_host_conf *c) {
        *c = (struct lb_host_conf) {
                .broker = strdup("unix:" RUNSTATEDIR "/lockbox/lockboxd.sock"),
                .operator_group = strdup("lockbox-operators"),
                .ssh_services = lb_strv_split("sshd", ","),
                .timeout_ms = 5000,
                .recorder = strdup(LOCKBOX_LIBEXECDIR "/lockbox-record"),
                .shell = strdup("/bin/bash"),
                .spool_dir = strdup(LOCALSTATEDIR "/lib/lockbox/spool"),
                .state_dir = strdup(RUNSTATEDIR "/lockbox"),
                .record_user = strdup("lockbox-rec"),
                .no_key_login = strdup("deny"),
                .output_cap = 16u * 1024 * 1024,
        };
}

void lb_host_conf_done(struct lb_host_conf *c) {
        free(c->broker);
        free(c->token_file);
        free(c->ca_file);
        free(c->host_name);
        free(c->operator_group);
        lb_strv_free(c->operators);
        lb_strv_free(c->ssh_services);
        free(c->recorder);
        free(c->shell);
        free(c->spool_dir);
        free(c->state_dir);
        free(c->record_user);
        free(c->no_key_login);
        *c = (struct lb_host_conf) {};
}

static int set_str(char **field, const char *value) {
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        free(*field);
        *field = v;
        return 0;
}

static int set_opt_str(char **field, const char *value) {
        if (isempty(value)) {
                free(*field);
                *field = NULL;
                return 0;
        }
        return set_str(field, value);
}

int lb_host_conf_set(void *userdata, const char *key, const char *value) {
        struct lb_host_conf *c = userdata;
        uint64_t u;
        int r;

        if (streq(key, "broker")) {
                if (!strneq(value, "unix:/", 6) && !strneq(value, "https://", 8))
                        return -EINVAL;
                return set_str(&c->broker, value);
        }
        if (streq(key, "token_file"))
                return set_opt_str(&c->token_file, value);
        if (streq(key, "ca_file"))
                return set_opt_str(&c->ca_file, value);
        if (streq(key, "host_name")) {
                if (!isempty(value) && !lb_name_valid(value, 253))
                        return -EINVAL;
                return set_opt_str(&c->host_name, value);
        }
        if (streq(key, "operator_group"))
                return set_opt_str(&c->operator_group, value);
        if (streq(key, "operators")) {
                char **v = lb_strv_split(value, ", \t");
                if (!v)
                        return -ENOMEM;
                lb_strv_free(c->operators);
                c->operators = v;
                return 0;
        }
        if (streq(key, "ssh_services")) {
                /* PAM service names (files in /etc/pam.d): an empty list would
                 * leave managed accounts no way in at all, a '/' is no name */
                char **v = lb_strv_split(value, ", \t");
                if (!v)
                        return -ENOMEM;
                if (!v[0] || strpbrk(value, "/")) {
                        lb_strv_free(v);
                        return -EINVAL;
                }
                lb_strv_free(c->ssh_services);
                c->ssh_services = v;
                return 0;
        }
        if (streq(key, "timeout_ms")) {
                r = lb_parse_u64(value, 600000, &u);
                if (r < 0)
                        return r;
                if (u < 100)
                        return -ERANGE;
                c->timeout_ms = (unsigned) u;
                return 0;
        }
        if (streq(key, "recorder")) {
                if (value[0] != '/')
                        return -EINVAL;
                return set_str(&c->recorder, value);
        }
        if (streq(key, "shell")) {
                if (value[0] != '/')
                        return -EINVAL;
                return set_str(&c->shell, value);
        }
        if (streq(key, "spool_dir")) {
                if (value[0] != '/')
                        return -EINVAL;
                return set_str(&c->spool_dir, value);
        }
        if (streq(key, "state_dir")) {
                if (value[0] != '/')
                        return -EINVAL;
                return set_str(&c->state_dir, value);
        }
        if (streq(key, "record_user"))
                return set_str(&c->record_user, value);
        if (streq(key, "no_key_login")) {
                if (!streq(value, "deny"))
                        return -EINVAL;
                return set_str(&c->no_key_login, value);
        }
        if (streq(key, "allow_sftp")) {
                bool b;
                r = lb_parse_bool(value, &b);
                if (r < 0)
                        return r;
                c->allow_sftp = b;
                return 0;
        }
        if (streq(key, "output_cap")) {
                r = lb_parse_u64(value, UINT64_C(1) << 40, &u);
                if (r < 0)
                        return r;
                c->output_cap = u;
                return 0;
        }
        if (streq(key, "debug")) {
                bool b;
                r = lb_parse_bool(value, &b);
                if (r < 0)
                        return r;
                c->debug = b;
                return 0;
        }
        return -ENOENT;
}

int lb_host_conf_load(struct lb_host_conf *c, const char *path, bool required,
                      lb_conf_report_t report, void *userdata) {
        int r;

        r = lb_conf_load_file(path ? path : LB_HOST_CONF_PATH, lb_host_conf_set, c, report,
                              userdata);
        if (r == -ENOENT && !required && !path)
                return 0;
        return r;
}

int lb_host_conf_host_name(const struct lb_host_conf *c, char **ret) {
        char buf[256] = {};
        char *n;

        if (c->host_name)
                n = strdup(c->host_name);
        else {
                if (gethostname(buf, sizeof(buf) - 1) < 0)
                        return -errno;
                n = strdup(buf);
        }
        if (!n)
                return -ENOMEM;
        if (!lb_name_valid(n, 253)) {
                free(n);
                return -EINVAL;
        }
        *ret = n;
        return 0;
}

int lb_host_conf_is_managed(const struct lb_host_conf *c, const char *user) {
        if (isempty(user))
                return -EINVAL;
        if (lb_strv_contains(c->operators, user))
                return 1;
        if (isempty(c->operator_group))
                return 0;
        return lb_user_in_group(user, c->operator_group);
}
