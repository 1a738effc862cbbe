#!/bin/bash
# pam_lockbox against brokers that fail (DESIGN §5, fail closed). A FAKE broker
# (tests/pam/fake-broker.py) stands in for what a real lockboxd never does:
# hang, trickle, answer garbage or lie. "Broker gone" needs no broker at all.
# Every row must give PAM_PERM_DENIED and tell the user why; no root needed.
source "$top_srcdir/tests/integration/lib.sh"
source "$top_srcdir/tests/pam/lib-pam.sh"
lb_pam_setup
M="$LB_PAM_MODULE"
TIMEOUT_MS=1000

acct() { # acct BROKER-BASE [extra args]: account stage through the stack
    local base=$1; shift
    lb_pam_service svc "account required $M broker=$base host_name=web1 operator_group= operators=lbxvendor timeout_ms=$TIMEOUT_MS ssh_services=svc $*"
    lb_pam_run --service svc --user lbxvendor acct
}

echo "# broker gone: socket missing"
acct "unix:$LB_TMP/missing.sock"
lb_expect '^acct PAM_PERM_DENIED'
lb_expect '^error: lockbox: access could not be verified \(broker unreachable\); refusing login$'
lb_pass "socket missing"

echo "# broker gone: a socket nobody listens on"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$LB_TMP/dead.sock"
acct "unix:$LB_TMP/dead.sock"
lb_expect '^acct PAM_PERM_DENIED'
lb_expect '^error: lockbox: access could not be verified \(broker unreachable\); refusing login$'
lb_pass "nothing listening"

echo "# broker gone: an https broker on a closed port"
port=$(lb_free_port)
acct "https://127.0.0.1:$port"
lb_expect '^acct PAM_PERM_DENIED'
lb_expect '^error: lockbox: access could not be verified'
lb_pass "https port closed"

# The deadline: these brokers never finish an answer. The result must be
# PAM_PERM_DENIED; lb_pam_run's 60 s `timeout` only keeps a broken module
# from hanging the suite (the module's deadline is 1 s here).
for mode in hang trickle; do
    echo "# broker that ${mode}s"
    lb_fake_broker $mode
    acct "unix:$FAKE_SOCK"
    lb_expect '^acct PAM_PERM_DENIED'
    lb_expect '^error: lockbox: access could not be verified \(broker did not answer in time\); refusing login$'
    [ -s "$FAKE_LOG" ] || lb_fail "the fake broker was never asked"
    lb_pass "$mode: deadline holds ($(grep -o 'elapsed_ms=[0-9]*' <<<"$LB_OUT"), timeout_ms=$TIMEOUT_MS)"
done

for mode in garbage html huge close zero missing negative wronguser wronghost badid; do
    echo "# broker answers: $mode"
    lb_fake_broker $mode
    acct "unix:$FAKE_SOCK"
    lb_expect '^acct PAM_PERM_DENIED' "$mode"
    lb_expect '^error: lockbox: access could not be verified \((broker answer unreadable|broker error)\); refusing login$' "$mode"
    lb_expect_not '^info: lockbox: access granted' "$mode"
    lb_pass "$mode refused"
done

echo "# a refusal whose reason and hint carry terminal escapes reaches the user defused"
lb_fake_broker escape
acct "unix:$FAKE_SOCK"
lb_expect '^acct PAM_PERM_DENIED'
lb_expect '^error: lockbox: access refused: request r-1 was \\x1b\]52;c;ZXZpbA==\\x07revoked\\x1b\[2J$'
lb_expect '^error: lockbox: ask \\x1b\[31mnicely\\x1b\[0m$'
if grep -q $'\x1b' <<<"$LB_OUT"; then lb_fail "an escape reached the terminal"; fi
lb_pass "escapes defused"

# ---- session open against failing brokers ----------------------------------
# The session hook needs an audit session id, which pam_loginuid.so (before
# pam_lockbox in the stack, as in sshd's) sets only as root, for an existing
# account: "nobody" stands in for a managed account here.
if [ "$(id -u)" != 0 ]; then
    echo "# session rows need root (pam_loginuid); not run"
    exit 0
fi
KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
export FAKE_USER=nobody
sess() { # sess BROKER-BASE [extra args]
    local base=$1; shift
    lb_pam_service sess "session required pam_loginuid.so" \
        "session required $M broker=$base host_name=web1 operator_group= operators=nobody timeout_ms=$TIMEOUT_MS state_dir=$LB_TMP/state ssh_services=sess $*"
    lb_pam_run --service sess --user nobody --putenv "SSH_AUTH_INFO_0=publickey $KEY" open
}
no_record() {
    [ ! -d "$LB_TMP/state/sessions" ] || [ -z "$(ls -A "$LB_TMP/state/sessions")" ] ||
        lb_fail "a session record was left behind: $(ls -A "$LB_TMP/state/sessions")"
}

echo "# session open, broker hangs"
lb_fake_broker hang
sess "unix:$FAKE_SOCK"
lb_expect '^open PAM_SESSION_ERR'
lb_expect '^error: lockbox: access could not be verified \(broker did not answer in time\); refusing session$'
lb_expect_not '^env: LOCKBOX_'
no_record
lb_pass "session open: hanging broker refused"

echo "# session open, broker gone"
sess "unix:$LB_TMP/missing.sock"
lb_expect '^open PAM_SESSION_ERR'
lb_expect '^error: lockbox: access could not be verified \(broker unreachable\); refusing session$'
no_record
lb_pass "session open: broker gone refused"

for mode in garbage sessionzero; do
    echo "# session open, broker answers $mode"
    lb_fake_broker $mode
    sess "unix:$FAKE_SOCK"
    lb_expect '^open PAM_SESSION_ERR'
    lb_expect '^error: lockbox: access could not be verified \(broker answer unreadable\); refusing session$'
    lb_expect_not '^env: LOCKBOX_'
    no_record
    lb_pass "session open: $mode refused"
done

echo "# session open, broker opens a session for another account: refused and ended"
lb_fake_broker sessionother
sess "unix:$FAKE_SOCK"
lb_expect '^open PAM_SESSION_ERR'
lb_expect_not '^env: LOCKBOX_'
no_record
grep -q '^POST /v1/sessions/s-0123456789abcdef/end' "$FAKE_LOG" || lb_fail "the lying session was not ended: $(cat "$FAKE_LOG")"
lb_pass "session open: wrong account refused, broker session ended"

echo "# session open, the record cannot be written: refused and ended"
lb_fake_broker sessionok
: >"$LB_TMP/not-a-dir"
lb_pam_service sess "session required pam_loginuid.so" \
    "session required $M broker=unix:$FAKE_SOCK host_name=web1 operator_group= operators=nobody timeout_ms=$TIMEOUT_MS state_dir=$LB_TMP/not-a-dir ssh_services=sess"
lb_pam_run --service sess --user nobody --putenv "SSH_AUTH_INFO_0=publickey $KEY" open
lb_expect '^open PAM_SESSION_ERR'
lb_expect '^error: lockbox: this session could not be recorded'
lb_expect_not '^env: LOCKBOX_'
grep -q '^POST /v1/sessions/s-0123456789abcdef/end' "$FAKE_LOG" || lb_fail "the session was not ended: $(cat "$FAKE_LOG")"
lb_pass "session open: unrecordable session refused, broker session ended"

echo "# session close, broker hangs: close returns within the deadline, record removed"
mkdir -p "$LB_TMP/state2"
lb_fake_broker sessionok
OK_SOCK=$FAKE_SOCK
lb_fake_broker hang
# open against the good fake, then switch the close to the hanging one
lb_pam_service sess "session required pam_loginuid.so" \
    "session required $M broker=unix:$OK_SOCK host_name=web1 operator_group= operators=nobody timeout_ms=$TIMEOUT_MS state_dir=$LB_TMP/state2 ssh_services=sess,sess-hang"
lb_pam_service sess-hang "session required $M broker=unix:$FAKE_SOCK host_name=web1 operator_group= operators=nobody timeout_ms=$TIMEOUT_MS state_dir=$LB_TMP/state2 ssh_services=sess,sess-hang"
lb_pam_run --service sess --user nobody --putenv "SSH_AUTH_INFO_0=publickey $KEY" \
    --module "$M" --arg broker=unix:$FAKE_SOCK --arg host_name=web1 --arg operator_group= \
    --arg operators=nobody --arg timeout_ms=$TIMEOUT_MS --arg state_dir=$LB_TMP/state2 \
    --arg ssh_services=sess open sm-close
lb_expect '^open PAM_SUCCESS'
lb_expect '^sm-close PAM_SESSION_ERR'
[ -z "$(ls -A "$LB_TMP/state2/sessions")" ] || lb_fail "record left after close"
grep -q '^POST /v1/sessions/s-0123456789abcdef/end' "$FAKE_LOG" || lb_fail "close did not try to end the session"
lb_pass "session close: hanging broker, close bounded, record removed ($(grep -o 'sm-close.*elapsed_ms=[0-9]*' <<<"$LB_OUT"))"
