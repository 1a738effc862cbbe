/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl doctor: PAM stack and sshd configuration readers (no network). */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <glob.h>
#include <strings.h>

#include "doctor.h"
#include "util.h"

#define PAM_MAX_DEPTH 8
#define SSHD_MAX_DEPTH 16
#define CONF_MAX_SIZE (1024 * 1024)

static char *rooted(const char *root, const char *path) {
        return lb_asprintf("%s%s", root ? root : "", path);
}

/* Split a line into whitespace-separated words; a PAM control in [...] stays
 * one word. Comments (#) end the line. */
static char **words(const char *line) {
        char **v = NULL;
        size_t n = 0;
        const char *p = line;

        for (;;) {
                const char *start;
                char *w, **nv;

                while (*p && isspace((unsigned char) *p))
                        p++;
                if (!*p || *p == '#')
                        break;
                start = p;
                if (*p == '[') {
                        while (*p && *p != ']')
                                p++;
                        if (*p)
                                p++;
                } else
                        while (*p && !isspace((unsigned char) *p))
                                p++;
                w = strndup(start, p - start);
                nv = realloc(v, (n + 2) * sizeof(char *));
                if (!w || !nv) {
                        free(w);
                        if (nv)
                                v = nv;
                        if (v)
                                v[n] = NULL;
                        lb_strv_free(v);
                        return NULL;
                }
                v = nv;
                v[n++] = w;
                v[n] = NULL;
        }
        if (!v) {
                v = calloc(1, sizeof(char *));
        }
        return v;
}

void lb_pam_stack_done(struct lb_pam_stack *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->lines[i].control);
                free(s->lines[i].module);
                free(s->lines[i].args);
                free(s->lines[i].file);
        }
        free(s->lines);
        s->lines = NULL;
        s->n = 0;
}

static int pam_add(struct lb_pam_stack *s, const char *control, const char *module,
                   char *const *args, const char *file, unsigned line, bool substack) {
        struct lb_pam_line *nl = realloc(s->lines, (s->n + 1) * sizeof(*nl));
        size_t alen = 1;
        char *joined;

        if (!nl)
                return -ENOMEM;
        for (size_t k = 0; args[k]; k++)
                alen += strlen(args[k]) + 1;
        joined = calloc(1, alen);
        if (!joined)
                return -ENOMEM;
        for (size_t k = 0; args[k]; k++) {
                if (k > 0)
                        strcat(joined, " ");
                strcat(joined, args[k]);
        }
        s->lines = nl;
        nl = &s->lines[s->n];
        *nl = (struct lb_pam_line) {
                .control = strdup(control),
                .module = strdup(module),
                .args = joined,
                .file = strdup(file),
                .line = line,
                .substack = substack,
        };
        s->n++;
        if (!nl->control || !nl->module || !nl->file || !nl->args)
                return -ENOMEM;
        return 0;
}

static int pam_load_file(const char *root, const char *service, const char *type,
                         struct lb_pam_stack *s, bool substack, unsigned depth, char **ret_error) {
        _cleanup_free_ char *rel = NULL, *path = NULL, *text = NULL;
        size_t len;
        unsigned lineno = 0;
        char *save = NULL, *line;
        int r;

        if (depth > PAM_MAX_DEPTH) {
                *ret_error = lb_asprintf("includes nested deeper than %d", PAM_MAX_DEPTH);
                return -ELOOP;
        }
        if (strchr(service, '/'))
                rel = strdup(service);
        else
                rel = lb_asprintf("/etc/pam.d/%s", service);
        path = rooted(root, rel ? rel : "");
        if (!rel || !path)
                return -ENOMEM;
        r = lb_read_file(path, CONF_MAX_SIZE, &text, &len);
        if (r < 0) {
                *ret_error = strdup(rel);
                return r;
        }
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_(lb_strv_freep) char **w = NULL;
                const char *t;

                lineno++;
                w = words(line);
                if (!w)
                        return -ENOMEM;
                if (!w[0])
                        continue;
                if (streq(w[0], "@include")) {
                        if (!w[1])
                                continue;
                        r = pam_load_file(root, w[1], type, s, substack, depth + 1, ret_error);
                        if (r < 0)
                                return r;
                        continue;
                }
                t = w[0][0] == '-' ? w[0] + 1 : w[0];
                if (strcasecmp(t, type) != 0 || !w[1] || !w[2])
                        continue;
                if (streq(w[1], "include") || streq(w[1], "substack")) {
                        r = pam_load_file(root, w[2], type, s,
                                          substack || streq(w[1], "substack"), depth + 1, ret_error);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = pam_add(s, w[1], w[2], w + 3, rel, lineno, substack);
                if (r < 0)
                        return r;
        }
        return 0;
}

int lb_pam_stack_load(const char *root, const char *service, const char *type,
                      struct lb_pam_stack *ret, char **ret_error) {
        struct lb_pam_stack s = {};
        int r;

        *ret_error = NULL;
        r = pam_load_file(root, service, type, &s, false, 0, ret_error);
        if (r < 0) {
                lb_pam_stack_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

long lb_pam_stack_find(const struct lb_pam_stack *s, const char *name) {
        for (size_t i = 0; i < s->n; i++) {
                const char *b = strrchr(s->lines[i].module, '/');

                if (streq(b ? b + 1 : s->lines[i].module, name))
                        return (long) i;
        }
        return -1;
}

bool lb_pam_line_has_arg(const struct lb_pam_line *l, const char *arg) {
        size_t n = strlen(arg);

        for (const char *p = l->args; p && *p;) {
                size_t k = strcspn(p, " ");

                if (k == n && strneq(p, arg, n))
                        return true;
                p += k;
                p += strspn(p, " ");
        }
        return false;
}

/* 1 when `user` is a line of the file, 0 not, -ENOENT no file. */
static int listed_in(const char *root, const char *path, const char *user) {
        _cleanup_free_ char *full = rooted(root, path), *text = NULL;
        char *save = NULL, *line;
        size_t len;
        int r;

        if (!full)
                return -ENOMEM;
        r = lb_read_file(full, CONF_MAX_SIZE, &text, &len);
        if (r < 0)
                return r;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *e = line + strlen(line);

                while (*line == ' ' || *line == '\t')
                        line++;
                while (e > line && isspace((unsigned char) e[-1]))
                        *--e = 0;
                if (streq(line, user))
                        return 1;
        }
        return 0;
}

int lb_allow_deny_refuses(const char *root, const char *allow, const char *deny, bool neither_allows,
                          const char *user) {
        int r;

        r = listed_in(root, allow, user);
        if (r >= 0)
                return r == 0;
        if (r != -ENOENT)
                return r;
        r = listed_in(root, deny, user);
        if (r >= 0)
                return r == 1;
        if (r != -ENOENT)
                return r;
        return !neither_allows;
}

/* In a [value=action ...] control, the action for `value` (NULL if none). */
static char *bracket_action(const char *control, const char *value) {
        _cleanup_free_ char *inner = NULL;
        char *save = NULL, *tok;
        size_t vl = strlen(value);

        if (control[0] != '[')
                return NULL;
        inner = strndup(control + 1, strcspn(control + 1, "]"));
        if (!inner)
                return NULL;
        for (tok = strtok_r(inner, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
                if (strneq(tok, value, vl) && tok[vl] == '=')
                        return strdup(tok + vl + 1);
        return NULL;
}

char *lb_pam_stack_skips(const struct lb_pam_stack *s, size_t i) {
        for (size_t j = 0; j < i && j < s->n; j++) {
                const struct lb_pam_line *l = &s->lines[j];
                _cleanup_free_ char *act = NULL;

                if (l->substack)
                        continue;  /* its "done" and jumps end the substack only */
                if (streq(l->control, "sufficient"))
                        return lb_asprintf("'sufficient' %s (%s:%u) ends the stack before it when it succeeds",
                                           l->module, l->file, l->line);
                act = bracket_action(l->control, "success");
                if (!act)
                        continue;
                if (streq(act, "done"))
                        return lb_asprintf("'success=done' on %s (%s:%u) ends the stack before it",
                                           l->module, l->file, l->line);
                if (isdigit((unsigned char) act[0])) {
                        int n;

                        if (lb_parse_int(act, 0, 1000, &n) >= 0 && j + (size_t) n >= i)
                                return lb_asprintf("'success=%d' on %s (%s:%u) jumps over it",
                                                   n, l->module, l->file, l->line);
                }
        }
        return NULL;
}

/* ---- sshd ------------------------------------------------------------------ */

void lb_sshd_settings_done(struct lb_sshd_settings *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->keys[i]);
                free(s->values[i]);
        }
        free(s->keys);
        free(s->values);
        s->keys = s->values = NULL;
        s->n = 0;
}

const char *lb_sshd_settings_get(const struct lb_sshd_settings *s, const char *key) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->keys[i], key))
                        return s->values[i];
        return NULL;
}

/* First value wins, as in sshd. */
static int settings_add(struct lb_sshd_settings *s, const char *key, const char *value) {
        char **nk, **nv;
        char *k, *v;

        if (lb_sshd_settings_get(s, key))
                return 0;
        k = strdup(key);
        v = strdup(value);
        if (!k || !v) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        for (char *p = k; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        nk = realloc(s->keys, (s->n + 1) * sizeof(char *));
        if (nk)
                s->keys = nk;
        nv = realloc(s->values, (s->n + 1) * sizeof(char *));
        if (nv)
                s->values = nv;
        if (!nk || !nv) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        s->keys[s->n] = k;
        s->values[s->n] = v;
        s->n++;
        return 0;
}

static char *trim(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

int lb_sshd_settings_parse_T(const char *text, struct lb_sshd_settings *ret) {
        struct lb_sshd_settings s = {};
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL, *line;

        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *k = trim(line), *v;
                int r;

                if (!*k)
                        continue;
                v = k + strcspn(k, " \t");
                if (*v)
                        *v++ = 0;
                r = settings_add(&s, k, trim(v));
                if (r < 0) {
                        lb_sshd_settings_done(&s);
                        return r;
                }
        }
        *ret = s;
        return 0;
}

/* Does a comma-separated sshd pattern list name `name` (exactly or by a
 * trailing-'*' pattern)? Negations make it not match. */
static bool list_matches(const char *list, const char *name) {
        _cleanup_free_ char *copy = NULL;
        char *save = NULL, *tok;
        bool hit = false;

        if (!name)
                return false;
        copy = strdup(list);
        if (!copy)
                return false;
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                size_t l = strlen(tok);

                if (tok[0] == '!') {
                        if (streq(tok + 1, name))
                                return false;
                        continue;
                }
                if (streq(tok, name) || streq(tok, "*") ||
                    (l > 1 && tok[l - 1] == '*' && strneq(tok, name, l - 1)))
                        hit = true;
        }
        return hit;
}

static bool match_applies(char **w, const char *user, const char *group) {
        bool any = false;

        for (size_t i = 1; w[i]; i++) {
                if (strcasecmp(w[i], "all") == 0)
                        return true;
                if (!w[i + 1])
                        return false;
                if (strcasecmp(w[i], "user") == 0) {
                        if (!list_matches(w[i + 1], user))
                                return false;
                        any = true;
                } else if (strcasecmp(w[i], "group") == 0) {
                        if (!list_matches(w[i + 1], group))
                                return false;
                        any = true;
                } else
                        /* Host/Address/LocalPort...: an operator can come from anywhere */
                        return false;
                i++;
        }
        return any;
}

static int sshd_load_file(const char *root, const char *path, const char *user,
                          const char *group, struct lb_sshd_settings *s, bool *in_match,
                          bool *applies, unsigned depth, char **ret_error) {
        _cleanup_free_ char *full = NULL, *text = NULL;
        char *save = NULL, *line;
        size_t len;
        int r;

        if (depth > SSHD_MAX_DEPTH) {
                *ret_error = lb_asprintf("Include nested deeper than %d", SSHD_MAX_DEPTH);
                return -ELOOP;
        }
        full = rooted(root, path);
        if (!full)
                return -ENOMEM;
        r = lb_read_file(full, CONF_MAX_SIZE, &text, &len);
        if (r < 0) {
                *ret_error = strdup(path);
                return r;
        }
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_(lb_strv_freep) char **w = NULL;
                _cleanup_free_ char *value = NULL;
                char *p, *eq;

                /* "Keyword=value" is the same as "Keyword value" */
                p = trim(line);
                eq = p + strcspn(p, " \t=");
                if (*eq == '=')
                        *eq = ' ';
                w = words(p);
                if (!w)
                        return -ENOMEM;
                if (!w[0])
                        continue;
                if (strcasecmp(w[0], "match") == 0) {
                        *in_match = true;
                        *applies = match_applies(w, user, group);
                        continue;
                }
                if (strcasecmp(w[0], "include") == 0) {
                        for (size_t i = 1; w[i]; i++) {
                                _cleanup_free_ char *pat = NULL;
                                glob_t g = {};

                                if (w[i][0] == '/')
                                        pat = rooted(root, w[i]);
                                else
                                        pat = lb_asprintf("%s/etc/ssh/%s", root ? root : "", w[i]);
                                if (!pat)
                                        return -ENOMEM;
                                if (glob(pat, 0, NULL, &g) != 0)
                                        continue;
                                for (size_t k = 0; k < g.gl_pathc; k++) {
                                        const char *rel = g.gl_pathv[k] + (root ? strlen(root) : 0);
                                        /* a Match in an included file ends with that file */
                                        bool sub_in_match = *in_match, sub_applies = *applies;

                                        r = sshd_load_file(root, rel, user, group, s, &sub_in_match,
                                                           &sub_applies, depth + 1, ret_error);
                                        if (r < 0) {
                                                globfree(&g);
                                                return r;
                                        }
                                }
                                globfree(&g);
                        }
                        continue;
                }
                if (*in_match && !*applies)
                        continue;
                /* the value as written, quotes dropped */
                p = trim(p + strlen(w[0]));
                value = strdup(p);
                if (!value)
                        return -ENOMEM;
                {
                        char *o = value;
                        for (char *q = value; *q; q++)
                                if (*q != '"')
                                        *o++ = *q;
                        *o = 0;
                }
                r = settings_add(s, w[0], value);
                if (r < 0)
                        return r;
        }
        return 0;
}

int lb_sshd_settings_load(const char *root, const char *path, const char *user,
                          const char *group, struct lb_sshd_settings *ret, char **ret_error) {
        static const char *const defaults[][2] = {
                { "authorizedkeysfile", ".ssh/authorized_keys .ssh/authorized_keys2" },
                { "authorizedkeyscommand", "none" },
                { "authorizedkeyscommanduser", "none" },
                { "disableforwarding", "no" },
                { "permittunnel", "no" },
                { "permituserrc", "yes" },
                { "maxsessions", "10" },
                { "forcecommand", "none" },
                { "exposeauthinfo", "no" },
                { "usepam", "no" },
        };
        struct lb_sshd_settings s = {};
        bool in_match = false, applies = false;
        int r;

        *ret_error = NULL;
        r = sshd_load_file(root, path, user, group, &s, &in_match, &applies, 0, ret_error);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(defaults); i++)
                r = settings_add(&s, defaults[i][0], defaults[i][1]);
        if (r < 0) {
                lb_sshd_settings_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

/* ---- journald.conf ---------------------------------------------------------- */

/* The last Audit= of the [Journal] section in text (value trimmed) into
 * *value. 1 if text assigns it, 0 if not. */
static int journald_audit_in(const char *text, char **value) {
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL, *line;
        bool journal = false;
        int found = 0;

        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *l = trim(line), *eq;

                if (*l == '#' || *l == ';' || *l == 0)
                        continue;
                if (*l == '[') {
                        journal = streq(l, "[Journal]");
                        continue;
                }
                eq = strchr(l, '=');
                if (!journal || !eq)
                        continue;
                *eq = 0;
                if (!streq(trim(l), "Audit"))
                        continue;
                free(*value);
                *value = strdup(trim(eq + 1));
                if (!*value)
                        return -ENOMEM;
                found = 1;
        }
        return found;
}

struct dropin {
        char *name, *path;
};

static int cmp_dropin(const void *a, const void *b) {
        return strcmp(((const struct dropin *) a)->name, ((const struct dropin *) b)->name);
}

static int journald_apply(const char *root, const char *path, char **value, char **where) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        if (lb_read_file(path, 1024 * 1024, &text, &len) < 0)
                return 0;
        r = journald_audit_in(text, value);
        if (r > 0) {
                free(*where);
                *where = strdup(path + strlen(root));
                if (!*where)
                        return -ENOMEM;
        }
        return r < 0 ? r : 0;
}

int lb_journald_audit_setting(const char *root, char **ret, char **ret_where) {
        static const char *const dirs[] = { "/etc/systemd/journald.conf.d",
                                            "/run/systemd/journald.conf.d",
                                            "/usr/local/lib/systemd/journald.conf.d",
                                            "/usr/lib/systemd/journald.conf.d" };
        _cleanup_free_ char *value = NULL, *where = NULL, *main_conf = NULL;
        struct dropin *d = NULL;
        size_t n = 0;
        int r = 0;

        /* the drop-ins in effect: each name once, from the first directory */
        for (size_t i = 0; i < ELEMENTSOF(dirs) && r == 0; i++) {
                _cleanup_free_ char *dir = lb_asprintf("%s%s", root, dirs[i]);
                DIR *dp = dir ? opendir(dir) : NULL;
                struct dirent *de;

                if (!dir) {
                        r = -ENOMEM;
                        break;
                }
                while (dp && r == 0 && (de = readdir(dp))) {
                        size_t l = strlen(de->d_name);
                        bool seen = false;
                        struct dropin *nd;

                        if (l < 6 || !streq(de->d_name + l - 5, ".conf"))
                                continue;
                        for (size_t k = 0; k < n && !seen; k++)
                                seen = streq(d[k].name, de->d_name);
                        if (seen)
                                continue;
                        nd = realloc(d, (n + 1) * sizeof(*d));
                        if (!nd) {
                                r = -ENOMEM;
                                break;
                        }
                        d = nd;
                        d[n].name = strdup(de->d_name);
                        d[n].path = lb_asprintf("%s/%s", dir, de->d_name);
                        n++;
                        if (!d[n - 1].name || !d[n - 1].path)
                                r = -ENOMEM;
                }
                if (dp)
                        closedir(dp);
        }
        if (r == 0 && n > 0)
                qsort(d, n, sizeof(*d), cmp_dropin);
        if (r == 0) {
                main_conf = lb_asprintf("%s/etc/systemd/journald.conf", root);
                r = main_conf ? journald_apply(root, main_conf, &value, &where) : -ENOMEM;
        }
        for (size_t i = 0; i < n && r == 0; i++)
                r = journald_apply(root, d[i].path, &value, &where);
        for (size_t i = 0; i < n; i++) {
                free(d[i].name);
                free(d[i].path);
        }
        free(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(value);
        if (ret_where)
                *ret_where = TAKE_PTR(where);
        return 0;
}

/* ---- the recorder's needs ------------------------------------------------------ */

int lb_doctor_parse_sysctl_u64(const char *text, uint64_t *ret) {
        _cleanup_free_ char *copy = NULL;
        size_t n;

        if (!text)
                return -EINVAL;
        n = strlen(text);
        if (n > 0 && text[n - 1] == '\n')
                n--;
        if (n == 0 || n > 32)
                return -EINVAL;
        copy = strndup(text, n);
        if (!copy)
                return -ENOMEM;
        return lb_parse_u64(copy, UINT64_MAX, ret);
}

int lb_doctor_status_seccomp(const char *status, unsigned *ret_mode) {
        for (const char *p = status; p && *p;) {
                size_t len = strcspn(p, "\n");

                if (len > 8 && strneq(p, "Seccomp:", 8)) {
                        _cleanup_free_ char *v = strndup(p + 8, len - 8);
                        int mode;

                        if (!v)
                                return -ENOMEM;
                        if (lb_parse_int(trim(v), 0, 2, &mode) < 0)
                                return -EINVAL;
                        *ret_mode = (unsigned) mode;
                        return 0;
                }
                p += len;
                if (*p)
                        p++;
        }
        return -ENOENT;
}

char *lb_doctor_shell_problem(const char *shell, const struct stat *st, int stat_errno,
                              const char *recorder, const struct stat *rec_st) {
        if (isempty(shell))
                return strdup("no shell is set");
        if (shell[0] != '/')
                return lb_asprintf("%s is not an absolute path", shell);
        if (recorder && streq(shell, recorder))
                return lb_asprintf("%s is the recorder itself", shell);
        if (!st)
                return lb_asprintf("%s: %s", shell, strerror(stat_errno));
        if (!S_ISREG(st->st_mode))
                return lb_asprintf("%s is not a regular file", shell);
        if (rec_st && st->st_dev == rec_st->st_dev && st->st_ino == rec_st->st_ino)
                return lb_asprintf("%s is the recorder itself (the same file as %s)", shell, strna(recorder));
        if (!(st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
                return lb_asprintf("%s is not executable (mode %04o)", shell, (unsigned) (st->st_mode & 07777));
        return NULL;
}

char *lb_doctor_recorder_problem(const struct stat *st) {
        unsigned mode = (unsigned) (st->st_mode & 07777);

        if (!S_ISREG(st->st_mode))
                return strdup("is not a regular file");
        if (st->st_uid != 0)
                return lb_asprintf("is owned by uid %u, not root", (unsigned) st->st_uid);
        if (!(st->st_mode & S_ISUID))
                return lb_asprintf("is not setuid (mode %04o)", mode);
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return lb_asprintf("is writable by group or others (mode %04o)", mode);
        return NULL;
}

bool lb_doctor_socket_writable(const struct stat *st, uid_t uid, const gid_t *groups, size_t n_groups,
                               const char **ret_class) {
        const char *class = "others";
        bool w = st->st_mode & S_IWOTH;

        if (st->st_uid == uid) {
                class = "owner";
                w = st->st_mode & S_IWUSR;
        } else
                for (size_t i = 0; i < n_groups; i++)
                        if (groups[i] == st->st_gid) {
                                class = "group";
                                w = st->st_mode & S_IWGRP;
                                break;
                        }
        if (ret_class)
                *ret_class = class;
        return w;
}
