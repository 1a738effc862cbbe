#!/bin/bash
# Nothing reaches the operator's shell as typed unless it went through the
# recorder, through a real sshd: a process of the session pushes a command
# line into its terminal's input queue with TIOCSTI (which never passes the
# recorder's pty master, so with echo off it would leave no trace). The
# recorder's seccomp filter refuses it (EPERM), and the line never runs.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup recinj
home=$(getent passwd lbxrvendor | cut -d: -f6)
install -o lbxrvendor -g lbxrvendor -m 0644 "$top_srcdir/tests/integration/record-inject.py" \
    "$home/inject.py"
rm -f "$home/record-inject.ran"

lbr_key
mapfile -t SSH < <(lbr_ssh_argv -tt)
steps='[["expect", "\\$ $", 20],
 ["send", "stty -echo; python3 ~/inject.py; stty echo\n"], ["expect", "sti-(ok|err [0-9]+)", 20],
 ["sleep", 2], ["send", "echo settled-$((6*7))\n"], ["expect", "settled-42", 20],
 ["send", "exit\n"], ["eof", 60]]'
python3 "$LBR_DRIVE" "$steps" "$LB_TMP/inject" -- "${SSH[@]}" || lb_fail "session: $(lbr_explain)"
shown=$(tr -d '\r' <"$LB_TMP/inject")
grep -q 'sti-err 1$' <<<"$shown" || lb_fail "TIOCSTI was not refused with EPERM: $(grep -a sti- <<<"$shown")"
[ ! -e "$home/record-inject.ran" ] || lb_fail "a line pushed with TIOCSTI ran in the session"
lb_pass "TIOCSTI from the session is refused (EPERM) and the pushed line never runs"
