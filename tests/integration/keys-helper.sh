#!/bin/bash
# lockbox-keys as sshd runs it (as the lockbox-keys user), against a real
# broker; a fake broker only for hanging and hostile answers.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
if [ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ]; then echo "SKIP: integration test"; exit 77; fi
lb_lock
. "$top_srcdir/tests/integration/lib-broker.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"

lb_tmpdir
lb_start_journald
T0=$(date '+%Y-%m-%d %H:%M:%S') # journal entries of this run only
lb_add_user lbxop lockbox-operators
lb_add_user lbxvendor lockbox-operators
lb_add_user lbxvendor2 lockbox-operators
lb_add_user lbxappr lockbox-approvers
lb_add_user lbxplain
lb_sshd_system_user lockbox-keys
lb_start_broker

# a root-owned copy the lockbox-keys user can reach (the build tree may not be)
install -o root -g root -m 0755 "$top_builddir/sshd-helper/lockbox-keys" "$LB_TMP/lockbox-keys"
KEYS=$LB_TMP/lockbox-keys
REC=/usr/libexec/lockbox/lockbox-record
CONF=$LB_TMP/lockbox.conf
write_conf() { # broker-socket host [extra line]
    printf 'broker = unix:%s\nhost_name = %s\ntimeout_ms = 1000\nrecorder = %s\n%s\n' \
        "$1" "$2" "$REC" "${3:-}" >"$CONF"
    chmod 0644 "$CONF"
}
# run as sshd does: as lockbox-keys, stdout captured, status kept
keys() { (cd / && runuser -u lockbox-keys -- "$KEYS" --config "$CONF" "$@"); }
expect_nothing() { # rc-expected args...
    local want=$1 out rc; shift
    set +e; out=$(keys "$@" 2>/dev/null); rc=$?; set -e
    [ -z "$out" ] || lb_fail "printed for $*: $out"
    [ "$rc" = "$want" ] || lb_fail "exit $rc (want $want) for $*"
}
fp() { ssh-keygen -lf "$1" | awk '{print $2}'; }

write_conf "$LB_BROKER_SOCK" web1

# -- not managed: nothing, exit 0, and no broker asked (its socket is gone here)
write_conf /nonexistent/lockboxd.sock web1
expect_nothing 0 lbxplain
# the same config for a managed account fails (so the above really skipped the broker)
expect_nothing 1 lbxvendor
lb_pass "non-managed account: no output, exit 0, no broker call"

write_conf "$LB_BROKER_SOCK" web1
# -- managed, no request: nothing, exit 0
expect_nothing 0 lbxvendor
lb_pass "managed account without a request: no output, exit 0"

# -- approved request with a registered key: exactly the line
R=$(lb_req_new lbxop web1 lbxvendor 3600)
expect_nothing 0 lbxvendor # pending
lb_req_approve lbxappr "$R"
expect_nothing 0 lbxvendor # approved, no key yet
lb_req_key lbxop "$R" "$LB_TMP/k1"
lb_req_key lbxop "$R" "$LB_TMP/k2"
read -r T1 B1 _ <"$LB_TMP/k1.pub"
read -r T2 B2 _ <"$LB_TMP/k2.pub"
out=$(keys lbxvendor "$(fp "$LB_TMP/k1.pub")" "$T1" "$B1")
re="^restrict,pty,expiry-time=\"([0-9]{14})Z\",command=\"$REC\" $T1 ${B1//+/\\+} lockbox:$R\$"
[[ "$out" =~ $re ]] || lb_fail "line: $out"
# expiry-time: now + remaining_s, i.e. within a few seconds of the request's not_after
na=$(lb_api_as lbxop GET "/v1/requests/$R" | jq -r .not_after)
exp=$(date -u -d "$(echo "${BASH_REMATCH[1]}" | sed -E 's/(....)(..)(..)(..)(..)(..)/\1-\2-\3 \4:\5:\6/')" +%s)
nas=$(date -u -d "$na" +%s)
[ "$exp" -le "$nas" ] && [ "$exp" -ge $((nas - 5)) ] || lb_fail "expiry-time $exp vs not_after $nas"
lb_pass "approved request: exact restricted line, expiry-time from remaining_s, not after not_after"

# -- %f / %t / %k filtering
out=$(keys lbxvendor "$(fp "$LB_TMP/k2.pub")")
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [[ "$out" == *" $T2 $B2 lockbox:$R" ]] || lb_fail "%f k2: $out"
out=$(keys lbxvendor)
[ "$(printf '%s\n' "$out" | grep -c lockbox:)" = 2 ] || lb_fail "no %f: $out"
ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/other" </dev/null
expect_nothing 0 lbxvendor "$(fp "$LB_TMP/other.pub")"
expect_nothing 0 lbxvendor "$(fp "$LB_TMP/k1.pub")" "$T1" "$B2"   # %k of another key
expect_nothing 0 lbxvendor "$(fp "$LB_TMP/k1.pub")" ssh-rsa "$B1" # wrong %t
lb_pass "filtered by %f, %t and %k"

# -- journald: keys given and none given, each with its MESSAGE_ID and fields
if command -v journalctl >/dev/null && lb_journald_running; then
    lb_wait_for 50 sh -c "journalctl -q --no-pager --since \"$T0\" MESSAGE_ID=7eb68c8c9be04c2da634008814121fe5 LOCKBOX_REQUEST=$R LOCKBOX_USER=lbxvendor LOCKBOX_HOST=web1 | grep -q lockbox-keys" ||
        lb_fail "no journald entry for the keys given (MESSAGE_ID 7eb68c8c...)"
    lb_wait_for 50 sh -c "journalctl -q --no-pager --since \"$T0\" MESSAGE_ID=c1e769e15c1d42e3a6615cf81cec629d LOCKBOX_USER=lbxvendor LOCKBOX_HOST=web1 | grep -q 'no valid per-session key'" ||
        lb_fail "no journald entry for no keys given (MESSAGE_ID c1e769e1...)"
    lb_pass "answers logged to journald with their MESSAGE_IDs and LOCKBOX_* fields"
else
    lb_fail "journald not running: lb_start_journald should have started it"
fi

# -- another account, another host
expect_nothing 0 lbxvendor2
write_conf "$LB_BROKER_SOCK" web2
expect_nothing 0 lbxvendor
write_conf "$LB_BROKER_SOCK" web1
lb_pass "keys of a request for another account or host are not given"

# -- a consumed key is not given again
lb_api_as root POST /v1/sessions \
    "$(jq -cn --arg k "$T1 $B1" '{host:"web1",user:"lbxvendor",public_key:$k,remote:"127.0.0.1",tty:"ssh",pid:1,audit_session:1}')" >/dev/null
out=$(keys lbxvendor)
[ "$(printf '%s\n' "$out" | grep -c lockbox:)" = 1 ] && [[ "$out" == *" $B2 "* ]] || lb_fail "after use: $out"
lb_pass "a key that opened a session is not given again"

# -- revoked: nothing
lb_req_revoke lbxappr "$R"
expect_nothing 0 lbxvendor
lb_pass "revoked request: no keys"

# -- expired: nothing (short request)
R2=$(lb_req_new lbxop web1 lbxvendor 2)
lb_req_approve lbxappr "$R2"
lb_req_key lbxop "$R2" "$LB_TMP/k3"
[ -n "$(keys lbxvendor)" ] || lb_fail "fresh key of a short request not given"
sleep 3
expect_nothing 0 lbxvendor
lb_pass "expired request: no keys"

# -- fail closed: broker gone, hanging, garbage, hostile
write_conf /nonexistent/lockboxd.sock web1
expect_nothing 1 lbxvendor
FAKE=$LB_TMP/fake.sock
fake() {
    python3 "$top_srcdir/tests/integration/keys-fake-broker.py" "$FAKE" "$1" "$T2 $B2" &
    FAKE_PID=$!
    lb_wait_for 50 test -S "$FAKE" || lb_fail "fake broker"
}
unfake() { lb_stop_pid "$FAKE_PID"; rm -f "$FAKE"; }
write_conf "$FAKE" web1
fake good
out=$(keys lbxvendor)
[[ "$out" == *"lockbox:r-good" ]] || lb_fail "fake broker control case: $out"
unfake
for mode in garbage array error500 newline-id options-key; do
    fake "$mode"
    expect_nothing 1 lbxvendor
    unfake
done
fake hang
start=$(date +%s)
expect_nothing 1 lbxvendor
[ $(($(date +%s) - start)) -lt 10 ] || lb_fail "hanging broker not bounded by timeout_ms"
unfake
lb_pass "broker down, hanging, garbage, 5xx, hostile answers: nothing printed, exit 1"

# -- refuses to run from a writable config, binary, or with an unsafe recorder
write_conf "$LB_BROKER_SOCK" web1
chmod 0666 "$CONF"
expect_nothing 1 lbxplain
chmod 0644 "$CONF"
cp "$KEYS" "$LB_TMP/keys-copy"
chmod 0777 "$LB_TMP/keys-copy"
set +e; out=$(runuser -u lockbox-keys -- "$LB_TMP/keys-copy" --config "$CONF" lbxplain); rc=$?; set -e
[ -z "$out" ] && [ "$rc" = 1 ] || lb_fail "group/world-writable binary ran (rc $rc)"
R3=$(lb_req_new lbxop web1 lbxvendor 3600)
lb_req_approve lbxappr "$R3"
lb_req_key lbxop "$R3" "$LB_TMP/k4"
write_conf "$LB_BROKER_SOCK" web1 'recorder = /usr/bin/rec" ssh-ed25519'
expect_nothing 1 lbxvendor
write_conf "$LB_BROKER_SOCK" web1 'recorder = /usr/bin/rec;sh'
expect_nothing 1 lbxvendor
write_conf "$LB_BROKER_SOCK" web1
[ -n "$(keys lbxvendor)" ] || lb_fail "control: a valid key with a safe recorder"
lb_pass "refuses writable config or binary and unsafe recorder paths"
