/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl connect: placeholder until its implementation lands. */
#include "config.h"

#include "ctl.h"

int lb_cmd_connect(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("connect: not yet available");
}
