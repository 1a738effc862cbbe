/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Configuration (common/conf.c, broker/broker_conf.c): lockbox.conf, the PAM
 * module arguments (the same setter) and lockboxd.conf. The first byte picks
 * which; the rest is a file, or NUL-separated module arguments. Checks:
 *  - whatever loads leaves a usable configuration: a broker URL of unix:/ or
 *    https://, absolute paths, a timeout in range;
 *  - a lockboxd policy that passes lb_broker_conf_check() drives the
 *    lifecycle without overflow (UBSan) and with deadlines after now: a
 *    request created now expires later, an approved one ends later. */
#include "config.h"

#include "broker_conf.h"
#include "conf.h"
#include "fuzz.h"
#include "lifecycle.h"
#include "util.h"

#define NOW 1795341600

static void host_check(const struct lb_host_conf *c) {
        FUZZ_CHECK(c->broker && (strneq(c->broker, "unix:/", 6) || strneq(c->broker, "https://", 8)),
                   "broker is %s", strna(c->broker));
        FUZZ_CHECK(c->recorder && c->recorder[0] == '/', "recorder %s", strna(c->recorder));
        FUZZ_CHECK(c->spool_dir && c->spool_dir[0] == '/', "spool_dir %s", strna(c->spool_dir));
        FUZZ_CHECK(c->state_dir && c->state_dir[0] == '/', "state_dir %s", strna(c->state_dir));
        FUZZ_CHECK(c->timeout_ms >= 100 && c->timeout_ms <= 600000, "timeout_ms %u", c->timeout_ms);
        FUZZ_CHECK(!c->host_name || lb_name_valid(c->host_name, 253), "host_name %s", c->host_name);
        if (c->host_name) {
                _cleanup_free_ char *n = NULL;
                FUZZ_CHECK(lb_host_conf_host_name(c, &n) >= 0 && streq(n, c->host_name),
                           "host_name not used");
        }
}

static void host_file(const uint8_t *data, size_t size) {
        struct lb_host_conf c;
        char path[32];
        int fd = fuzz_memfile(data, size, path);

        lb_host_conf_init(&c);
        (void) lb_host_conf_load(&c, path, true, NULL, NULL);
        host_check(&c);
        lb_host_conf_done(&c);
        close(fd);
}

/* What pam_lockbox does with its arguments after the file: key=value through
 * the setter (config= and debug are its own). */
static void pam_args(const uint8_t *data, size_t size) {
        struct lb_host_conf c;

        lb_host_conf_init(&c);
        while (size > 0) {
                _cleanup_free_ char *arg = NULL, *key = NULL;
                fuzz_take(&data, &size, 0, &arg);
                char *eq = strchr(arg, '=');
                if (!eq || eq == arg || strneq(arg, "config=", 7) || streq(arg, "debug"))
                        continue;
                key = strndup(arg, (size_t) (eq - arg));
                (void) lb_host_conf_set(&c, key, eq + 1);
        }
        host_check(&c);
        lb_host_conf_done(&c);
}

static void broker_file(const uint8_t *data, size_t size) {
        struct lb_broker_conf c;
        _cleanup_free_ char *detail = NULL, *d2 = NULL;
        char path[32];
        int fd = fuzz_memfile(data, size, path);
        struct lb_request *r = NULL;
        char *hosts[] = { (char *) "web1", NULL };
        char *members[] = { (char *) "bob", (char *) "carol", (char *) "dave", NULL };

        lb_broker_conf_init(&c);
        (void) lb_conf_load_file(path, lb_broker_conf_set, &c, NULL, NULL);
        close(fd);
        if (lb_broker_conf_check(&c, &detail) < 0)
                goto out;

        const struct lb_policy *p = &c.policy;
        /* no upper bound on pending_ttl/max_duration: known, being fixed */
        if (fuzz_ignore_known("policy-overflow") &&
            (p->pending_ttl > INT32_MAX || p->max_duration > INT32_MAX))
                goto out;
        FUZZ_CHECK(p->min_duration <= p->default_duration && p->default_duration <= p->max_duration,
                   "durations out of order passed the check");
        /* the longest request the policy allows, approved by enough people */
        struct lb_create_input in = { .operator_ = "alice", .hosts = hosts, .user = "vendor",
                                      .reason = "fuzz", .ticket = "T-1",
                                      .duration_s = p->max_duration };
        if (lb_lc_create(p, &in, "r-000000000001", members, NOW, &r, &d2) < 0)
                goto out;
        FUZZ_CHECK(r->pending_expires_at > NOW,
                   "pending_ttl %llu makes a request expire at %lld, before it was made",
                   (unsigned long long) p->pending_ttl, (long long) r->pending_expires_at);
        (void) lb_lc_next_deadline(r);
        (void) lb_lc_effective_state(r, NOW + 1);
        for (char **m = members; *m && r->state == LB_STATE_PENDING; m++) {
                free(d2);
                d2 = NULL;
                (void) lb_lc_approve(r, *m, NULL, NOW + 1, &d2);
        }
        if (r->state == LB_STATE_APPROVED) {
                FUZZ_CHECK(r->not_after > NOW + 1,
                           "max_duration %llu makes an approved request end at %lld, before it began",
                           (unsigned long long) p->max_duration, (long long) r->not_after);
                FUZZ_CHECK(lb_lc_remaining(r, NOW + 1) > 0, "approved with no time left");
                (void) lb_lc_next_deadline(r);
                (void) lb_lc_expire(r, NOW + 2);
        }
out:
        lb_request_free(r);
        lb_broker_conf_done(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        switch (data[0] % 3) {
        case 0:
                host_file(data + 1, size - 1);
                break;
        case 1:
                pam_args(data + 1, size - 1);
                break;
        case 2:
                broker_file(data + 1, size - 1);
                break;
        }
        return 0;
}
