#!/bin/bash
# lockboxctl against a real lockboxd on its unix socket, as different local
# users: request -> pending -> approve -> show -> revoke and the other
# lifecycles, exit statuses (0 / 1 refusal / 2 usage), --json for scripts,
# terminal safety of tables and error messages, and audit --verify finding
# an event altered in the store.
. "$(dirname "$0")/lib.sh"
lb_require_root
lb_lock
[ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ] && { echo "SKIP: integration test (LOCKBOX_TEST_UNIT_ONLY=1)"; exit 77; }
. "$(dirname "$0")/lib-broker.sh"
. "$(dirname "$0")/api-lib.sh"
lb_tmpdir

G_OP=lbx-cf-operators G_AP=lbx-cf-approvers G_AUD=lbx-cf-auditors
lb_add_user lbx-cf-op $G_OP
lb_add_user lbx-cf-op2 $G_OP
lb_add_user lbx-cf-ap1 $G_AP
lb_add_user lbx-cf-ap2 $G_AP
lb_add_user lbx-cf-aud $G_AUD
OP=lbx-cf-op OP2=lbx-cf-op2 AP=lbx-cf-ap1 AP2=lbx-cf-ap2 AUD=lbx-cf-aud

lb_start_broker "operator_group = $G_OP" "approver_group = $G_AP" "auditor_group = $G_AUD"

# ---------------------------------------------------------------- usage errors (exit 2)
WHAT="no command"; ctl_want 2 $OP
WHAT="unknown command"; ctl_want 2 $OP frobnicate
WHAT="unknown global option"; ctl_want 2 $OP --frob health
WHAT="bad --broker"; ctl_want 2 $OP --broker http://127.0.0.1:1 health
WHAT="bad --timeout"; ctl_want 2 $OP --timeout 0 health
WHAT="--version"; ctl_want 0 $OP --version; grep -q '^lockboxctl [0-9]' <<<"$CTL_OUT" || lb_fail "version: $CTL_OUT"
WHAT="--help"; ctl_want 0 $OP --help; grep -q 'audit \[--request ID\]' <<<"$CTL_OUT" || lb_fail "help: $CTL_OUT"
for c in request list show pending approve deny revoke withdraw complete audit token health; do
    WHAT="$c --help"; ctl_want 0 $OP $c --help
    grep -q "Usage: lockboxctl $c" <<<"$CTL_OUT" || lb_fail "$c --help: $CTL_OUT"
done
WHAT="broker down"; ctl_want 1 $OP --broker unix:$LB_TMP/none.sock health
grep -q 'cannot reach the broker' <<<"$CTL_ERR" || lb_fail "broker down message: $CTL_ERR"

WHAT="request without --ticket"; ctl_want 2 $OP request --host web1 --user vendor --reason r
grep -q -- '--ticket is required' <<<"$CTL_ERR" || lb_fail "missing --ticket message: $CTL_ERR"
WHAT="request without --host"; ctl_want 2 $OP request --user vendor --reason r --ticket t
WHAT="request with a bad --duration"; ctl_want 2 $OP request --host web1 --user vendor --reason r --ticket t --duration 2y
WHAT="request with --approvals 0"; ctl_want 2 $OP request --host web1 --user vendor --reason r --ticket t --approvals 0
WHAT="request with a stray argument"; ctl_want 2 $OP request extra --host web1 --user vendor --reason r --ticket t
WHAT="show without id"; ctl_want 2 $OP show
WHAT="show with a path as id"; ctl_want 2 $OP show ../tokens
WHAT="show with ESC in the id"; ctl_want 2 $OP show $'r-\e[2J\e]0;x\a'
grep -qF '\x1b[2J' <<<"$CTL_ERR" || lb_fail "bad id not shown escaped: $CTL_ERR"
WHAT="deny without --reason"; ctl_want 2 $AP deny r-000000000000
WHAT="revoke without --reason"; ctl_want 2 $AP revoke r-000000000000
WHAT="list with a bad state"; ctl_want 2 $AP list --state bogus
WHAT="token with a bad role"; ctl_want 2 root token create --principal x --role god
WHAT="host token without --host"; ctl_want 2 root token create --principal web1 --role host
WHAT="token without subcommand"; ctl_want 2 root token
WHAT="audit --verify with --request"; ctl_want 2 $AUD audit --verify --request r-000000000000
WHAT="invalid UTF-8 reason"; ctl_want 2 $OP request --host web1 --user vendor --reason $'bad \xff' --ticket t

# ---------------------------------------------------------------- health
WHAT="health"; ctl_want 0 $OP health; grep -q 'broker ok, store ok' <<<"$CTL_OUT" || lb_fail "health: $CTL_OUT"
WHAT="health --json"; ctl_want 0 $OP --json health; [ "$(jq -r .status <<<"$CTL_OUT")" = ok ] || lb_fail "health json: $CTL_OUT"

# ---------------------------------------------------------------- request -> approve -> show -> revoke
WHAT="request"; ctl_want 0 $OP request --host web1 --host web2 --user vendor --reason "disk full on /var" --ticket INC-1042 --duration 2h
R1=$(grep -o 'r-[0-9a-f]\{12\}' <<<"$CTL_OUT" | head -n1)
[ -n "$R1" ] || lb_fail "request printed no id: $CTL_OUT"
grep -q "Request $R1 created (pending)" <<<"$CTL_OUT" || lb_fail "request output: $CTL_OUT"
grep -q "Waiting for 1 approval from: $AP, $AP2\|Waiting for 1 approval from: $AP2, $AP" <<<"$CTL_OUT" || lb_fail "approvers: $CTL_OUT"
grep -q 'Expires unanswered: .* UTC (in 3d23h\|in 4d)' <<<"$CTL_OUT" || lb_fail "pending expiry: $CTL_OUT"

WHAT="request --json"; ctl_want 0 $OP --json request --host web3 --user vendor --reason r --ticket T-2 --duration 30m --approvals 2
R2=$(jq -r .id <<<"$CTL_OUT")
[ "$(jq -r .duration_s <<<"$CTL_OUT")" = 1800 ] && [ "$(jq -r .approvals_required <<<"$CTL_OUT")" = 2 ] ||
    lb_fail "request --json: $CTL_OUT"

WHAT="pending as approver"; ctl_want 0 $AP pending
grep -q "^$R1 *pending *$OP *web1, web2 *vendor *INC-1042 *expires in" <<<"$CTL_OUT" || lb_fail "pending table: $CTL_OUT"
grep -q "^$R2 " <<<"$CTL_OUT" || lb_fail "pending lacks $R2: $CTL_OUT"
head -n1 <<<"$CTL_OUT" | grep -q '^ID *STATE *OPERATOR *HOSTS *USER *TICKET *WHEN *REASON$' || lb_fail "pending header: $CTL_OUT"
WHAT="pending as operator (no approver role)"; ctl $OP pending
grep -q "$R1" <<<"$CTL_OUT" && lb_fail "an operator is offered their own request to approve"

WHAT="show as approver"; ctl_want 0 $AP show "$R1"
grep -q '^State *pending (expires in' <<<"$CTL_OUT" && grep -q '^Reason *disk full on /var$' <<<"$CTL_OUT" &&
    grep -q '^Duration *2h$' <<<"$CTL_OUT" && grep -q '^Approvals *0 of 1 required$' <<<"$CTL_OUT" ||
    lb_fail "show: $CTL_OUT"

WHAT="operator approves own request"; ctl_want 1 $OP approve "$R1"
grep -q "^lockboxctl: approve $R1: forbidden" <<<"$CTL_ERR" || lb_fail "self-approval message: $CTL_ERR"
WHAT="approve"; ctl_want 0 $AP approve "$R1" --comment "ok, go"
grep -q "^$R1: approved; access until .* UTC (in 1h59m\|in 2h)" <<<"$CTL_OUT" || lb_fail "approve output: $CTL_OUT"
WHAT="approve again"; ctl_want 1 $AP2 approve "$R1"
grep -q "^lockboxctl: approve $R1: conflict" <<<"$CTL_ERR" || lb_fail "conflict message: $CTL_ERR"
WHAT="deny an approved request"; ctl_want 1 $AP2 deny "$R1" --reason late
WHAT="show approved as operator"; ctl_want 0 $OP show "$R1"
grep -q '^State *approved (ends in 1h59m\|^State *approved (ends in 2h' <<<"$CTL_OUT" || lb_fail "approved state: $CTL_OUT"
grep -q "^ *$AP at .* UTC (.*): ok, go$" <<<"$CTL_OUT" || lb_fail "approval line: $CTL_OUT"
grep -q '^Not after ' <<<"$CTL_OUT" && grep -q '^Remaining *1h59m\|^Remaining *2h' <<<"$CTL_OUT" || lb_fail "times: $CTL_OUT"
WHAT="another operator shows it"; ctl_want 1 $OP2 show "$R1"
WHAT="list --json as operator"; ctl_want 0 $OP --json list --state approved
[ "$(jq -r '[.requests[].id]|join(",")' <<<"$CTL_OUT")" = "$R1" ] || lb_fail "list --json: $CTL_OUT"
WHAT="operator revokes"; ctl_want 1 $OP revoke "$R1" --reason x
WHAT="revoke"; ctl_want 0 $AP2 revoke "$R1" --reason "work is done"
grep -q "^$R1: revoked.$" <<<"$CTL_OUT" || lb_fail "revoke output: $CTL_OUT"
WHAT="show revoked"; ctl_want 0 $AUD show "$R1"
grep -q '^State *revoked (ended ' <<<"$CTL_OUT" && grep -q "^Ended by *$AP2$" <<<"$CTL_OUT" &&
    grep -q '^End reason *work is done$' <<<"$CTL_OUT" || lb_fail "revoked show: $CTL_OUT"
WHAT="complete a revoked request"; ctl_want 1 $OP complete "$R1"

# two approvals: pending leaves out what I approved already
WHAT="first of two"; ctl_want 0 $AP approve "$R2"
grep -q "^$R2: approval recorded (1 of 2); still pending.$" <<<"$CTL_OUT" || lb_fail "first of two: $CTL_OUT"
WHAT="pending after approving"; ctl_want 0 $AP pending
grep -q "$R2" <<<"$CTL_OUT" && lb_fail "pending offers a request I approved already: $CTL_OUT"
WHAT="pending for the second approver"; ctl_want 0 $AP2 pending; grep -q "$R2" <<<"$CTL_OUT" || lb_fail "pending (2nd): $CTL_OUT"
WHAT="second of two"; ctl_want 0 $AP2 approve "$R2"; grep -q "^$R2: approved; access until" <<<"$CTL_OUT" || lb_fail "2nd: $CTL_OUT"
WHAT="complete"; ctl_want 0 $OP complete "$R2"; grep -q "^$R2: completed.$" <<<"$CTL_OUT" || lb_fail "complete: $CTL_OUT"

# withdraw and deny
ctl_want 0 $OP --json request --host web4 --user vendor --reason r --ticket t; R3=$(jq -r .id <<<"$CTL_OUT")
WHAT="withdraw another's"; ctl_want 1 $OP2 withdraw "$R3"
WHAT="withdraw"; ctl_want 0 $OP withdraw "$R3"; grep -q "^$R3: withdrawn.$" <<<"$CTL_OUT" || lb_fail "withdraw: $CTL_OUT"
ctl_want 0 $OP --json request --host web4 --user vendor --reason r --ticket t; R4=$(jq -r .id <<<"$CTL_OUT")
WHAT="deny"; ctl_want 0 $AP deny "$R4" --reason "not in a change window"
grep -q "^$R4: denied.$" <<<"$CTL_OUT" || lb_fail "deny: $CTL_OUT"
WHAT="approve denied"; ctl_want 1 $AP2 approve "$R4"
grep -q "^lockboxctl: approve $R4: conflict: " <<<"$CTL_ERR" || lb_fail "denied conflict: $CTL_ERR"
WHAT="unknown id"; ctl_want 1 $AP show r-000000000000
grep -q '^lockboxctl: show r-000000000000: not_found' <<<"$CTL_ERR" || lb_fail "not found message: $CTL_ERR"
WHAT="list --state"; ctl_want 0 $AUD list --state denied
[ "$(tail -n +2 <<<"$CTL_OUT" | awk '{print $2}' | sort -u)" = denied ] || lb_fail "list --state denied: $CTL_OUT"

# ---------------------------------------------------------------- hostile text from a request
EVIL=$'x\e[2J\e]52;c;Zm9v\a\r\x7f'$'\xc2\x9b''31m\xe2\x80\xae'"'; DROP TABLE requests; --"
WHAT="request with hostile text"; ctl_want 0 $OP request --host web6 --user vendor --reason "$EVIL" --ticket "$EVIL"
R5=$(grep -o 'r-[0-9a-f]\{12\}' <<<"$CTL_OUT" | head -n1)
WHAT="hostile list"; ctl_want 0 $AP list
grep -qF '\x1b[2J' <<<"$CTL_OUT" || lb_fail "list does not show ESC escaped: $CTL_OUT"
WHAT="hostile show"; ctl_want 0 $AP show "$R5"
WHAT="hostile approve comment"; ctl_want 0 $AP approve "$R5" --comment "$EVIL"
WHAT="hostile pending"; ctl_want 0 $AP2 pending
WHAT="hostile revoke"; ctl_want 0 $AP revoke "$R5" --reason "$EVIL"
WHAT="hostile show after"; ctl_want 0 $AUD show "$R5"
WHAT="hostile audit"; ctl_want 0 $AUD audit --request "$R5"
WHAT="hostile --json"; ctl_want 0 $AUD --json show "$R5"
[ "$(jq --arg e "$EVIL" '.reason == $e and .ticket == $e and .end_reason == $e' <<<"$CTL_OUT")" = true ] ||
    lb_fail "--json altered the text"
# a broker error that echoes hostile input is made safe too
WHAT="hostile host name refused"; ctl_want 1 $OP request --host $'web\e[2J' --user vendor --reason r --ticket t
grep -q '^lockboxctl: request: bad_request' <<<"$CTL_ERR" || lb_fail "bad host message: $CTL_ERR"

# ---------------------------------------------------------------- audit
WHAT="audit as operator"; ctl_want 1 $OP audit
grep -q '^lockboxctl: audit: forbidden' <<<"$CTL_ERR" || lb_fail "audit as operator: $CTL_ERR"
WHAT="audit"; ctl_want 0 $AUD audit
head -n1 <<<"$CTL_OUT" | grep -q '^SEQ *TIME *TYPE *REQUEST *SESSION *ACTOR *ROLE *FROM *DETAIL$' || lb_fail "audit header: $CTL_OUT"
grep -q "Revoke *$R1 *- *$AP2 *approver" <<<"$CTL_OUT" || lb_fail "audit lacks the revoke: $CTL_OUT"
WHAT="audit --request"; ctl_want 0 $AUD audit --request "$R1"
[ "$(tail -n +2 <<<"$CTL_OUT" | awk '{print $6}' | sort -u)" = "$R1" ] || lb_fail "audit --request: $CTL_OUT"
WHAT="audit --since --json"; ctl_want 0 $AUD --json audit --since 3 --limit 2
[ "$(jq '.events|length' <<<"$CTL_OUT")" = 2 ] || lb_fail "audit --since --limit: $CTL_OUT"
WHAT="audit --verify"; ctl_want 0 $AUD audit --verify
grep -q '^OK: [0-9]* events, seq 1\.\.[0-9]*, chain intact' <<<"$CTL_OUT" || lb_fail "verify: $CTL_OUT"
WHAT="audit --verify --json"; ctl_want 0 $AP --json audit --verify
[ "$(jq .ok <<<"$CTL_OUT")" = true ] || lb_fail "verify json: $CTL_OUT"
head_seq=$(jq .last_seq <<<"$CTL_OUT")
[ "$head_seq" -ge 14 ] && [ "$(jq .events <<<"$CTL_OUT")" = "$head_seq" ] || lb_fail "verify did not walk the whole trail: $CTL_OUT"
WHAT="audit --verify in pages of 7"; LOCKBOX_AUDIT_PAGE=7 ctl_want 0 $AP --json audit --verify
[ "$(jq .ok <<<"$CTL_OUT")" = true ] && [ "$(jq .events <<<"$CTL_OUT")" = "$head_seq" ] || lb_fail "paged verify: $CTL_OUT"

# somebody with write access to the database edits event 3 (the trail's
# append-only triggers must be dropped for that): verify names it
sqlite3 "$LB_BROKER_DB" >/dev/null <<'SQL' || lb_fail "cannot edit the test database"
PRAGMA busy_timeout = 5000;
DROP TRIGGER IF EXISTS events_append_only_update;
UPDATE events SET body = replace(body, '"lbx-cf-', '"lbx-cX-') WHERE seq = 3;
SQL
WHAT="audit --verify after tampering"; ctl_want 1 $AUD audit --verify
grep -q '^FAILED: break at seq 3: its hash does not match its content' <<<"$CTL_OUT" || lb_fail "tamper not found: $CTL_OUT"
grep -q 'does not verify' <<<"$CTL_ERR" || lb_fail "tamper message: $CTL_ERR"
WHAT="audit --verify --json after tampering"; ctl_want 1 $AUD --json audit --verify
[ "$(jq .ok <<<"$CTL_OUT")" = false ] && jq -r .problem <<<"$CTL_OUT" | grep -q 'seq 3' || lb_fail "verify json: $CTL_OUT"
WHAT="paged audit --verify after tampering"; LOCKBOX_AUDIT_PAGE=2 ctl_want 1 $AUD audit --verify
grep -q '^FAILED: break at seq 3: ' <<<"$CTL_OUT" || lb_fail "paged tamper: $CTL_OUT"

# ---------------------------------------------------------------- tokens
WHAT="token create as operator"; ctl_want 1 $OP token create --principal x --role operator
WHAT="token create"; ctl_want 0 root token create --principal web1 --role host --host web1
secret=$(grep '^lbt_' <<<"$CTL_OUT"); tid=$(grep -o 't-[0-9a-f]\{12\}' <<<"$CTL_OUT" | head -n1)
[ -n "$secret" ] && [ -n "$tid" ] || lb_fail "token create output: $CTL_OUT"
grep -q 'only time' <<<"$CTL_ERR" || lb_fail "token create warning: $CTL_ERR"
WHAT="token create -o"; ctl_want 0 root token create --principal lbx-auditor --role auditor -o "$LB_TMP/aud.token"
[ "$(stat -c %a "$LB_TMP/aud.token")" = 600 ] && grep -q '^lbt_' "$LB_TMP/aud.token" || lb_fail "token file"
grep -q lbt_ <<<"$CTL_OUT" && lb_fail "-o still printed the secret"
WHAT="token create -o existing file"; ctl_want 1 root token create --principal lbx-auditor --role auditor -o "$LB_TMP/aud.token"
WHAT="token list"; ctl_want 0 root token list
grep -q "^$tid *web1 *host *web1 " <<<"$CTL_OUT" || lb_fail "token list: $CTL_OUT"
grep -q lbt_ <<<"$CTL_OUT" && lb_fail "token list shows a secret"
WHAT="token revoke"; ctl_want 0 root token revoke "$tid"; grep -q "^$tid: revoked.$" <<<"$CTL_OUT" || lb_fail "revoke: $CTL_OUT"
WHAT="token revoke unknown"; ctl_want 1 root token revoke t-000000000000
WHAT="token list --json"; ctl_want 0 root --json token list
[ "$(jq "[.tokens[]|select(.id==\"$tid\")]|length" <<<"$CTL_OUT")" = 1 ] || lb_fail "token list json: $CTL_OUT"

lb_pass "cli-flow: all checks"
