/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ctl.h"

int lb_cmd_token(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("token: not yet available");
}
