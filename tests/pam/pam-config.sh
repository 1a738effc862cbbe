#!/bin/bash
# pam_lockbox configuration rows (DESIGN §5, §8), no root needed:
#  - not managed: PAM_IGNORE, no message, no broker call
#  - explicitly named config file missing / malformed: PAM_SERVICE_ERR for all
#  - bad value (file or argument), bad argument: PAM_SERVICE_ERR for managed
#    users, PAM_IGNORE for others
#  - unknown keys: logged, not fatal
#  - arguments override the file
#  - no pam_sm_authenticate: listed under auth, the stack fails
source "$top_srcdir/tests/integration/lib.sh"
source "$top_srcdir/tests/pam/lib-pam.sh"
lb_pam_setup

# A broker that would answer "allow" to anyone: it records every call, so we
# can see that unmanaged users never cause one, and it must never be what
# lets a user through in a configuration-error row.
lb_fake_broker wronguser
M="$LB_PAM_MODULE"
CONF="$LB_TMP/lockbox.conf"
cat >"$CONF" <<CONF
# test host configuration
broker = unix:$FAKE_SOCK
host_name = web1
operator_group =
operators = lbxvendor, lbxother
timeout_ms = 2000
# these stand for sshd's service (tests/pam/pam-services.sh: every other one is refused)
ssh_services = svc svc2 svc3
CONF

run() { # run SERVICE-ARGS... -- pam-run args
    local args=()
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    lb_pam_service svc "account required $M ${args[*]}" "session required $M ${args[*]}"
    lb_pam_run --service svc --module "$M" $(printf -- '--arg %s ' "${args[@]}") "$@"
}

echo "# not managed: PAM_IGNORE, nothing said, broker never asked"
run config="$CONF" -- --user root sm-acct sm-open sm-close
lb_expect '^sm-acct PAM_IGNORE' ; lb_expect '^sm-open PAM_IGNORE'; lb_expect '^sm-close PAM_IGNORE'
[ "$(lb_pam_messages)" = 0 ] || lb_fail "an unmanaged user was told something"
[ ! -s "$FAKE_LOG" ] || lb_fail "the broker was asked about an unmanaged user: $(cat "$FAKE_LOG")"
# through the stack too: pam_lockbox ignores, pam_permit decides
lb_pam_service svc2 "account required $M config=$CONF" "account required pam_permit.so"
lb_pam_run --service svc2 --user root acct
lb_expect '^acct PAM_SUCCESS'
lb_pass "not managed"

echo "# the same file for a managed user reaches the broker (and this lie is refused)"
run config="$CONF" -- --user lbxvendor sm-acct
lb_expect '^sm-acct PAM_PERM_DENIED'
grep -q '^GET /v1/access?host=web1&user=lbxvendor' "$FAKE_LOG" || lb_fail "no access call: $(cat "$FAKE_LOG")"
lb_pass "managed user asks the broker"

echo "# explicitly named config missing: PAM_SERVICE_ERR for everyone"
for u in lbxvendor root; do
    run config="$LB_TMP/nonexistent.conf" -- --user "$u" sm-acct sm-open acct
    lb_expect '^sm-acct PAM_SERVICE_ERR'; lb_expect '^sm-open PAM_SERVICE_ERR'
    lb_expect '^acct PAM_SERVICE_ERR'
    lb_expect '^error: lockbox: host configuration error'
done
run config=relative.conf -- --user lbxvendor sm-acct
lb_expect '^sm-acct PAM_SERVICE_ERR'
lb_pass "missing explicit config"

echo "# malformed line: who is managed is unknown, nobody passes"
BAD="$LB_TMP/bad-line.conf"
{ cat "$CONF"; echo "this line has no equals sign"; } >"$BAD"
for u in lbxvendor root; do
    run config="$BAD" -- --user "$u" sm-acct
    lb_expect '^sm-acct PAM_SERVICE_ERR'
done
echo "# unreadable file (a directory)"
run config="$LB_TMP" -- --user lbxvendor sm-acct
lb_expect '^sm-acct PAM_SERVICE_ERR'
lb_pass "malformed/unreadable config"

echo "# bad values: managed users PAM_SERVICE_ERR, others PAM_IGNORE"
for bad in "timeout_ms = soon" "timeout_ms = 5" "broker = http://evil.example" "state_dir = run/lockbox" \
           "no_key_login = allow" "host_name = web1;rm" "debug = maybe" \
           "ssh_services =" "ssh_services = ../sshd"; do
    VB="$LB_TMP/bad-value.conf"
    { cat "$CONF"; echo "$bad"; } >"$VB"
    run config="$VB" -- --user lbxvendor sm-acct sm-open
    lb_expect '^sm-acct PAM_SERVICE_ERR' "[$bad]"; lb_expect '^sm-open PAM_SERVICE_ERR' "[$bad]"
    lb_expect '^error: lockbox: access could not be verified \(host configuration error\)'
    run config="$VB" -- --user root sm-acct
    lb_expect '^sm-acct PAM_IGNORE' "[$bad] for root"
done
lb_pass "bad values"

echo "# bad arguments"
for arg in timeout_ms=0 broker=ftp://x notakeyvalue no_key_login=allow; do
    run config="$CONF" "$arg" -- --user lbxvendor sm-acct
    lb_expect '^sm-acct PAM_SERVICE_ERR' "[$arg]"
done
lb_pass "bad arguments"

echo "# unknown keys (file and argument) are not fatal"
UK="$LB_TMP/unknown.conf"
{ cat "$CONF"; echo "colour = blue"; } >"$UK"
: >"$FAKE_LOG"
run config="$UK" flavour=vanilla -- --user lbxvendor sm-acct
lb_expect '^sm-acct PAM_PERM_DENIED'   # reached the (lying) broker: config accepted
[ -s "$FAKE_LOG" ] || lb_fail "unknown key stopped the module before the broker"
lb_pass "unknown keys"

echo "# arguments override the file"
run config="$CONF" operators=someoneelse -- --user lbxvendor sm-acct
lb_expect '^sm-acct PAM_IGNORE'
run config="$CONF" broker=unix:$LB_TMP/nothing.sock -- --user lbxvendor sm-acct
lb_expect '^sm-acct PAM_PERM_DENIED'
lb_expect '^error: lockbox: access could not be verified \(broker unreachable\); refusing login$'
lb_pass "arguments override"

echo "# a token file that is missing is a configuration error"
run config="$CONF" token_file=$LB_TMP/no-token -- --user lbxvendor sm-acct
lb_expect '^sm-acct PAM_SERVICE_ERR'
lb_pass "missing token file"

echo "# listed under auth the module does not exist for libpam: the stack fails"
lb_pam_service svc3 "auth required $M config=$CONF"
lb_pam_run --service svc3 --user lbxvendor auth
lb_expect_not '^auth PAM_SUCCESS'
lb_pam_run --service svc3 --user root auth
lb_expect_not '^auth PAM_SUCCESS'
lb_pass "not an auth module"

echo "# no prompt, ever"
[ -z "$(grep '^PROMPT' <<<"$LB_OUT")" ] || lb_fail "prompted"
