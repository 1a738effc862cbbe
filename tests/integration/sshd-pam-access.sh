#!/bin/bash
# Issue 3 end to end: pam_lockbox in a real sshd's PAM stack, a real broker.
# Two sshds on 127.0.0.1: "full" (the shipped Match block: per-session keys,
# forced recorder) and "pamonly" (pam_lockbox alone, the operator's own key in
# authorized_keys), where the account hook's message reaches the ssh client.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
. "$top_srcdir/tests/integration/lib-broker.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
lb_sshd_require
lb_lock

lb_tmpdir
lb_start_journald
lb_add_user lbxop lockbox-operators
lb_add_user lbxop2 lockbox-operators
lb_add_user lbxvendor lockbox-operators
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
LB_SSHD_LOCKBOX=full lb_start_sshd pam3full
FULL=$LB_SSHD_PORT
LB_SSHD_LOCKBOX=pam lb_start_sshd pam3only
PAMONLY=$LB_SSHD_PORT

# own keys in authorized_keys: the operator account's and a plain account's
for u in lbxvendor lbxplain; do
    home=$(getent passwd $u | cut -d: -f6)
    install -d -o $u -g $u -m 700 "$home/.ssh"
    ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/own-$u" </dev/null
    install -o $u -g $u -m 600 "$LB_TMP/own-$u.pub" "$home/.ssh/authorized_keys"
done

# ssh as root to one of the sshds; out/err/rc in OUT/ERR/RC
try() { # port user key [cmd...]
    local port=$1 user=$2 key=$3; shift 3
    set +e
    OUT=$(LB_SSHD_PORT=$port lb_ssh "$user" -i "$key" -o IdentitiesOnly=yes "$@" 2>"$LB_TMP/err")
    RC=$?
    set -e
    ERR=$(cat "$LB_TMP/err")
}
refused() { # what
    [ "$RC" != 0 ] || lb_fail "$1: got in (out: $OUT)"
    [[ "$OUT" != *lbx-in* ]] || lb_fail "$1: command ran"
}
# lockboxctl connect as the operator, to the full sshd
CT=$LB_TMP/connect-tmp
install -d -o lbxop -m 700 "$CT"
connect() { connect_as lbxop "$@"; }
connect_as() { # local-user id [cmd...]
    local who=$1 id=$2; shift 2
    set +e
    OUT=$(cd / && runuser -u "$who" -- env TMPDIR="$CT" "$LB_SSHD_LIBEXEC/lockboxctl" \
        --broker "unix:$LB_BROKER_SOCK" connect "$id" -- -o HostName=127.0.0.1 -p "$FULL" \
        -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "$@" \
        2>"$LB_TMP/err")
    RC=$?
    set -e
    ERR=$(cat "$LB_TMP/err")
}

# 1. no request at all: refused, and the client is told why
try "$PAMONLY" lbxvendor "$LB_TMP/own-lbxvendor" echo lbx-in
refused "no request (pam only)"
grep -q "lockbox: access refused" <<<"$ERR" || lb_fail "no reason shown: $ERR"
grep -q "lockboxctl request --host $H --user lbxvendor" <<<"$ERR" || lb_fail "no hint shown: $ERR"
try "$FULL" lbxvendor "$LB_TMP/own-lbxvendor" echo lbx-in
refused "no request (full)"
lb_pass "no request: refused; ssh shows 'access refused' and how to ask"

# 2. pending: refused, told it is pending
R=$(lb_req_new lbxop $H lbxvendor 3600)
try "$PAMONLY" lbxvendor "$LB_TMP/own-lbxvendor" echo lbx-in
refused "pending (pam only)"
grep -q "access refused.*pending" <<<"$ERR" || lb_fail "pending not said: $ERR"
connect "$R" echo lbx-in
refused "pending (connect)"
grep -q "request $R is pending: wait for an approver" <<<"$ERR" || lb_fail "connect: $ERR"
lb_pass "pending request: refused, ssh and lockboxctl connect say it is pending"

# 3. denied
lb_req_deny lbxappr "$R"
try "$PAMONLY" lbxvendor "$LB_TMP/own-lbxvendor" echo lbx-in
refused "denied (pam only)"
grep -q "access refused.*denied" <<<"$ERR" || lb_fail "denied not said: $ERR"
connect "$R" echo lbx-in
refused "denied (connect)"
grep -q "request $R is denied" <<<"$ERR" || lb_fail "connect: $ERR"
lb_pass "denied request: refused with the reason"

# 4. approved: in, through lockboxctl connect (per-session key, recorder forced)
R=$(lb_req_new lbxop $H lbxvendor 3600)
lb_req_approve lbxappr "$R"
connect "$R" 'echo lbx-in-$(id -un)'
[ "$RC" = 0 ] && grep -qx "lbx-in-lbxvendor" <<<"$OUT" || lb_fail "approved connect: rc $RC out '$OUT' err '$ERR'"
# the broker saw the session bound to this request
lb_api_as lbxappr GET "/v1/audit?request=$R" | jq -e '[.events[].type] | index("SessionStart")' >/dev/null ||
    lb_fail "no SessionStart for $R at the broker"
# own key on the full sshd stays refused even while approved (per-session keys only)
try "$FULL" lbxvendor "$LB_TMP/own-lbxvendor" echo lbx-in
refused "own key while approved (full)"
lb_pass "approved request: in through lockboxctl connect, session bound at the broker"
# only its operator may use it: another operator, an approver who can see it
for who in lbxop2 lbxappr; do
    connect_as "$who" "$R" echo lbx-in
    refused "connect as $who"
    grep -q "request $R is not yours" <<<"$ERR" || lb_fail "connect as $who: $ERR"
done
lb_pass "lockboxctl connect of someone else's request: 'is not yours'"

# 5. revoked: a registered, unused key stops working; the client is told
lb_req_key lbxop "$R" "$LB_TMP/k-rev"
lb_req_revoke lbxappr "$R"
try "$FULL" lbxvendor "$LB_TMP/k-rev" echo lbx-in
refused "revoked (full, registered key)"
try "$PAMONLY" lbxvendor "$LB_TMP/own-lbxvendor" echo lbx-in
refused "revoked (pam only)"
grep -q "access refused.*revoked" <<<"$ERR" || lb_fail "revoked not said: $ERR"
connect "$R" echo lbx-in
refused "revoked (connect)"
lb_pass "revoked request: registered key refused, reason shown"

# 6. expired (a 3 s request): a key registered in time is refused afterwards
R=$(lb_req_new lbxop $H lbxvendor 3)
lb_req_approve lbxappr "$R"
lb_req_key lbxop "$R" "$LB_TMP/k-exp"
sleep 4
try "$FULL" lbxvendor "$LB_TMP/k-exp" echo lbx-in
refused "expired (full, registered key)"
try "$PAMONLY" lbxvendor "$LB_TMP/own-lbxvendor" echo lbx-in
refused "expired (pam only)"
grep -q "access refused.*expired" <<<"$ERR" || lb_fail "expired not said: $ERR"
connect "$R" echo lbx-in
refused "expired (connect)"
grep -q "request $R expired at" <<<"$ERR" || lb_fail "connect: $ERR"
lb_pass "expired request: refused, reason shown"

# 7. an account that is not managed is unaffected, on both sshds
for port in "$FULL" "$PAMONLY"; do
    try "$port" lbxplain "$LB_TMP/own-lbxplain" echo lbx-in-plain
    [ "$RC" = 0 ] && [ "$OUT" = lbx-in-plain ] || lb_fail "plain account on $port: rc $RC $ERR"
done
lb_pass "non-managed account logs in with its own key as before"

# 8. broker stopped: an approved request with a registered key is refused
R=$(lb_req_new lbxop $H lbxvendor 3600)
lb_req_approve lbxappr "$R"
lb_req_key lbxop "$R" "$LB_TMP/k-down"
lb_stop_pid "$LB_BROKER_PID"
try "$FULL" lbxvendor "$LB_TMP/k-down" echo lbx-in
refused "broker down (full)"
try "$PAMONLY" lbxvendor "$LB_TMP/own-lbxvendor" echo lbx-in
refused "broker down (pam only)"
grep -q "access could not be verified" <<<"$ERR" || lb_fail "broker down not said: $ERR"
try "$FULL" lbxplain "$LB_TMP/own-lbxplain" echo lbx-in-plain
[ "$RC" = 0 ] || lb_fail "plain account refused while the broker is down: $ERR"
lb_pass "broker stopped: managed logins refused ('could not be verified'), others unaffected"
