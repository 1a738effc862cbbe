#!/bin/bash
# pam_lockbox against a REAL lockboxd (unix socket, SQLite file): every row the
# broker can answer. Account: none, pending, approved, denied, expired,
# revoked, withdrawn. Session: a registered per-session key opens a session
# bound to its request (record file, modes, environment), the key is consumed,
# close ends it at the broker and removes the record; no key, a password
# login, an unknown key and a missing audit session are refused.
# Root: real accounts (pam_loginuid needs them), the broker's roles by uid.
source "$top_srcdir/tests/integration/lib.sh"
if [ "${LOCKBOX_TEST_UNIT_ONLY:-}" = 1 ]; then echo "SKIP: integration test (LOCKBOX_TEST_UNIT_ONLY=1)"; exit 77; fi
lb_require_root
lb_lock
source "$top_srcdir/tests/integration/lib-broker.sh"
source "$top_srcdir/tests/pam/lib-pam.sh"
lb_pam_setup
lb_start_journald
lb_start_auditd
# audit_has REGEX: an AUDIT_USER record of pam_lockbox (when kernel audit is on)
AUDIT_ON=0
if auditctl -s 2>/dev/null | grep -q '^enabled [12]'; then AUDIT_ON=1; fi
audit_has() {
    [ "$AUDIT_ON" = 1 ] || return 0
    lb_audit_flush
    lb_wait_for 100 sh -c "cat /var/log/audit/audit.log* | grep -a -q -- '$1'" ||
        lb_fail "no auditd record /$1/"
}
M="$LB_PAM_MODULE"
H=web1
# journal_has MESSAGE_ID FIELD=VALUE...: an entry of pam_lockbox with these fields
journal_has() {
    local mid=$1; shift
    lb_wait_for 50 sh -c "journalctl --no-pager -o cat SYSLOG_IDENTIFIER=pam_lockbox MESSAGE_ID=$mid $* | grep -q ." ||
        lb_fail "no journal entry MESSAGE_ID=$mid $*"
}

# broker roles come from these groups; the host side manages lbxpvendor by list
lb_add_user lbxpop lbxpam-ops
lb_add_user lbxpappr lbxpam-apprs
lb_add_user lbxpvendor
lb_add_user lbxpplain
lb_start_broker "operator_group = lbxpam-ops" "approver_group = lbxpam-apprs" \
    "auditor_group = lbxpam-apprs"

STATE="$LB_TMP/state"
CONF="$LB_TMP/lockbox.conf"
REC="$LB_TMP/libexec/lockbox-record"
cat >"$CONF" <<CONF
broker = unix:$LB_BROKER_SOCK
host_name = $H
operator_group = lbxpam-nonexistent
operators = lbxpvendor
timeout_ms = 3000
state_dir = $STATE
# the services below stand for sshd's (pam_lockbox refuses managed accounts
# on every other service: tests/pam/pam-services.sh)
ssh_services = acct sess sess-noluid
recorder = $REC
CONF
# a managed account's login shell is the recorder (pam_lockbox refuses it
# otherwise); the file need not exist for the account stage
usermod -s "$REC" lbxpvendor
lb_pam_service acct "account required $M config=$CONF"
lb_pam_service sess "session required pam_loginuid.so" "session required $M config=$CONF"
# the same without pam_loginuid, for runs that set their audit session themselves
lb_pam_service sess-noluid "session required $M config=$CONF"

api() { lb_broker_api "$@"; }
req_new() { # user duration
    api POST /v1/requests "{\"hosts\":[\"$H\"],\"user\":\"$1\",\"reason\":\"pam test\",\"ticket\":\"T-7\",\"duration_s\":${2:-3600}}" lbxpop |
        lb_broker_json "j['id']"
}
req_key() { # id file
    rm -f "$2" "$2.pub"
    ssh-keygen -q -t ed25519 -N '' -C test -f "$2" </dev/null
    api POST "/v1/requests/$1/keys" "$(python3 -c 'import json,sys; print(json.dumps({"public_key": open(sys.argv[1]).read().strip()}))' "$2.pub")" lbxpop >/dev/null
}
authinfo() { echo "publickey $(cut -d' ' -f1,2 "$1.pub")"; }
acct() { lb_pam_run --service acct --user "${1:-lbxpvendor}" --module "$M" --arg config="$CONF" acct; }
refused_with() { # regex
    lb_expect '^acct PAM_PERM_DENIED'
    lb_expect "^error: lockbox: access refused: .*$1"
    lb_expect "^error: lockbox: ask for access: lockboxctl request --host $H --user lbxpvendor"
    lb_expect_not '^info: lockbox: access granted'
}

echo "# not managed: PAM_IGNORE, nothing said, nothing asked"
lb_pam_run --service acct --user lbxpplain --module "$M" --arg config="$CONF" sm-acct sm-open sm-close
lb_expect '^sm-acct PAM_IGNORE'; lb_expect '^sm-open PAM_IGNORE'; lb_expect '^sm-close PAM_IGNORE'
[ "$(lb_pam_messages)" = 0 ] || lb_fail "an unmanaged user was told something"
lb_pass "not managed"

echo "# no request at all"
acct
refused_with "no approved request"
lb_pass "none: refused with why and how to ask"

echo "# pending"
R1=$(req_new lbxpvendor 3600)
acct
refused_with "$R1.*pending|pending.*$R1"
lb_pass "pending: refused"

echo "# approved"
api POST "/v1/requests/$R1/approve" '{"comment":"ok"}' lbxpappr >/dev/null
NA=$(api GET "/v1/requests/$R1" '' lbxpappr | lb_broker_json "j['not_after']")
END=$(date -u -d "$NA" '+%Y-%m-%d %H:%M UTC')
usermod -s /bin/bash lbxpvendor
acct
lb_expect '^acct PAM_PERM_DENIED'
lb_expect "^error: lockbox: this account is not set up for recorded access \\(its login shell must be $REC\\); refusing login\$"
lb_expect_not '^info: lockbox: access granted'
usermod -s "$REC" lbxpvendor
lb_pass "approved, but the login shell is bash (it would run ~/.bashrc before the recorder): refused"
acct
lb_expect '^acct PAM_SUCCESS'
lb_expect "^info: lockbox: access granted by request $R1 \\(lbxpop\\), until $END \\((59m|1h)[0-9ms]* left\\)\$"
[ "$(lb_pam_messages)" = 1 ] || lb_fail "expected exactly one message"
journal_has f8ffa5333fd64814ac81136c5bae408a LOCKBOX_REQUEST=$R1 LOCKBOX_USER=lbxpvendor \
    LOCKBOX_HOST=$H LOCKBOX_DECISION=allow LOCKBOX_OPERATOR=lbxpop PAM_SERVICE=acct
journal_has 3fafd2476f2c41b690d06294ed1d7920 LOCKBOX_USER=lbxpvendor LOCKBOX_DECISION=deny
audit_has "op=lockbox-account acct=\"lbxpvendor\" lockbox_host=\"$H\" lockbox_request=\"$R1\".*lockbox_decision=allow.*res=success"
audit_has "op=lockbox-account acct=\"lbxpvendor\".*lockbox_decision=deny.*res=failed"
lb_pass "approved: PAM_SUCCESS, names $R1 and $END; allow and deny decisions in the journal$([ "$AUDIT_ON" = 1 ] && echo " and auditd" || echo " (kernel audit off: auditd not checked)")"

echo "# approved, but for another account: still refused"
acct lbxpop >/dev/null 2>&1 || true
lb_pam_run --service acct --user lbxpvendor2 --module "$M" --arg config="$CONF" --arg operators=lbxpvendor2 sm-acct
lb_expect '^sm-acct PAM_PERM_DENIED'
lb_pass "approval is per account"

# ---- session ------------------------------------------------------------
K1="$LB_TMP/k1"
req_key "$R1" "$K1"

echo "# session: open with the registered key, then close in the same handle"
lb_pam_run --service sess --user lbxpvendor --rhost 127.0.0.1 --tty ssh \
    --putenv "SSH_AUTH_INFO_0=$(authinfo "$K1")" open
lb_expect '^open PAM_SUCCESS'
lb_expect "^env: LOCKBOX_REQUEST=$R1\$"
lb_expect '^env: LOCKBOX_SESSION=s-[0-9a-f]+$'
lb_expect "^env: LOCKBOX_NOT_AFTER=$NA\$"
lb_expect "^info: lockbox: session s-[0-9a-f]+ bound to request $R1 \\(lbxpop\\); access ends $END"
S1=$(sed -n 's/^env: LOCKBOX_SESSION=//p' <<<"$LB_OUT")
# pam-run exited without closing (as a crashed sshd would): the record stays
rec=$(ls "$STATE/sessions"/*.json)
[ "$(wc -l <<<"$rec")" = 1 ] || lb_fail "expected one record: $rec"
[ "$(stat -c %a "$STATE/sessions")" = 700 ] || lb_fail "sessions dir mode $(stat -c %a "$STATE/sessions")"
[ "$(stat -c '%a %U' "$rec")" = "600 root" ] || lb_fail "record mode/owner $(stat -c '%a %U' "$rec")"
python3 - "$rec" "$S1" "$R1" "$NA" <<'PY' || lb_fail "record content"
import json, sys, os
path, s, r, na = sys.argv[1:]
j = json.load(open(path))
ses = int(os.path.basename(path)[:-5])
want = {"session": s, "request": r, "operator": "lbxpop", "user": "lbxpvendor",
        "host": "web1", "not_after": na, "audit_session": ses}
for k, v in want.items():
    assert j[k] == v, (k, j[k], v)
for k in ("remaining_s", "mono_ms", "sshd_pid"):
    assert isinstance(j[k], int) and j[k] > 0, k
assert 3000 < j["remaining_s"] <= 3600, j["remaining_s"]
assert j["created_at"].endswith("Z")
print("record ok:", j)
PY
api GET "/v1/sessions/$S1" '' | lb_broker_json "j['state']" | grep -qx open || lb_fail "broker session not open"
rm -f "$rec"
lb_pass "session open: bound, record written (0700/0600 root), environment set"

echo "# the key is consumed: a second open with it is refused"
lb_pam_run --service sess --user lbxpvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K1")" open
lb_expect '^open PAM_SESSION_ERR'
lb_expect '^error: lockbox: session refused by the broker: '
lb_expect_not '^env: LOCKBOX_'
[ -z "$(ls -A "$STATE/sessions")" ] || lb_fail "record written for a refused session"
lb_pass "a key opens one session"

echo "# open and close in one handle: ended at the broker, record removed"
K2="$LB_TMP/k2"
req_key "$R1" "$K2"
lb_pam_run --service sess --user lbxpvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K2")" open close
lb_expect '^open PAM_SUCCESS'; lb_expect '^close PAM_SUCCESS'
S2=$(sed -n 's/^env: LOCKBOX_SESSION=//p' <<<"$LB_OUT")
[ -z "$(ls -A "$STATE/sessions")" ] || lb_fail "record not removed at close"
api GET "/v1/sessions/$S2" '' | lb_broker_json "j['state']" | grep -qx ended || lb_fail "session $S2 not ended"
journal_has fee6f710a5e140ba96efd3ff648ea23b LOCKBOX_SESSION=$S2 LOCKBOX_REQUEST=$R1 LOCKBOX_DECISION=open
journal_has 6cb81570155c447983efc5fcace76235 LOCKBOX_SESSION=$S2 LOCKBOX_DECISION=close
audit_has "op=lockbox-session-open .*lockbox_request=\"$R1\" lockbox_session=\"$S2\".*res=success"
audit_has "op=lockbox-session-close .*lockbox_session=\"$S2\".*res=success"
lb_pass "close ends $S2 at the broker and removes the record; open and close in the journal (and auditd when on)"

echo "# open and close in separate handles (same audit session): close finds the record"
K3="$LB_TMP/k3"
req_key "$R1" "$K3"
(
    echo 0 >/proc/self/loginuid # this subshell's own audit session, inherited below
    lb_pam_run --service sess-noluid --user lbxpvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K3")" open
    lb_expect '^open PAM_SUCCESS'
    sed -n 's/^env: LOCKBOX_SESSION=//p' <<<"$LB_OUT" >"$LB_TMP/s3"
    [ -n "$(ls -A "$STATE/sessions")" ] || lb_fail "no record"
    lb_pam_run --service sess-noluid --user lbxpvendor close
    lb_expect '^close PAM_SUCCESS'
)
S3=$(cat "$LB_TMP/s3")
[ -z "$(ls -A "$STATE/sessions")" ] || lb_fail "record not removed at close"
api GET "/v1/sessions/$S3" '' | lb_broker_json "j['state']" | grep -qx ended || lb_fail "session $S3 not ended"
lb_pass "close from the record"

echo "# managed login without a per-session key: refused at session open"
for info in "" "password" "keyboard-interactive"; do
    lb_pam_run --service sess --user lbxpvendor ${info:+--putenv "SSH_AUTH_INFO_0=$info"} open
    lb_expect '^open PAM_SESSION_ERR'
    lb_expect '^error: lockbox: lbxpvendor is a managed account: log in with the per-session key of an approved request \(lockboxctl connect\); refusing session$'
    lb_expect_not '^env: LOCKBOX_'
done
[ -z "$(ls -A "$STATE/sessions")" ] || lb_fail "record written for a keyless session"
journal_has f7d37a2112674a48b14806237e606589 LOCKBOX_USER=lbxpvendor LOCKBOX_DECISION=refuse
lb_pass "no key (console/su/password/keyboard-interactive): refused, nothing recorded"

echo "# a key the broker does not know: refused"
ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/stranger" </dev/null
lb_pam_run --service sess --user lbxpvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$LB_TMP/stranger")" open
lb_expect '^open PAM_SESSION_ERR'
lb_expect '^error: lockbox: session refused by the broker: '
lb_pass "unknown key refused"

echo "# no audit session id (no pam_loginuid before pam_lockbox): refused"
if [ "$(cat /proc/self/sessionid)" = 4294967295 ]; then
    K4="$LB_TMP/k4"
    req_key "$R1" "$K4"
    lb_pam_run --service sess-noluid --user lbxpvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K4")" open
    lb_expect '^open PAM_SESSION_ERR'
    lb_expect '^error: lockbox: this login has no audit session \(pam_loginuid.so must come before pam_lockbox.so\); refusing session$'
    lb_pass "no audit session: refused before the key is spent"
    # ... and the key was not spent: it still opens a proper session
    lb_pam_run --service sess --user lbxpvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K4")" open close
    lb_expect '^open PAM_SUCCESS'
else
    echo "# (this test runs inside an audit session already; row not checkable here)"
fi

echo "# revoked: account refused, and the broker ends open sessions"
K5="$LB_TMP/k5"
req_key "$R1" "$K5"
lb_pam_run --service sess --user lbxpvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K5")" open
S5=$(sed -n 's/^env: LOCKBOX_SESSION=//p' <<<"$LB_OUT")
rm -f "$STATE"/sessions/*.json
api POST "/v1/requests/$R1/revoke" '{"reason":"enough for today"}' lbxpappr >/dev/null
acct
refused_with "revoked"
api GET "/v1/sessions/$S5" '' | lb_broker_json "j['allow']" | grep -qx false || lb_fail "revoked session still allowed"
lb_pass "revoked: refused"

echo "# denied"
R2=$(req_new lbxpvendor 3600)
api POST "/v1/requests/$R2/deny" '{"reason":"not today"}' lbxpappr >/dev/null
acct
refused_with "denied"
lb_pass "denied: refused"

echo "# withdrawn"
R3=$(req_new lbxpvendor 3600)
api POST "/v1/requests/$R3/withdraw" '{}' lbxpop >/dev/null
acct
refused_with "withdrawn"
lb_pass "withdrawn: refused"

echo "# expired (approved for 2 s)"
R4=$(req_new lbxpvendor 2)
api POST "/v1/requests/$R4/approve" '{}' lbxpappr >/dev/null
K6="$LB_TMP/k6"
req_key "$R4" "$K6"
lb_wait_for 100 sh -c "! '$LB_PAM_RUN' --confdir '$LB_PAM_DIR' --service acct --user lbxpvendor acct | grep -q PAM_SUCCESS" ||
    lb_fail "access did not end"
acct
refused_with "expired"
lb_pam_run --service sess --user lbxpvendor --putenv "SSH_AUTH_INFO_0=$(authinfo "$K6")" open
lb_expect '^open PAM_SESSION_ERR'
lb_pass "expired: account and session refused"

echo "# group lookup fails: treated as managed (fail closed)"
# A group whose /etc/group line is larger than the lookup buffer makes
# getgrnam_r fail with ERANGE; lbxpplain is not in it, but the module cannot
# know that and must ask the broker (which says no) instead of ignoring.
groupadd lbxpam-huge
lb_defer "groupdel lbxpam-huge"
python3 - <<'PY'
import os
members = ",".join("lbxm%05d" % i for i in range(4000))
lines = open("/etc/group").read().splitlines(True)
out = [l.rstrip("\n") + members + "\n" if l.startswith("lbxpam-huge:") else l for l in lines]
tmp = "/etc/group.lbxpam"
with open(tmp, "w") as f:
    f.writelines(out)
os.chmod(tmp, 0o644)
os.rename(tmp, "/etc/group")
PY
lb_pam_run --service acct --user lbxpplain --module "$M" --arg config="$CONF" \
    --arg operator_group=lbxpam-huge sm-acct
lb_expect '^sm-acct PAM_PERM_DENIED'
lb_expect '^error: lockbox: access refused: no approved request for lbxpplain'
lb_pass "group lookup failure: managed"

echo "# the broker stopped: fail closed"
lb_stop_pid "$LB_BROKER_PID"
acct
lb_expect '^acct PAM_PERM_DENIED'
lb_expect '^error: lockbox: access could not be verified \(broker unreachable\); refusing login$'
journal_has 47c9182175d34e938722b01f85ecfc04 LOCKBOX_USER=lbxpvendor LOCKBOX_DECISION=error
lb_pass "broker stopped: refused"
