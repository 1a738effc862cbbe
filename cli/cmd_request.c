/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ctl.h"

int lb_cmd_request(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("request: not yet available");
}

int lb_cmd_list(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("list: not yet available");
}

int lb_cmd_show(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("show: not yet available");
}

int lb_cmd_pending(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("pending: not yet available");
}

int lb_cmd_approve(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("approve: not yet available");
}

int lb_cmd_deny(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("deny: not yet available");
}

int lb_cmd_revoke(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("revoke: not yet available");
}

int lb_cmd_withdraw(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("withdraw: not yet available");
}

int lb_cmd_complete(struct lb_ctl *ctl, int argc, char **argv) {
        return lb_ctl_error("complete: not yet available");
}
