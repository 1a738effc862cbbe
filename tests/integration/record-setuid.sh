#!/bin/bash
# The setuid recorder trusts nothing the operator hands it, through a real
# sshd (pam_lockbox, the recorder as the operator's login shell):
#  1. environment: SSLKEYLOGFILE from ~/.pam_environment (pam_env
#     user_readenv=1, as in Debian's stock sshd stack) or from the caller, with
#     umask 0, makes no file (libcurl would append to it as root);
#  2. sshd's terminal: while a session runs, no process of the operator can
#     open the recorder's outer /dev/pts/N, to write past the recorder or to
#     read keystrokes from it;
#  3. login shell: a planted ~/.bashrc never runs before the recorder (sshd
#     runs the ForceCommand through the login shell, which is the recorder).
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
KL=/run/lbx-test-keylog.$$
KL2=/run/lbx-test-keylog2.$$
lb_defer "rm -f '$KL' '$KL2'"
LB_SSHD_PAM_ENV_ARGS=user_readenv=1 lbr_setup recsuid
home=$(getent passwd lbxrvendor | cut -d: -f6)

# 1a. through sshd: ~/.pam_environment
printf 'SSLKEYLOGFILE DEFAULT=%s\n' "$KL" >"$home/.pam_environment"
chown lbxrvendor: "$home/.pam_environment"
lbr_key
mapfile -t SSH < <(lbr_ssh_argv -T)
OUT=$("${SSH[@]}" 'echo "kl=$SSLKEYLOGFILE"' 2>"$LB_TMP/err1") ||
    lb_fail "session failed: $(cat "$LB_TMP/err1"; lbr_explain)"
# the variable did reach the session (the operator's side keeps its environment)
grep -qx "kl=$KL" <<<"$OUT" || lb_fail "SSLKEYLOGFILE did not reach the session: $OUT"
[ ! -e "$KL" ] || lb_fail "the recorder created $KL: $(stat -c '%U %a' "$KL")"
lb_pass "SSLKEYLOGFILE from ~/.pam_environment: no file made by the recorder"
rm -f "$home/.pam_environment"

# 1b. the setuid recorder run directly by the operator, SSLKEYLOGFILE set
lbr_key
(
    echo 0 >/proc/self/loginuid # a fresh audit session for this subshell
    ses=$(cat /proc/self/sessionid)
    sj=$(lb_broker_api POST /v1/sessions "$(jq -cn --arg k "$(cut -d' ' -f1,2 "$KEY.pub")" --argjson s "$ses" \
        --arg h "$H" '{host:$h,user:"lbxrvendor",public_key:$k,audit_session:$s}')")
    install -d -m 0700 "$LB_SSHD_DIR/state/sessions"
    jq -c --argjson s "$ses" --argjson m "$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC)*1000))')" \
        '{session, request, operator, user, host, not_after, remaining_s, mono_ms: $m, audit_session: $s, sshd_pid: 0}' \
        <<<"$sj" >"$LB_SSHD_DIR/state/sessions/$ses.json"
    umask 000
    cd / && runuser -u lbxrvendor -- env SSLKEYLOGFILE="$KL2" "$LB_SSHD_LIBEXEC/lockbox-record" \
        -c 'echo direct-ran' </dev/null >"$LB_TMP/direct.out" 2>&1
) || true
[ ! -e "$KL2" ] || lb_fail "the setuid recorder created $KL2: $(stat -c '%U %a' "$KL2")"
grep -q direct-ran "$LB_TMP/direct.out" || lb_fail "direct run did not run the command: $(cat "$LB_TMP/direct.out")"
lb_pass "setuid recorder run by the operator with SSLKEYLOGFILE and umask 0: no file"

# 2. sshd's pty: root's, 0600, while the session runs; and whoever opened it
# before the recorder took it (a process of the operator's watching /dev/pts
# for new terminals of theirs) can neither write to it nor read from it
OPD=$(mktemp -d /tmp/lbx-opener.XXXXXX)
chmod 0755 "$OPD"
lb_defer "rm -rf '$OPD'"
cat >"$OPD/opener.py" <<'PY'
import glob, os, sys, time
go, end = sys.argv[1], time.time() + 120
fds = {}
print("watching", flush=True)
while not os.path.exists(go) and time.time() < end:
    for p in glob.glob("/dev/pts/[0-9]*"):
        if p in fds:
            continue
        try:
            if os.stat(p).st_uid == os.getuid():
                fds[p] = os.open(p, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            pass
    time.sleep(0.0002)
for p, fd in fds.items():
    try:
        os.write(fd, b"\r\nINJECTED-PAST-THE-RECORDER\r\n")
        print("wrote", p, flush=True)
    except OSError as e:
        print("write refused", p, e, flush=True)
    try:
        print("read", p, os.read(fd, 100), flush=True)
    except OSError as e:
        print("read refused", p, e, flush=True)
PY
chmod 0644 "$OPD/opener.py"
runuser -u lbxrvendor -- python3 "$OPD/opener.py" "$OPD/go" >"$OPD/opener.out" 2>&1 &
opener=$!
lb_defer "kill $opener 2>/dev/null || true"
lb_wait_for 100 grep -q watching "$OPD/opener.out" || lb_fail "the opener did not start"
lbr_key
mapfile -t SSH < <(lbr_ssh_argv -tt)
steps=$(cat <<JSON
[["expect", "\\\\$ $", 20],
 ["send", "echo ready\n"], ["expect", "ready\\\\r\\\\n", 10],
 ["mark", "$LB_TMP/tty.pid"], ["sleep", 4],
 ["send", "echo after-$((6*7))\n"], ["expect", "after-42", 10],
 ["send", "exit\n"], ["eof", 20]]
JSON
)
python3 "$LBR_DRIVE" "$steps" "$LB_TMP/t2" -- "${SSH[@]}" &
drive=$!
lb_wait_for 300 test -s "$LB_TMP/tty.pid" || lb_fail "session did not start: $(lbr_explain)"
TTY=
for p in $(pgrep -u lockbox-rec -x lockbox-record); do
    t=$(readlink "/proc/$p/fd/0" 2>/dev/null) || continue
    case "$t" in /dev/pts/*) TTY=$t; break;; esac
done
[ -n "$TTY" ] || lb_fail "no recorder on a terminal"
st=$(stat -c '%U %a' "$TTY")
runuser -u lbxrvendor -- sh -c "exec 3>>$TTY" 2>"$LB_TMP/w.err" && w=open || w=refused
runuser -u lbxrvendor -- sh -c "exec 3<$TTY" 2>"$LB_TMP/r.err" && r=open || r=refused
touch "$OPD/go"
wait "$opener" || true
sed 's/^/    opener: /' "$OPD/opener.out"
wait "$drive" || lb_fail "session: $(tail -c 1000 "$LB_TMP/t2")"
[ "$w" = refused ] || lb_fail "the operator opened $TTY ($st) for writing"
[ "$r" = refused ] || lb_fail "the operator opened $TTY ($st) for reading"
grep -q "Permission denied" "$LB_TMP/w.err" || lb_fail "write open: $(cat "$LB_TMP/w.err")"
[ "$st" = "root 600" ] || lb_fail "$TTY is $st during the session"
# what reached the client is what the recorder recorded (an injection into
# the session's inner terminal is fine: it goes through the recorder)
S=$(lbr_session_of "$R")
seen=$(grep -ao INJECTED-PAST-THE-RECORDER "$LB_TMP/t2" | wc -l)
recorded=$(python3 "$top_srcdir/tests/integration/record-check.py" stream "$LBR_SPOOL/$S.jsonl" tty |
    grep -ao INJECTED-PAST-THE-RECORDER | wc -l)
[ "$seen" -le "$recorded" ] ||
    lb_fail "bytes reached the client past the recorder ($seen seen, $recorded recorded): $(cat "$OPD/opener.out")"
! grep -q "^read $TTY b'[^']" "$OPD/opener.out" || lb_fail "the opener read from $TTY: $(cat "$OPD/opener.out")"
lb_pass "sshd's pty ($TTY) is root 0600 during the session: the operator cannot open it (read or write), and an earlier open is hung up"

# 3. a planted ~/.bashrc never runs before the recorder
[ "$(getent passwd lbxrvendor | cut -d: -f7)" = "$LB_SSHD_LIBEXEC/lockbox-record" ] ||
    lb_fail "the operator's login shell is not the recorder"
cat >"$home/.bashrc" <<'SH'
p=$(cat /proc/$PPID/comm)
echo "$p" >>"$HOME/bashrc-ran"
case "$p" in sshd*) echo planted-ran; exit 0;; esac
SH
chown lbxrvendor: "$home/.bashrc"
rm -f "$home/bashrc-ran"
lbr_key
mapfile -t SSH < <(lbr_ssh_argv -T)
OUT=$("${SSH[@]}" 'echo cmd-ran' 2>"$LB_TMP/err3") || lb_fail "command session failed: $(cat "$LB_TMP/err3"; lbr_explain)"
grep -qx cmd-ran <<<"$OUT" || lb_fail "the command did not run: $OUT"
grep -q planted-ran <<<"$OUT" && lb_fail "~/.bashrc ran before the recorder: $OUT"
S=$(lbr_session_of "$R")
grep -q '"kind":"start"' "$LBR_SPOOL/$S.jsonl" || lb_fail "session not recorded"
mapfile -t SSH < <(lbr_ssh_argv -tt)
lbr_key
mapfile -t SSH < <(lbr_ssh_argv -tt)
steps='[["expect", "\\$ $", 20], ["send", "echo inside-ran\n"], ["expect", "inside-ran\\r\\n", 10], ["send", "exit\n"], ["eof", 20]]'
python3 "$LBR_DRIVE" "$steps" "$LB_TMP/t3" -- "${SSH[@]}" || lb_fail "interactive: $(tail -c 1000 "$LB_TMP/t3"; lbr_explain)"
if grep -q sshd "$home/bashrc-ran" 2>/dev/null; then
    lb_fail "~/.bashrc ran under sshd, before the recorder: $(cat "$home/bashrc-ran")"
fi
lb_pass "a planted ~/.bashrc never runs before the recorder (command and interactive)"
