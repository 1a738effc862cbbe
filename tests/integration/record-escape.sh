#!/bin/bash
# No process of a recorded session outlives it, through a real sshd: a process
# that ignores HUP and TERM and keeps forking, double-forking, setsid()ing and
# leaving its parent in a tight loop (so that a pass over /proc never finds it
# where it was) is gone after logout and after revocation (after expiry:
# record-deadline.sh). The recorder runs
# the operator's side as PID 1 of its own PID namespace: when that ends, the
# kernel ends every process in it.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup recesc
home=$(getent passwd lbxrvendor | cut -d: -f6)
lbr_escaper_install

start_escaper() { # tag steps-file transcript
    local tag=$1
    lbr_key
    mapfile -t SSH < <(lbr_ssh_argv -tt)
    steps=$(cat <<JSON
[["expect", "\\\\$ $", 20],
 ["send", "setsid python3 ~/escape.py $tag & sleep 1; echo started-\$?\n"], ["expect", "started-0", 20],
 ["mark", "$LB_TMP/$tag.pid"], ${2}
 ["eof", 60]]
JSON
)
    rm -f "$home/escape-$tag.beat"
    python3 "$LBR_DRIVE" "$steps" "$LB_TMP/$tag" -- "${SSH[@]}" &
    drive=$!
    lb_wait_for 300 test -s "$LB_TMP/$tag.pid" || lb_fail "$tag: session did not start: $(lbr_explain)"
    lb_wait_for 100 test -e "$home/escape-$tag.beat" || lb_fail "$tag: the escaper did not start"
    lbr_escaper_alive "$tag" || lb_fail "$tag: the escaper is not running"
}

# 1. logout
start_escaper lbxesc-logout '["sleep", 4], ["send", "exit\n"],'
wait "$drive" || lb_fail "logout session: $(tail -c 1000 "$LB_TMP/lbxesc-logout")"
sleep 3 # the old end of session: one HUP/TERM/KILL round, 2 s grace
lbr_escaper_gone lbxesc-logout || lb_fail "a forking, setsid, re-parenting process survived logout"
lb_pass "logout: the forking, setsid()ing, re-parenting escaper is gone"

# 2. revocation
start_escaper lbxesc-revoke ''
lb_req_revoke lbxrappr "$R"
wait "$drive" || true
[ -f "$LB_TMP/lbxesc-revoke.eof" ] || lb_fail "revoked session did not end: $(tail -c 1000 "$LB_TMP/lbxesc-revoke")"
sleep 3
lbr_escaper_gone lbxesc-revoke || lb_fail "a forking, setsid, re-parenting process survived revocation"
lb_pass "revocation: the escaper is gone"
