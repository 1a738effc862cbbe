/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built module loads with RTLD_NOW (every symbol it needs resolves, as
 * libpam and sshd will require), has the hooks it documents, and hides
 * everything else (the statically linked common/ code). */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static int fails;

static void expect(int ok, const char *what) {
        printf("%s - %s\n", ok ? "ok" : "FAIL", what);
        if (!ok)
                fails++;
}

int main(void) {
        const char *top = getenv("top_builddir");
        char path[4096];
        void *dl;

        snprintf(path, sizeof(path), "%s/pam_lockbox/.libs/pam_lockbox.so", top ? top : ".");
        dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                printf("FAIL - dlopen(%s, RTLD_NOW): %s\n", path, dlerror());
                return 1;
        }
        expect(dl != NULL, "dlopen RTLD_NOW");
        expect(dlsym(dl, "pam_sm_acct_mgmt") != NULL, "pam_sm_acct_mgmt exported");
        expect(dlsym(dl, "pam_sm_open_session") != NULL, "pam_sm_open_session exported");
        expect(dlsym(dl, "pam_sm_close_session") != NULL, "pam_sm_close_session exported");
        /* not an auth module (see pam_lockbox.8): libpam must not find these */
        expect(dlsym(dl, "pam_sm_authenticate") == NULL, "no pam_sm_authenticate");
        expect(dlsym(dl, "pam_sm_chauthtok") == NULL, "no pam_sm_chauthtok");
        /* internal code stays internal */
        expect(dlsym(dl, "lb_host_conf_set") == NULL, "lb_host_conf_set hidden");
        expect(dlsym(dl, "lb_broker_access") == NULL, "lb_broker_access hidden");
        expect(dlsym(dl, "lb_pam_msg_granted") == NULL, "lb_pam_msg_granted hidden");
        dlclose(dl);
        return fails ? 1 : 0;
}
