#!/bin/bash
# A managed account runs nothing through any PAM service but its recorded ssh
# login (DESIGN §11; issue: cron, at and the systemd user manager started work
# for the operator outside the recording).
#
# The common-* files are what pam-auth-update makes of the shipped profile
# (conf/pam-configs/lockbox), run in a private mount namespace so the system's
# /etc/pam.d is never changed. The services are modelled on Debian 12's
# /etc/pam.d/cron, atd, systemd-user, su, login, sudo and sshd. With an
# APPROVED request at a REAL lockboxd (so the broker would say yes):
#  - cron, atd, systemd-user, su, login, sudo: account PAM_PERM_DENIED, and
#    session open refused too (even with a valid per-session key in the PAM
#    environment), a journal entry naming the service;
#  - the ssh service (ssh_services): account and session still work;
#  - sudo typed inside the recorded login (same audit session, record of the
#    same account) passes and leaves the login bound; for another managed
#    account, or after the login closed, it is refused;
#  - accounts that are not managed are not touched on any service.
source "$top_srcdir/tests/integration/lib.sh"
if [ "${LOCKBOX_TEST_UNIT_ONLY:-}" = 1 ]; then echo "SKIP: integration test (LOCKBOX_TEST_UNIT_ONLY=1)"; exit 77; fi
lb_require_root
lb_lock
source "$top_srcdir/tests/integration/lib-broker.sh"
source "$top_srcdir/tests/pam/lib-pam.sh"
lb_pam_setup
lb_start_journald
M="$LB_PAM_MODULE"
H=web1
SSHD=lbx-test-sshd

lb_add_user lbxsop lbxsvc-ops
lb_add_user lbxsappr lbxsvc-apprs
lb_add_user lbxsvendor
lb_add_user lbxsvendor2
lb_add_user lbxsplain
lb_start_broker "operator_group = lbxsvc-ops" "approver_group = lbxsvc-apprs" \
    "auditor_group = lbxsvc-apprs"

STATE="$LB_TMP/state"
CONF="$LB_TMP/lockbox.conf"
cat >"$CONF" <<CONF
broker = unix:$LB_BROKER_SOCK
host_name = $H
operator_group =
operators = lbxsvendor lbxsvendor2
timeout_ms = 3000
state_dir = $STATE
ssh_services = $SSHD, $SSHD-twice
recorder = $LB_TMP/lockbox-record
CONF
# a managed account's login shell is the recorder (pam_lockbox refuses it
# otherwise); the file need not exist for the PAM stack
usermod -s "$LB_TMP/lockbox-record" lbxsvendor
usermod -s "$LB_TMP/lockbox-record" lbxsvendor2

# ---- common-* as pam-auth-update writes them with the profile enabled ---------
GEN="$LB_TMP/gen"
mkdir -p "$GEN/pamd" "$GEN/varlib" "$GEN/configs"
cp -a /etc/pam.d/. "$GEN/pamd/"
[ -d /var/lib/pam ] && cp -a /var/lib/pam/. "$GEN/varlib/"
[ -d /usr/share/pam-configs ] && cp -a /usr/share/pam-configs/. "$GEN/configs/"
cp "$top_srcdir/conf/pam-configs/lockbox" "$GEN/configs/lockbox"
command -v pam-auth-update >/dev/null || { echo "SKIP: no pam-auth-update (Debian's libpam-runtime)"; exit 77; }
unshare -m sh -c "mount --bind '$GEN/pamd' /etc/pam.d && mount --bind '$GEN/varlib' /var/lib/pam &&
    mount --bind '$GEN/configs' /usr/share/pam-configs &&
    DEBIAN_FRONTEND=noninteractive pam-auth-update --enable lockbox" ||
    lb_fail "pam-auth-update --enable lockbox failed"
for f in common-account common-session common-session-noninteractive; do
    grep -Eq "^(account|session)[[:space:]]+required[[:space:]]+pam_lockbox.so" "$GEN/pamd/$f" ||
        lb_fail "the profile did not put pam_lockbox in $f: $(cat "$GEN/pamd/$f")"
    # the build's module, with this test's configuration
    sed "s#[[:space:]]pam_lockbox.so#\t$M config=$CONF#" "$GEN/pamd/$f" >"$LB_PAM_DIR/$f"
done
cp "$GEN/pamd/common-auth" "$LB_PAM_DIR/common-auth"
cp "$GEN/pamd/common-password" "$LB_PAM_DIR/common-password" 2>/dev/null || : >"$LB_PAM_DIR/common-password"
lb_pass "pam-auth-update puts pam_lockbox in common-account, common-session, common-session-noninteractive"

# ---- the services (Debian 12's, trimmed of selinux/motd/mail) --------------------
# libpam 1.5.2 resolves a relative include in /etc/pam.d even under
# pam_start_confdir, so the stacks say "TYPE include /abs/path" (the same as
# "@include" for the stage it names; auth and password are not driven here).
lb_pam_service cron \
    "session required pam_loginuid.so" "session required pam_env.so" \
    "account include $LB_PAM_DIR/common-account" "session include $LB_PAM_DIR/common-session-noninteractive" \
    "session required pam_limits.so"
lb_pam_service atd "account include $LB_PAM_DIR/common-account" \
    "session required pam_loginuid.so" "session include $LB_PAM_DIR/common-session-noninteractive" \
    "session required pam_limits.so" "session required pam_env.so user_readenv=1"
lb_pam_service systemd-user "account include $LB_PAM_DIR/common-account" \
    "session required pam_loginuid.so" "session optional pam_keyinit.so force revoke" \
    "session include $LB_PAM_DIR/common-session-noninteractive"
lb_pam_service su "auth sufficient pam_rootok.so" "session required pam_env.so readenv=1" \
    "session required pam_limits.so" "account include $LB_PAM_DIR/common-account" \
    "session include $LB_PAM_DIR/common-session"
lb_pam_service login "auth requisite pam_nologin.so" "session required pam_loginuid.so" \
    "session required pam_limits.so" "account include $LB_PAM_DIR/common-account" \
    "session include $LB_PAM_DIR/common-session"
lb_pam_service sudo "session required pam_limits.so" \
    "account include $LB_PAM_DIR/common-account" "session include $LB_PAM_DIR/common-session-noninteractive"
lb_pam_service "$SSHD" "account required pam_nologin.so" \
    "account include $LB_PAM_DIR/common-account" "session required pam_loginuid.so" \
    "session optional pam_keyinit.so force revoke" "session include $LB_PAM_DIR/common-session" \
    "session required pam_limits.so" "session required pam_env.so" \
    "session required pam_env.so user_readenv=1 envfile=/etc/default/locale"

# ---- an approved request with a registered key: the broker would say yes -------
api() { lb_broker_api "$@"; }
R1=$(api POST /v1/requests "{\"hosts\":[\"$H\"],\"user\":\"lbxsvendor\",\"reason\":\"services test\",\"ticket\":\"T-11\",\"duration_s\":3600}" lbxsop |
    lb_broker_json "j['id']")
api POST "/v1/requests/$R1/approve" '{"comment":"ok"}' lbxsappr >/dev/null
req_key() { # id file
    ssh-keygen -q -t ed25519 -N '' -C test -f "$2" </dev/null
    api POST "/v1/requests/$1/keys" "$(python3 -c 'import json,sys; print(json.dumps({"public_key": open(sys.argv[1]).read().strip()}))' "$2.pub")" lbxsop >/dev/null
}
authinfo() { echo "publickey $(cut -d' ' -f1,2 "$1.pub")"; }
K1="$LB_TMP/k1"; req_key "$R1" "$K1"
K2="$LB_TMP/k2"; req_key "$R1" "$K2"
lb_pam_run --service "$SSHD" --user lbxsvendor acct
lb_expect '^acct PAM_SUCCESS'
lb_pass "the request is approved: the broker allows lbxsvendor"

journal_has() { # MESSAGE_ID FIELD=VALUE...
    local mid=$1; shift
    lb_wait_for 50 sh -c "journalctl --no-pager -o cat SYSLOG_IDENTIFIER=pam_lockbox MESSAGE_ID=$mid $* | grep -q ." ||
        lb_fail "no journal entry MESSAGE_ID=$mid $*"
}
SERVICE_REFUSED=$(sed -n 's/.*LB_MID_SERVICE_REFUSED *"\([0-9a-f]*\)".*/\1/p' "$top_srcdir/pam_lockbox/pam_lockbox.h")
[ -n "$SERVICE_REFUSED" ] || lb_fail "no LB_MID_SERVICE_REFUSED in pam_lockbox.h"

# ---- every other service: refused at account, and again at session open ---------
for svc in cron atd systemd-user su login sudo; do
    echo "# $svc"
    lb_pam_run --service "$svc" --user lbxsvendor acct
    lb_expect '^acct PAM_PERM_DENIED' "$svc account"
    lb_expect "^error: lockbox: lbxsvendor is a managed account: it is used only through its recorded ssh login, not through $svc; refusing\$" "$svc account"
    journal_has "$SERVICE_REFUSED" PAM_SERVICE="$svc" LOCKBOX_USER=lbxsvendor LOCKBOX_STAGE=account LOCKBOX_DECISION=deny
    # second layer: a session open without the account stage (as a service
    # that skips pam_acct_mgmt would), even carrying a valid per-session key
    lb_pam_run --service "$svc" --user lbxsvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K2")" open
    lb_expect '^open PAM_SESSION_ERR' "$svc session"
    lb_expect_not '^env: LOCKBOX_SESSION' "$svc session"
    journal_has "$SERVICE_REFUSED" PAM_SERVICE="$svc" LOCKBOX_USER=lbxsvendor LOCKBOX_STAGE=session-open
    # an account that is not managed is not touched
    lb_pam_run --service "$svc" --user lbxsplain acct
    lb_expect '^acct PAM_SUCCESS' "$svc, unmanaged account"
    lb_pass "$svc: managed account refused (account and session), others unaffected"
done
[ ! -d "$STATE/sessions" ] || [ -z "$(ls -A "$STATE/sessions")" ] || lb_fail "a refused service left a session record"

# ---- the ssh service still works, and sudo inside its login ------------------------
echo "# ssh login, then sudo typed inside it"
SUDO_RUN=("$LB_PAM_RUN" --confdir "$LB_PAM_DIR" --service sudo)
lb_pam_run --service "$SSHD" --user lbxsvendor --rhost 127.0.0.1 --tty ssh \
    --putenv "SSH_AUTH_INFO_0=$(authinfo "$K1")" acct open \
    exec "${SUDO_RUN[@]}" --user lbxsvendor acct open close
lb_expect '^acct PAM_SUCCESS'
lb_expect '^open PAM_SUCCESS'
lb_expect "^env: LOCKBOX_REQUEST=$R1\$"
lb_expect '^exec exit=0$'
# the nested run's lines follow the outer open
nested=$(sed -n '/^env: LOCKBOX_SESSION/,$p' <<<"$LB_OUT")
grep -q '^acct PAM_SUCCESS' <<<"$nested" || lb_fail "sudo inside the login: account refused"
grep -q '^open PAM_SUCCESS' <<<"$nested" || lb_fail "sudo inside the login: session refused"
grep -q '^close PAM_SUCCESS' <<<"$nested" || lb_fail "sudo inside the login: close failed"
S1=$(sed -n 's/^env: LOCKBOX_SESSION=//p' <<<"$LB_OUT")
[ "$(ls "$STATE/sessions" | wc -l)" = 1 ] || lb_fail "the nested close removed the login's record"
[ "$(api GET "/v1/sessions/$S1" '' | lb_broker_json "j['state']")" = open ] ||
    lb_fail "the nested close ended the login's broker session"
lb_pass "ssh service: account and session work; sudo inside the login passes and leaves it bound ($S1)"

echo "# inside the login, sudo for another managed account is refused"
K3="$LB_TMP/k3"; req_key "$R1" "$K3"
lb_pam_run --service "$SSHD" --user lbxsvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K3")" open \
    exec "${SUDO_RUN[@]}" --user lbxsvendor2 acct open
lb_expect '^open PAM_SUCCESS'
nested=$(sed -n '/^env: LOCKBOX_SESSION/,$p' <<<"$LB_OUT")
grep -q '^acct PAM_PERM_DENIED' <<<"$nested" || lb_fail "sudo as another managed account passed the account stage"
grep -q '^open PAM_SESSION_ERR' <<<"$nested" || lb_fail "sudo as another managed account opened a session"
lb_pass "another managed account inside the login: refused"

echo "# after the login closed, the same process is refused"
K4="$LB_TMP/k4"; req_key "$R1" "$K4"
lb_pam_run --service "$SSHD" --user lbxsvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K4")" open close \
    exec "${SUDO_RUN[@]}" --user lbxsvendor acct
lb_expect '^open PAM_SUCCESS'
lb_expect '^close PAM_SUCCESS'
nested=$(sed -n '/^close PAM_SUCCESS/,$p' <<<"$LB_OUT")
grep -q '^acct PAM_PERM_DENIED' <<<"$nested" || lb_fail "sudo after the login closed passed"
lb_pass "after close: refused"

echo "# listed twice (lockbox-sshd included and the profile on): the login is bound once"
K5="$LB_TMP/k5"; req_key "$R1" "$K5"
lb_pam_service "$SSHD-twice" "account include $LB_PAM_DIR/common-account" \
    "account required $M config=$CONF" "session required pam_loginuid.so" \
    "session required $M config=$CONF" "session include $LB_PAM_DIR/common-session"
lb_pam_run --service "$SSHD-twice" --user lbxsvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K5")" acct open close
lb_expect '^acct PAM_SUCCESS'
lb_expect '^open PAM_SUCCESS'
lb_expect '^close PAM_SUCCESS'
[ "$(grep -c '^info: lockbox: session s-' <<<"$LB_OUT")" = 1 ] || lb_fail "bound more than once"
lb_pass "pam_lockbox listed twice: one session, opened and closed"

echo "# a service not named in ssh_services is refused even for the ssh stack"
cp "$LB_PAM_DIR/$SSHD" "$LB_PAM_DIR/sshd-other"
lb_pam_run --service sshd-other --user lbxsvendor acct
lb_expect '^acct PAM_PERM_DENIED'
lb_pass "only the services named in ssh_services are the ssh login"
