#!/bin/bash
# Issue 4 end to end: per-session keys (lockboxctl connect, lockbox-keys,
# pam_lockbox consuming the key) against a real sshd on 127.0.0.1 with the
# shipped Match block, and a real broker.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
. "$top_srcdir/tests/integration/lib-broker.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
lb_sshd_require
lb_lock

lb_tmpdir
lb_start_journald
lb_add_user lbxop lockbox-operators
lb_add_user lbxvendor lockbox-operators
lb_add_user lbxvendor2 lockbox-operators
lb_add_user lbxappr lockbox-approvers
lb_add_user lbxplain
lb_start_broker
# on failure, show what the servers said
lb_fail() {
    echo "FAIL: $*" >&2
    if [ -n "${LB_SSHD_LOG:-}" ]; then echo "--- sshd log (last 40 lines)" >&2; tail -n 40 "$LB_SSHD_LOG" >&2; fi
    echo "--- journal (lockbox, last 30)" >&2
    journalctl --no-pager -n 30 -o short-monotonic SYSLOG_IDENTIFIER=lockbox-record + SYSLOG_IDENTIFIER=pam_lockbox + SYSLOG_IDENTIFIER=lockbox-keys >&2 2>/dev/null || true
    exit 1
}

H=lbxhost
export LB_SSHD_HOSTCONF_EXTRA="host_name = $H"
LB_SSHD_LOCKBOX=full lb_start_sshd keys
FULL=$LB_SSHD_PORT
if [ "${LB_SSHD_RECORDER_STANDIN:-}" = 1 ]; then
    echo "SKIP: recorder/lockbox-record not built (these rows need the real forced command)"
    exit 77
fi

home() { getent passwd "$1" | cut -d: -f6; }
try() { # user key [ssh args...]
    local user=$1 key=$2; shift 2
    set +e
    OUT=$(lb_ssh "$user" -i "$key" -o IdentitiesOnly=yes "$@" 2>"$LB_TMP/err")
    RC=$?
    set -e
    ERR=$(cat "$LB_TMP/err")
}
got_in() { [ "$RC" = 0 ] && [ "$OUT" = lbx-in ] || lb_fail "$1: not in (rc $RC, out '$OUT', err '$ERR')"; }
refused() { [ "$RC" != 0 ] && [[ "$OUT" != *lbx-in* ]] || lb_fail "$1: got in (out '$OUT')"; }
approved() { local r; r=$(lb_req_new lbxop "${2:-$H}" "${1:-lbxvendor}" "${3:-3600}"); lb_req_approve lbxappr "$r"; echo "$r"; }
n=0
newkey() { n=$((n + 1)); KEY=$LB_TMP/k$n; lb_req_key lbxop "$1" "$KEY"; }

CT=$LB_TMP/connect-tmp
install -d -o lbxop -m 700 "$CT"
CONNECT=("$LB_SSHD_LIBEXEC/lockboxctl" --broker "unix:$LB_BROKER_SOCK" connect)
SSHOPTS=(-o HostName=127.0.0.1 -p "$FULL" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null)
key_dirs_gone() { [ -z "$(ls -A "$CT")" ] || lb_fail "$1: key material left: $(ls -lAR "$CT")"; }

R=$(approved)

# 1. an interactive session through a PTY
set +e
PTYOUT=$(cd / && python3 "$top_srcdir/tests/integration/sshd-pty.py" '[$#>] ?$' 'echo $((6*7))-lbx' '42-lbx' -- \
    runuser -u lbxop -- env TMPDIR="$CT" "${CONNECT[@]}" "$R" -- "${SSHOPTS[@]}")
rc=$?
set -e
if [ "$rc" != 0 ] || ! grep -q "42-lbx" <<<"$PTYOUT"; then
    s=$(lb_api_as lbxappr GET "/v1/audit?request=$R" | jq -r '[.events[] | select(.type=="SessionStart") | .session] | last')
    echo "--- the recorder's records of session $s" >&2
    journalctl --no-pager -o json "LOCKBOX_SESSION=$s" 2>/dev/null | jq -r '.LOCKBOX_RECORDS // empty' >&2 || true
    lb_fail "interactive connect (rc $rc): $PTYOUT"
fi
key_dirs_gone "interactive connect"
lb_pass "lockboxctl connect: interactive session through a PTY ran a command; key destroyed after"

# 2. a key opens one session only
newkey "$R"
try lbxvendor "$KEY" echo lbx-in
got_in "first use of a key"
try lbxvendor "$KEY" echo lbx-in
refused "second use of the same key"
lb_pass "the same per-session key is refused for a second session"

# 3. expiry: by the broker (short request) and by sshd's own expiry-time
R3=$(approved lbxvendor $H 3)
newkey "$R3"
sleep 4
try lbxvendor "$KEY" echo lbx-in
refused "key of an expired request"
# sshd enforces expiry-time itself: the same lines with an expiry in the past
mv "$LB_SSHD_LIBEXEC/lockbox-keys" "$LB_SSHD_LIBEXEC/lockbox-keys.real"
cat >"$LB_SSHD_LIBEXEC/lockbox-keys" <<EOF
#!/bin/sh
"$LB_SSHD_LIBEXEC/lockbox-keys.real" "\$@" | sed 's/expiry-time="[0-9]*Z"/expiry-time="20200101000000Z"/'
EOF
chmod 0755 "$LB_SSHD_LIBEXEC/lockbox-keys"
newkey "$R"
try lbxvendor "$KEY" echo lbx-in
refused "key line whose expiry-time passed"
mv "$LB_SSHD_LIBEXEC/lockbox-keys.real" "$LB_SSHD_LIBEXEC/lockbox-keys"
try lbxvendor "$KEY" echo lbx-in
got_in "control: the same key with the real expiry-time"
lb_pass "refused after expiry (broker) and past the key line's expiry-time (sshd)"

# 4. revoked
newkey "$R"
KREV=$KEY
lb_req_revoke lbxappr "$R"
try lbxvendor "$KREV" echo lbx-in
refused "key of a revoked request"
lb_pass "refused after revoke"

R=$(approved)
# 5. a key of another request (another account) or for another host
R5=$(approved lbxvendor2)
newkey "$R5"
try lbxvendor "$KEY" echo lbx-in
refused "key of a request for another account"
R6=$(approved lbxvendor otherhost)
newkey "$R6"
try lbxvendor "$KEY" echo lbx-in
refused "key of a request for another host"
lb_pass "keys of another request or another host are refused"

# 6. a key planted in the operator account's authorized_keys, with access approved
install -d -o lbxvendor -g lbxvendor -m 700 "$(home lbxvendor)/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/planted" </dev/null
install -o lbxvendor -g lbxvendor -m 600 "$LB_TMP/planted.pub" "$(home lbxvendor)/.ssh/authorized_keys"
try lbxvendor "$LB_TMP/planted" echo lbx-in
refused "planted authorized_keys key"
lb_pass "a key planted in ~/.ssh/authorized_keys does not work"

# 7. forwarding, -N, agent: nothing that bypasses the recorder
LP=$(lb_free_port)
newkey "$R"
ssh -F /dev/null $(lb_ssh_opts) -i "$KEY" -o IdentitiesOnly=yes -N -L "$LP:127.0.0.1:$FULL" \
    -l lbxvendor 127.0.0.1 2>"$LB_TMP/fwd-L" &
spid=$!
lb_defer "lb_stop_pid $spid"
lb_wait_for 100 lb_sshd_listening "$LP" || lb_fail "ssh -N -L did not connect: $(cat "$LB_TMP/fwd-L")"
[ "$(python3 "$top_srcdir/tests/integration/sshd-fwd-probe.py" direct "$LP")" = NOTHING ] ||
    lb_fail "ssh -L forward reached its target"
lb_stop_pid "$spid"
newkey "$R"
DP=$(lb_free_port)
ssh -F /dev/null $(lb_ssh_opts) -i "$KEY" -o IdentitiesOnly=yes -N -D "$DP" \
    -l lbxvendor 127.0.0.1 2>"$LB_TMP/fwd-D" &
spid=$!
lb_defer "lb_stop_pid $spid"
lb_wait_for 100 lb_sshd_listening "$DP" || lb_fail "ssh -N -D did not connect"
[ "$(python3 "$top_srcdir/tests/integration/sshd-fwd-probe.py" socks "$DP" "$FULL")" = NOTHING ] ||
    lb_fail "ssh -D forward reached its target"
lb_stop_pid "$spid"
newkey "$R"
RP=$(lb_free_port)
try lbxvendor "$KEY" -N -o ExitOnForwardFailure=yes -R "$RP:127.0.0.1:$FULL"
[ "$RC" != 0 ] || lb_fail "ssh -R: forwarding accepted"
grep -qi "remote port forwarding failed" <<<"$ERR" || lb_fail "ssh -R: $ERR"
lb_sshd_listening "$RP" && lb_fail "ssh -R: port $RP is listening"
newkey "$R"
eval "$(ssh-agent -s)" >/dev/null
lb_defer "kill $SSH_AGENT_PID"
try lbxvendor "$KEY" -A 'echo "agent=[$SSH_AUTH_SOCK]"'
[ "$RC" = 0 ] && [ "$OUT" = "agent=[]" ] || lb_fail "agent forwarding: rc $RC out '$OUT' err '$ERR'"
kill "$SSH_AGENT_PID"
lb_pass "ssh -N -L, -D, -R and -A get nothing (forwards fail, no agent socket)"
newkey "$R"
set +e
OUT=$(echo "ls /" | sftp -F /dev/null -b - -P "$FULL" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i "$KEY" lbxvendor@127.0.0.1 2>"$LB_TMP/err")
RC=$?
set -e
ERR=$(cat "$LB_TMP/err")
[ "$RC" != 0 ] || lb_fail "sftp: succeeded (out '$OUT')"
! grep -qw etc <<<"$OUT" || lb_fail "sftp listed files: $OUT"
lb_pass "sftp is refused (the forced recorder refuses the subsystem): $(head -n1 <<<"$ERR")"

# 8. an account that is not managed is unaffected
install -d -o lbxplain -g lbxplain -m 700 "$(home lbxplain)/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/plain" </dev/null
install -o lbxplain -g lbxplain -m 600 "$LB_TMP/plain.pub" "$(home lbxplain)/.ssh/authorized_keys"
try lbxplain "$LB_TMP/plain" echo lbx-in
got_in "non-managed account"
try lbxplain "$LB_TMP/plain" echo lbx-in
got_in "non-managed account, second login"
lb_pass "non-operator account logs in as before"

# 9. the private key is gone after connect, also when ssh fails or connect is killed
set +e
(cd / && runuser -u lbxop -- env TMPDIR="$CT" "${CONNECT[@]}" "$R" -- "${SSHOPTS[@]}" -o BatchMode=yes echo lbx-in) \
    >"$LB_TMP/out" 2>"$LB_TMP/err"
rc=$?
set -e
[ "$rc" = 0 ] && grep -qx lbx-in "$LB_TMP/out" || lb_fail "connect: rc $rc $(cat "$LB_TMP/err")"
key_dirs_gone "connect, normal exit"
set +e
(cd / && runuser -u lbxop -- env TMPDIR="$CT" "${CONNECT[@]}" "$R" -- -o HostName=127.0.0.1 -p 1 \
    -o BatchMode=yes echo lbx-in) >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 255 ] || lb_fail "connect to a closed port: rc $rc (want ssh's 255)"
key_dirs_gone "connect, ssh failed"
uid=$(id -u lbxop) gid=$(id -g lbxop)
(cd / && exec setpriv --reuid="$uid" --regid="$gid" --init-groups env TMPDIR="$CT" HOME="$(home lbxop)" \
    "${CONNECT[@]}" "$R" -- "${SSHOPTS[@]}" -o BatchMode=yes 'echo lbx-started; sleep 60') \
    >"$LB_TMP/out-term" 2>&1 &
cpid=$!
lb_defer "lb_stop_pid $cpid"
lb_wait_for 150 grep -q lbx-started "$LB_TMP/out-term" || lb_fail "connect (to be killed) did not start: $(cat "$LB_TMP/out-term")"
[ -n "$(ls -A "$CT")" ] || lb_fail "no key directory while connected (test is blind)"
kill -TERM "$cpid"
set +e
wait "$cpid"
rc=$?
set -e
[ "$rc" -ge 128 ] || lb_fail "connect killed by SIGTERM exited $rc"
key_dirs_gone "connect killed with SIGTERM"
# and the remote side of that session ends too (its `sleep 60` does not linger)
lb_wait_for 150 sh -c '! pgrep -u lbxvendor >/dev/null' || lb_fail "session processes left after connect was killed: $(pgrep -a -u lbxvendor)"
lb_pass "private key destroyed after connect: normal exit, ssh failure (255), SIGTERM ($rc)"
