/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* doctor-deny MODE PROGRAM [ARGS...]: run PROGRAM under a seccomp filter that
 * refuses what a container's profile refuses (Docker's default profile does
 * both), so doctor-checks.sh can show the checks that must FAIL then:
 *   pidns    clone3 -> ENOSYS (as glibc expects), clone and unshare with
 *            CLONE_NEWPID -> EPERM
 *   seccomp  seccomp(2) and prctl(PR_SET_SECCOMP) -> EINVAL (no filters) */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
        scmp_filter_ctx ctx;
        int k = 0;

        if (argc < 3) {
                fprintf(stderr, "usage: doctor-deny pidns|seccomp PROGRAM [ARGS...]\n");
                return 2;
        }
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return 2;
        k = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (strcmp(argv[1], "pidns") == 0) {
                if (k == 0)
                        k = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
                if (k == 0)
                        k = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWPID, CLONE_NEWPID));
                if (k == 0)
                        k = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWPID, CLONE_NEWPID));
        } else if (strcmp(argv[1], "seccomp") == 0) {
                if (k == 0)
                        k = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(seccomp), 0);
                if (k == 0)
                        k = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(prctl), 1,
                                             SCMP_A0(SCMP_CMP_EQ, PR_SET_SECCOMP));
        } else
                k = -EINVAL;
        if (k == 0)
                k = seccomp_load(ctx);
        seccomp_release(ctx);
        if (k < 0) {
                fprintf(stderr, "doctor-deny: %s\n", strerror(-k));
                return 2;
        }
        execv(argv[2], argv + 2);
        perror("doctor-deny: exec");
        return 127;
}
