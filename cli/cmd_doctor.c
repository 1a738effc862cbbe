/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockboxctl doctor: placeholder until its implementation lands. */
#include "config.h"

#include "ctl.h"

int lb_cmd_doctor(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("doctor: not yet available");
}
