/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <grp.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "record-priv.h"
#include "util.h"

int lb_rec_drop_to_operator(const char *name, uid_t uid, gid_t gid) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        cap_t caps;

        if (initgroups(name, gid) < 0)
                return -errno;
        if (setresgid(gid, gid, gid) < 0)
                return -errno;
        if (setresuid(uid, uid, uid) < 0)
                return -errno;
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return -errno;
        if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
                return -EPERM;
        if (uid != 0 && (setresuid(0, 0, 0) == 0 || setegid(0) == 0))
                return -EPERM;
        /* no capability left in any set */
        caps = cap_init();
        if (!caps)
                return -ENOMEM;
        if (cap_set_proc(caps) < 0) {
                cap_free(caps);
                return -errno;
        }
        cap_free(caps);
        return 0;
}

int lb_rec_drop_to_service(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups) {
        static const cap_value_t keep[] = { CAP_AUDIT_WRITE, CAP_AUDIT_READ, CAP_KILL };
        uid_t ru, eu, su;
        cap_t caps;
        int r = 0;

        /* drop the bounding set too so an exec could never get more */
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                bool kept = false;
                for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                        kept = kept || keep[i] == c;
                if (!kept)
                        (void) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
        }
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return -errno;
        if (setgroups(n_groups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
            setresuid(uid, uid, uid) < 0)
                return -errno;
        if (getresuid(&ru, &eu, &su) < 0)
                return -errno;
        if (ru != uid || eu != uid || su != uid)
                return -EPERM;
        caps = cap_init();
        if (!caps)
                return -ENOMEM;
        if (cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_proc(caps) < 0)
                r = -errno;
        cap_free(caps);
        if (r < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return -errno;
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

int lb_rec_keep_audit_write_only(void) {
        static const cap_value_t keep[] = { CAP_AUDIT_WRITE };
        cap_t caps = cap_init();
        int r = 0;

        if (!caps)
                return -ENOMEM;
        if (cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_proc(caps) < 0)
                r = -errno;
        cap_free(caps);
        return r;
}
