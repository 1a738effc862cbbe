/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include "record-confine.h"

/* The kernel takes an ioctl's request as a 32-bit unsigned int: a request
 * with high bits set is the same request. Compare the low 32 bits only. */
static int deny_ioctl(scmp_filter_ctx ctx, unsigned long request) {
        return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, request));
}

int lb_rec_confine_terminal_injection(void) {
        scmp_filter_ctx ctx;
        int k;

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        /* 32-bit programs run by the operator get the same rules; without
         * them they would be killed by the default bad-arch action */
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                k = seccomp_arch_add(ctx, SCMP_ARCH_X86);
                if (k < 0 && k != -EEXIST)
                        goto out;
                k = seccomp_arch_add(ctx, SCMP_ARCH_X32);
                if (k < 0 && k != -EEXIST)
                        goto out;
        }
        k = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (k < 0)
                goto out;
        k = deny_ioctl(ctx, TIOCSTI);
        if (k < 0)
                goto out;
        k = deny_ioctl(ctx, TIOCLINUX);
        if (k < 0)
                goto out;
        k = seccomp_load(ctx);
out:
        seccomp_release(ctx);
        return k < 0 ? k : 0;
}
