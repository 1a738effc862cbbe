#!/bin/bash
# Bypass suite, what runs before the recorder: sshd starts the forced command
# through the operator's login shell (`$SHELL -c lockbox-record`), after
# ~/.ssh/rc and with ~/.ssh/environment and the client's SetEnv variables.
# Whatever the operator controls there runs before anything is recorded.
#  1. ~/.bashrc (Debian's bash reads it when started by sshd, even for -c),
#     with the stock global sshd_config: every marker it makes must come
#     from a recorded exec; the hidden-shell variant must not run at all.
#  2. with a careless global sshd_config (PermitUserRC, PermitUserEnvironment,
#     AcceptEnv * allowed): ~/.ssh/rc, ~/.ssh/environment and SetEnv with
#     LD_PRELOAD, BASH_ENV, ENV must take no effect; LANG/LC_* sent by the
#     client must not disturb the evidence.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/bypass-lib.sh"
lbb_setup bpenv
lbb_markers_recorded() { # what glob: every marker matching must be recorded
    local what=$1 f n=0
    for f in $2; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        if lbb_ran_recorded "$f"; then
            lb_pass "$what: $(basename "$f") made by a recorded exec"
        else
            lbb_bad "$what: $(basename "$f") made, and no spool holds the exec that made it ($(cat "$f"))"
        fi
    done
    [ "$n" -gt 0 ] || lb_pass "$what: nothing ran"
}
lbb_no_markers() { # what glob
    local what=$1 f found=
    for f in $2; do [ -e "$f" ] && found="$found $(basename "$f")[$(cat "$f")]"; done
    if [ -n "$found" ]; then lbb_bad "$what: ran:$found"; else lb_pass "$what: took no effect"; fi
}
as_op() { install -o lbxrvendor -g lbxrvendor -m "${2:-0644}" /dev/stdin "$1"; }
# a marker names the process that made it and its parent
MK='p=$$; echo "$(cat /proc/$PPID/comm) -> $(cat /proc/$p/comm 2>/dev/null)" >'

# 1. ~/.bashrc, stock globals
printf '/usr/bin/touch %s/bashrc-$$\n' "$M" | as_op "$OPHOME/.bashrc"
lbr_key
OUT=$(lbb_ssh 127.0.0.1 'echo in-session' 2>/dev/null) || true
[ "$OUT" = in-session ] || lb_fail "~/.bashrc: the session did not run ($OUT)"
lbb_markers_recorded "~/.bashrc, ssh host cmd" "$M/bashrc-*"
rm -f "$M"/bashrc-*
# the same, but the rc file replaces what sshd was about to run
cat <<EOF | as_op "$OPHOME/.bashrc"
[ "\$SSH_ORIGINAL_COMMAND" = lbx-hidden ] && exec /bin/sh -c '$MK $M/hidden; echo hidden-shell-ran'
EOF
lbr_key
OUT=$(lbb_ssh 127.0.0.1 lbx-hidden 2>/dev/null) || true
if [ -e "$M/hidden" ] || [[ "$OUT" == *hidden-shell-ran* ]]; then
    if lbb_ran_recorded "$M/hidden"; then
        lb_pass "~/.bashrc exec: ran, recorded"
    else
        lbb_bad "~/.bashrc replaced the recorder: a shell ran unrecorded ($(cat "$M/hidden" 2>/dev/null); spool: $(lbb_spool "$R" || true))"
    fi
else
    lb_pass "~/.bashrc exec: did not run"
fi
rm -f "$OPHOME/.bashrc" "$M"/*

# 2. careless globals
lbb_hostile_globals
# ~/.ssh/rc
printf '%s %s/ssh-rc\n' "$MK" "$M" | as_op "$OPHOME/.ssh/rc"
lbr_key
OUT=$(lbb_ssh 127.0.0.1 'echo in-session' 2>/dev/null) || true
[ "$OUT" = in-session ] || lb_fail "~/.ssh/rc: the session did not run ($OUT)"
lbb_markers_recorded "~/.ssh/rc (PermitUserRC yes globally)" "$M/ssh-rc"
rm -f "$OPHOME/.ssh/rc"

# a library whose constructor leaves a marker in every process it is loaded in
cat >"$LB_TMP/pre.c" <<EOF
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void comm(int pid, char *c, size_t n) {
        char p[64];
        FILE *f;
        snprintf(p, sizeof(p), "/proc/%d/comm", pid);
        c[0] = 0;
        f = fopen(p, "r");
        if (f) { if (!fgets(c, (int) n, f)) c[0] = 0; fclose(f); }
        c[strcspn(c, "\\n")] = 0;
}
__attribute__((constructor)) static void lbx_mark(void) {
        char p[512], c[64], pc[64];
        const char *tag = getenv("LBX_TAG");
        FILE *f;
        comm(getpid(), c, sizeof(c));
        comm(getppid(), pc, sizeof(pc));
        snprintf(p, sizeof(p), "$M/%s-%d", tag ? tag : "preload", (int) getpid());
        f = fopen(p, "w");
        if (f) { fprintf(f, "%s -> %s", pc, c); fclose(f); }
}
EOF
cc -shared -fPIC -o "$LB_TMP/pre.so" "$LB_TMP/pre.c" || lb_fail "cannot build the preload library"
chmod 0755 "$LB_TMP/pre.so"
printf '%s %s/bash-env-$$\n' "$MK" "$M" | as_op "$OPHOME/benv"
printf '%s %s/sh-env-$$\n' "$MK" "$M" | as_op "$OPHOME/shenv"

# ~/.ssh/environment
cat <<EOF | as_op "$OPHOME/.ssh/environment" 0600
LD_PRELOAD=$LB_TMP/pre.so
LBX_TAG=envfile-preload
BASH_ENV=$OPHOME/benv
ENV=$OPHOME/shenv
EOF
lbr_key
OUT=$(lbb_ssh 127.0.0.1 'echo in-session; /bin/sh -i </dev/null' 2>/dev/null) || true
[ "$OUT" = in-session ] || lb_fail "~/.ssh/environment: the session did not run ($OUT)"
lbb_no_markers "~/.ssh/environment (PermitUserEnvironment yes globally): LD_PRELOAD, BASH_ENV, ENV" "$M/*"
rm -f "$OPHOME/.ssh/environment" "$M"/*

# SetEnv from the client (AcceptEnv * globally)
lbr_key
OUT=$(lbb_ssh -o "SetEnv=LD_PRELOAD=$LB_TMP/pre.so LBX_TAG=setenv-preload BASH_ENV=$OPHOME/benv ENV=$OPHOME/shenv" \
    127.0.0.1 'echo in-session; /bin/sh -i </dev/null' 2>/dev/null) || true
[ "$OUT" = in-session ] || lb_fail "SetEnv: the session did not run ($OUT)"
lbb_no_markers "SetEnv (AcceptEnv * globally): LD_PRELOAD, BASH_ENV, ENV" "$M/*"
rm -f "$M"/*

# LANG and LC_* (Debian's stock AcceptEnv LANG LC_*): odd values do not
# disturb the evidence (its numbers, its text)
lbr_key
OUT=$(lbb_ssh -o "SetEnv=LANG=de_DE.UTF-8 LC_ALL=tr_TR.UTF-8 LC_NUMERIC=de_DE.UTF-8 LANGUAGE=../../../../tmp" \
    127.0.0.1 "/usr/bin/touch $M/lang; echo lang-done" 2>/dev/null) || true
[ "$OUT" = lang-done ] || lb_fail "LANG session did not run: $OUT"
SPOOL=$(lbb_spool "$R")
if [ -n "$SPOOL" ] && python3 "$CHECK" spool "$SPOOL" >/dev/null && lbb_ran_recorded "$M/lang"; then
    lb_pass "LANG/LC_* from the client: the spool verifies and holds the command"
else
    lbb_bad "LANG/LC_* from the client disturbed the evidence ($SPOOL)"
fi

lbb_done
