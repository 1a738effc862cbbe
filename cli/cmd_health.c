/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl health: is the broker up, can it read its store. */
#include "config.h"

#include "ctl.h"
#include "display.h"

int lb_cmd_health(struct lb_ctl *ctl, int argc, char **argv) {
        json_auto_t *j = NULL;
        _cleanup_free_ char *status = NULL, *store = NULL, *version = NULL;
        int r;

        if (argc > 1) {
                if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                        puts("Usage: lockboxctl health\n\nAsks the broker whether it is up and can read its store.");
                        return LB_EXIT_OK;
                }
                return lb_ctl_usage_error("health", "takes no arguments");
        }
        r = lb_ctl_call(ctl, "health", "GET", "/v1/health", NULL, &j);
        if (r != 0)
                return r;
        if (ctl->json)
                return lb_ctl_print_json(j);
        status = lb_ctl_safe(json_string_value(json_object_get(j, "status")));
        store = lb_ctl_safe(json_string_value(json_object_get(j, "store")));
        version = lb_ctl_safe(json_string_value(json_object_get(j, "version")));
        if (!status || !store || !version)
                return lb_ctl_error("health: out of memory");
        printf("broker %s, store %s, version %s\n", status, store, version);
        return streq(status, "ok") && streq(store, "ok") ? LB_EXIT_OK : LB_EXIT_FAILURE;
}
