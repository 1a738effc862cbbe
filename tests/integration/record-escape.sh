#!/bin/bash
# No process of a recorded session outlives it, through a real sshd: a process
# that ignores HUP and TERM and keeps forking, double-forking, setsid()ing and
# leaving its parent in a tight loop (so that a pass over /proc never finds it
# where it was) is gone after logout and after revocation. The recorder runs
# the operator's side as PID 1 of its own PID namespace: when that ends, the
# kernel ends every process in it.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup recesc
home=$(getent passwd lbxrvendor | cut -d: -f6)
cat >"$home/escape.py" <<'PY'
import os, signal, sys
tag = sys.argv[1]
for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
fd = os.open("/dev/null", os.O_RDWR)
for k in (0, 1, 2):
    os.dup2(fd, k)
beat = os.path.expanduser("~/escape-%s.beat" % tag)
open(beat, "w").close()
while True:
    try:
        os.utime(beat)           # alive: the file's mtime keeps moving
        if os.fork():
            os._exit(0)          # the parent leaves: the child is re-parented
        os.setsid()
        if os.fork():
            os._exit(0)          # double fork
    except OSError:
        pass
PY
chown lbxrvendor: "$home/escape.py"

# The escaper's processes live for microseconds each: a scan of /proc may
# miss them. Its heartbeat (the mtime of ~/escape-TAG.beat) does not.
beat() { stat -c %.Y "$home/escape-$1.beat" 2>/dev/null; }
alive() { # tag: the heartbeat moves within a second
    local a b
    a=$(beat "$1"); sleep 1; b=$(beat "$1")
    [ -n "$a" ] && [ "$a" != "$b" ]
}
gone_for_good() { # tag: no heartbeat for 3 s, and no process with its argv
    local a b
    a=$(beat "$1"); sleep 3; b=$(beat "$1")
    [ "$a" = "$b" ] && ! pgrep -f "escape.py $1" >/dev/null
}
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
    alive "$tag" || lb_fail "$tag: the escaper is not running"
}
lb_defer "pkill -KILL -f 'escape.py lbxesc' || true"

# 1. logout
start_escaper lbxesc-logout '["sleep", 4], ["send", "exit\n"],'
wait "$drive" || lb_fail "logout session: $(tail -c 1000 "$LB_TMP/lbxesc-logout")"
sleep 3 # the old end of session: one HUP/TERM/KILL round, 2 s grace
gone_for_good lbxesc-logout || lb_fail "a forking, setsid, re-parenting process survived logout"
lb_pass "logout: the forking, setsid()ing, re-parenting escaper is gone"

# 2. revocation
start_escaper lbxesc-revoke ''
lb_req_revoke lbxrappr "$R"
wait "$drive" || true
[ -f "$LB_TMP/lbxesc-revoke.eof" ] || lb_fail "revoked session did not end: $(tail -c 1000 "$LB_TMP/lbxesc-revoke")"
sleep 3
gone_for_good lbxesc-revoke || lb_fail "a forking, setsid, re-parenting process survived revocation"
lb_pass "revocation: the escaper is gone"
