#!/bin/bash
# The broker API (docs/API.md) against a real lockboxd on its unix socket:
# every call, every role (local users in groups, called through runuser),
# the error for each kind of bad input, and hostile text stored and returned
# intact (and shown safely by lockboxctl).
. "$(dirname "$0")/lib.sh"
lb_require_root
lb_lock
[ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ] && { echo "SKIP: integration test (LOCKBOX_TEST_UNIT_ONLY=1)"; exit 77; }
. "$(dirname "$0")/lib-broker.sh"
. "$(dirname "$0")/api-lib.sh"
lb_tmpdir

# Users: groups of their own so that nothing on the machine takes part.
G_OP=lbx-au-operators G_AP=lbx-au-approvers G_AUD=lbx-au-auditors
lb_add_user lbx-au-op1 $G_OP
lb_add_user lbx-au-op2 $G_OP
lb_add_user lbx-au-ap1 $G_AP
lb_add_user lbx-au-ap2 $G_AP
lb_add_user lbx-au-aud $G_AUD
lb_add_user lbx-au-both $G_OP $G_AP
lb_add_user lbx-au-none
lb_add_user lbx-au-host

lb_start_broker "operator_group = $G_OP" "approver_group = $G_AP" "auditor_group = $G_AUD" \
    "host_users = root, lbx-au-host" "max_duration = 8h" "default_duration = 4h" "approvals_required = 1"

OP=lbx-au-op1 OP2=lbx-au-op2 AP=lbx-au-ap1 AP2=lbx-au-ap2 AUD=lbx-au-aud BOTH=lbx-au-both
NONE=lbx-au-none HOST=lbx-au-host

new_request() { # new_request USER JSON -> REQ (id)
    api "$1" POST /v1/requests "$2"
    [ "$API_STATUS" = 201 ] || lb_fail "${WHAT:-create}: HTTP $API_STATUS: $API_BODY"
    REQ=$(jb .id)
}
BASIC='{"hosts":["web1"],"user":"vendor","reason":"disk full","ticket":"INC-1"}'

# ---------------------------------------------------------------- health
WHAT="health as a user with no role"; api $NONE GET /v1/health; want 200
[ "$(jb .status)" = ok ] && [ "$(jb .store)" = ok ] || lb_fail "health: $API_BODY"

# ---------------------------------------------------------------- create
WHAT="create as operator"
api $OP POST /v1/requests '{"hosts":["web1","web2"],"user":"vendor","reason":"disk full","ticket":"INC-1042","duration_s":7200}'
want 201
R1=$(jb .id)
[[ $R1 =~ ^r-[0-9a-f]{12}$ ]] || lb_fail "request id '$R1' is not r-<12 hex>"
[ "$(jb .state)" = pending ] || lb_fail "new request not pending: $API_BODY"
[ "$(jb .operator)" = $OP ] || lb_fail "operator: $API_BODY"
[ "$(jb '.hosts|join(",")')" = web1,web2 ] || lb_fail "hosts: $API_BODY"
[ "$(jb .duration_s)" = 7200 ] || lb_fail "duration_s: $API_BODY"
[ "$(jb '.approvers|sort|join(",")')" = "$AP,$AP2,$BOTH" ] || lb_fail "approvers (group members at creation): $API_BODY"
[ "$(jb .approved_at)" = null ] && [ "$(jb .not_after)" = null ] && [ "$(jb .remaining_s)" = null ] ||
    lb_fail "a pending request has no access clock: $API_BODY"
created=$(jb .created_at) pexp=$(jb .pending_expires_at)
[ $(( $(date -d "$pexp" +%s) - $(date -d "$created" +%s) )) = 345600 ] || lb_fail "pending_ttl is not 4 days: $API_BODY"

WHAT="create with host (one string)"; api $OP POST /v1/requests '{"host":"web3","user":"vendor","reason":"r","ticket":"t"}'; want 201
[ "$(jb '.hosts|join(",")')" = web3 ] || lb_fail "host string: $API_BODY"
[ "$(jb .duration_s)" = 14400 ] || lb_fail "default_duration 4h: $API_BODY"

WHAT="duration above max_duration is capped"
api $OP POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r","ticket":"t","duration_s":999999}'; want 201
[ "$(jb .duration_s)" = 28800 ] || lb_fail "duration not capped to 8h: $API_BODY"

for u in $AP $AUD $NONE $HOST root; do
    WHAT="create as $u (not an operator)"; api $u POST /v1/requests "$BASIC"; want 403 forbidden
done

# the requester is never an approver of their own request
WHAT="create as operator+approver"; new_request $BOTH "$BASIC"; RB=$REQ
api $BOTH GET /v1/requests/$RB
[ "$(jb '.approvers|sort|join(",")')" = "$AP,$AP2" ] || lb_fail "the operator is among the approvers: $API_BODY"
WHAT="self-approval"; api $BOTH POST /v1/requests/$RB/approve '{}'; want 403 forbidden

# ---------------------------------------------------------------- bad input
WHAT="bad JSON"; api $OP POST /v1/requests '{"hosts":["web1"],'; want 400 bad_request json
WHAT="not an object"; api $OP POST /v1/requests '["web1"]'; want 400 bad_request
WHAT="empty body"; api $OP POST /v1/requests ''; want 400 bad_request
WHAT="wrong type"; api $OP POST /v1/requests '{"hosts":["web1"],"user":5,"reason":"r","ticket":"t"}'; want 400 bad_request user
WHAT="wrong type in hosts"; api $OP POST /v1/requests '{"hosts":[1],"user":"vendor","reason":"r","ticket":"t"}'; want 400 bad_request host
WHAT="wrong type duration"; api $OP POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r","ticket":"t","duration_s":"2h"}'; want 400 bad_request duration_s
WHAT="unknown field"; api $OP POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r","ticket":"t","state":"approved"}'; want 400 bad_request state
WHAT="missing field"; api $OP POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r"}'; want 400 bad_request ticket
WHAT="no hosts"; api $OP POST /v1/requests '{"hosts":[],"user":"vendor","reason":"r","ticket":"t"}'; want 400 bad_request host
long_reason=$(head -c 4097 /dev/zero | tr '\0' a)
WHAT="reason of 4097 bytes"; api $OP POST /v1/requests "{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"$long_reason\",\"ticket\":\"t\"}"; want 400 bad_request reason
long_ticket=$(head -c 257 /dev/zero | tr '\0' t)
WHAT="ticket of 257 bytes"; api $OP POST /v1/requests "{\"hosts\":[\"web1\"],\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"$long_ticket\"}"; want 400 bad_request ticket
long_name=$(head -c 254 /dev/zero | tr '\0' h)
WHAT="host name of 254 bytes"; api $OP POST /v1/requests "{\"hosts\":[\"$long_name\"],\"user\":\"vendor\",\"reason\":\"r\",\"ticket\":\"t\"}"; want 400 bad_request host
WHAT="SQL in a user name"; api $OP POST /v1/requests "{\"hosts\":[\"web1\"],\"user\":\"x'; DROP TABLE requests; --\",\"reason\":\"r\",\"ticket\":\"t\"}"; want 400 bad_request user
WHAT="control character in a host name"; api $OP POST /v1/requests '{"hosts":["web1\u001b[2J"],"user":"vendor","reason":"r","ticket":"t"}'; want 400 bad_request host
WHAT="NUL in a reason"; api $OP POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"a\u0000b","ticket":"t"}'; want 400 bad_request u0000
printf '{"hosts":["web1"],"user":"vendor","reason":"bad \xff\xfe utf8","ticket":"t"}' >"$LB_TMP/badutf8.json"; chmod 644 "$LB_TMP/badutf8.json"
WHAT="invalid UTF-8"; api $OP POST /v1/requests "@$LB_TMP/badutf8.json"; want 400 bad_request
WHAT="approvals_required 0 cannot lower the floor"; api $OP POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r","ticket":"t","approvals_required":0}'; want 201
[ "$(jb .approvals_required)" = 1 ] || lb_fail "approvals_required went below the broker's floor: $API_BODY"
WHAT="approvals_required of the wrong type"; api $OP POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r","ticket":"t","approvals_required":"2"}'; want 400 bad_request approvals_required
{ printf '{"hosts":["web1"],"user":"vendor","ticket":"t","reason":"'; head -c 70000 /dev/zero | tr '\0' a; printf '"}'; } >"$LB_TMP/big.json"
chmod 644 "$LB_TMP/big.json"
WHAT="body over 64 KiB"; api $OP POST /v1/requests "@$LB_TMP/big.json"; want 413 too_large
WHAT="bad query parameter"; api $AP GET '/v1/requests?state=bogus'; want 400 bad_request state
WHAT="unknown query parameter"; api $AP GET '/v1/requests?colour=red'; want 400 bad_request colour
WHAT="unknown id"; api $AP GET /v1/requests/r-000000000000; want 404 not_found
WHAT="malformed id"; api $AP GET '/v1/requests/r-..%2Fx'; [ "$API_STATUS" = 404 ] || [ "$API_STATUS" = 400 ] || lb_fail "$WHAT: $API_STATUS"; lb_pass "$WHAT -> $API_STATUS"
WHAT="approve unknown id"; api $AP POST /v1/requests/r-000000000000/approve '{}'; want 404 not_found
WHAT="unknown path"; api $AP GET /v1/nothing; want 404 not_found
WHAT="wrong method"; api $AP DELETE /v1/requests; want 405 method_not_allowed
WHAT="wrong method on an action"; api $AP GET /v1/requests/$R1/approve; want 405 method_not_allowed
WHAT="approve with unknown field"; api $AP POST /v1/requests/$R1/approve '{"comments":"x"}'; want 400 bad_request comments
WHAT="deny without reason"; api $AP POST /v1/requests/$R1/deny '{}'; want 400 bad_request reason
WHAT="revoke without reason"; api $AP POST /v1/requests/$R1/revoke '{}'; want 400 bad_request reason
WHAT="comment of 4097 bytes"; api $AP POST /v1/requests/$R1/approve "{\"comment\":\"$long_reason\"}"; want 400 bad_request comment

# ---------------------------------------------------------------- hostile bytes
# Whatever the bytes, a refusal is a 4xx with a JSON error (fuzz findings: a
# detail cut inside a multibyte character, or quoting a raw byte of a query
# name, did not encode and the broker answered 500 "out of memory").
hb() { printf "$2" >"$LB_TMP/$1"; chmod 644 "$LB_TMP/$1"; }
hb mbkey.json '{"a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9":1}'
WHAT="unknown field: a long multibyte key"; api $OP POST /v1/requests "@$LB_TMP/mbkey.json"; want 400 bad_request "unknown field"
hb rawtoken.json '{"hosts":\xff\xfe}'
WHAT="raw bytes where JSON expects a value"; api $OP POST /v1/requests "@$LB_TMP/rawtoken.json"; want 400 bad_request json
hb rawnul.json '{"hosts":["web1"],"user":"vendor","reason":"a\000b","ticket":"t"}'
WHAT="a raw NUL in the body"; api $OP POST /v1/requests "@$LB_TMP/rawnul.json"; want 400 bad_request
hb ctrl.json '{"a":"\x1b[2J\x07"}'
WHAT="raw control bytes in a string"; api $OP POST /v1/requests "@$LB_TMP/ctrl.json"; want 400 bad_request json
no_esc "$API_BODY" "$WHAT"
WHAT="escaped control characters in a key"; api $OP POST /v1/requests '{"\u001b[2J\u0007\u009b":1}'; want 400 bad_request "unknown field" '\x1b[2J\x07'
no_esc "$API_BODY" "$WHAT"
hb binary.bin '\x00\x01\x02\xff\xfe\xfd\x80\x81'
WHAT="a binary body"; api $OP POST /v1/requests "@$LB_TMP/binary.bin"; want 400 bad_request
WHAT="a raw byte as a query name"; api $AP GET '/v1/requests?%ff=1'; want 400 bad_request "unknown query parameter"
WHAT="a cut multibyte query name"; api $AP GET '/v1/requests?%e2%82=1'; want 400 bad_request "unknown query parameter"
WHAT="raw bytes as a query value"; api $AP GET '/v1/requests?state=%ff%fe%00x'; want 400 bad_request state
WHAT="raw bytes in a host query"; api root GET '/v1/access?host=%c3&user=%ff'; want 400 bad_request host
WHAT="an escape sequence in a query value"; api $AP GET '/v1/requests?host=%1b%5b2J'; want 400 bad_request host
no_esc "$API_BODY" "$WHAT"
WHAT="raw bytes in a request id"; api $AP GET '/v1/requests/r-%ff%fe'; want 404 not_found
WHAT="raw bytes in a session id"; api root POST '/v1/sessions/%c3%28/end' '{}'; want 404 not_found
WHAT="raw bytes in a token id"; api root POST '/v1/tokens/%ff/revoke' '{}'; want 404 not_found
WHAT="raw bytes in the path"; api $AP GET '/v1/%ff%fe'; want 404 not_found
WHAT="many query parameters"; api $AP GET "/v1/requests?$(for i in $(seq 40); do printf 'a%d=%%ff&' $i; done)"; want 400 bad_request
# headers: what the broker does not read does not matter, what it reads is checked
out=$(cd / && runuser -u $AP -- curl -sS --max-time 20 --unix-socket "$LB_BROKER_SOCK" \
    -H $'X-Evil: \xff\xfe\x01' -H $'Authorization: Bearer \xff\x80' -H $'Content-Type: \xc3' \
    -w '\n%{http_code}' http://localhost/v1/health) || lb_fail "hostile headers: curl failed"
[ "${out##*$'\n'}" = 200 ] || lb_fail "hostile headers: $out"
lb_pass "hostile header bytes on the unix socket -> 200 (not read there)"
# none of the above left a 500 or hurt the broker
WHAT="health after the hostile bytes"; api $NONE GET /v1/health; want 200

# ---------------------------------------------------------------- reading
WHAT="operator lists own"; api $OP GET /v1/requests; want 200
jb '.requests[].operator' | grep -qvx $OP && lb_fail "an operator sees others' requests: $API_BODY"
jb '.requests[].id' | grep -qx "$R1" || lb_fail "list lacks $R1"
WHAT="other operator lists"; api $OP2 GET /v1/requests; want 200
jb '.requests[].id' | grep -qx "$R1" && lb_fail "operator 2 sees operator 1's request"
WHAT="other operator shows"; api $OP2 GET /v1/requests/$R1; want 403 forbidden
for u in $AP $AUD root; do
    WHAT="list as $u"; api $u GET "/v1/requests?operator=$OP&state=pending"; want 200
    jb '.requests[].id' | grep -qx "$R1" || lb_fail "$WHAT lacks $R1"
    jb '.requests[].state' | grep -qvx pending && lb_fail "$WHAT: state filter ignored"
    WHAT="show as $u"; api $u GET /v1/requests/$R1; want 200
done
WHAT="list by host"; api $AP GET '/v1/requests?host=web2'; want 200
[ "$(jb '[.requests[]|select(.hosts|index("web2")|not)]|length')" = 0 ] || lb_fail "host filter: $API_BODY"
jb '.requests[].id' | grep -qx "$R1" || lb_fail "host filter lacks $R1"
WHAT="list by approver"; api $AP GET "/v1/requests?approver=$AP&state=pending"; want 200
jb '.requests[].id' | grep -qx "$R1" || lb_fail "approver filter lacks $R1"
jb '.requests[].id' | grep -qx "$RB" || lb_fail "approver filter lacks $RB"
WHAT="newest first"; api $AP GET /v1/requests; want 200
[ "$(jb '[.requests[].created_at]|. == (sort|reverse)')" = true ] || lb_fail "not newest first"
for u in $NONE $HOST; do
    WHAT="list as $u"; api $u GET /v1/requests; want 403 forbidden
    WHAT="show as $u"; api $u GET /v1/requests/$R1; want 403 forbidden
done

# ---------------------------------------------------------------- eligibility is fixed at creation
lb_add_user lbx-au-late $G_AP
WHAT="approver added after creation"; api lbx-au-late POST /v1/requests/$R1/approve '{}'; want 403 forbidden
for u in $OP $OP2 $AUD $NONE $HOST; do
    WHAT="approve as $u"; api $u POST /v1/requests/$R1/approve '{}'; want 403 forbidden
    WHAT="deny as $u"; api $u POST /v1/requests/$R1/deny '{"reason":"no"}'; want 403 forbidden
done

# ---------------------------------------------------------------- keys before approval, withdraw, complete
KEY1=$(ssh-keygen -q -t ed25519 -N '' -C c1 -f "$LB_TMP/k1" && cat "$LB_TMP/k1.pub")
KEY2=$(ssh-keygen -q -t ed25519 -N '' -C c2 -f "$LB_TMP/k2" && cat "$LB_TMP/k2.pub")
WHAT="key on a pending request"; api $OP POST /v1/requests/$R1/keys "{\"public_key\":\"$KEY1\"}"; want 409 conflict
WHAT="complete a pending request"; api $OP POST /v1/requests/$R1/complete '{}'; want 409 conflict
WHAT="withdraw another's request"; api $OP2 POST /v1/requests/$R1/withdraw '{}'; want 403 forbidden
new_request $OP "$BASIC"; RW=$REQ
WHAT="withdraw own pending"; api $OP POST /v1/requests/$RW/withdraw '{}'; want 200
[ "$(jb .state)" = withdrawn ] && [ "$(jb .ended_by)" = $OP ] && [ "$(jb .ended_at)" != null ] || lb_fail "withdraw: $API_BODY"
WHAT="withdraw twice"; api $OP POST /v1/requests/$RW/withdraw '{}'; want 409 conflict
WHAT="approve withdrawn"; api $AP POST /v1/requests/$RW/approve '{}'; want 409 conflict

# ---------------------------------------------------------------- deny
new_request $OP "$BASIC"; RD=$REQ
WHAT="deny"; api $AP POST /v1/requests/$RD/deny '{"reason":"not now"}'; want 200
[ "$(jb .state)" = denied ] && [ "$(jb .end_reason)" = "not now" ] && [ "$(jb .ended_by)" = $AP ] || lb_fail "deny: $API_BODY"
WHAT="approve denied"; api $AP2 POST /v1/requests/$RD/approve '{}'; want 409 conflict "$RD"
WHAT="revoke denied"; api $AP POST /v1/requests/$RD/revoke '{"reason":"x"}'; want 409 conflict

# ---------------------------------------------------------------- two approvals
new_request $OP '{"hosts":["web9"],"user":"vendor","reason":"two-person","ticket":"T2","duration_s":3600,"approvals_required":2}'; R2=$REQ
WHAT="first of two approvals"; api $AP POST /v1/requests/$R2/approve '{"comment":"one"}'; want 200
[ "$(jb .state)" = pending ] && [ "$(jb '.approvals|length')" = 1 ] || lb_fail "quorum of 2 reached with 1: $API_BODY"
WHAT="same approver twice"; api $AP POST /v1/requests/$R2/approve '{}'; want 409 conflict
WHAT="second approval"; api $AP2 POST /v1/requests/$R2/approve '{"comment":"two"}'; want 200
[ "$(jb .state)" = approved ] || lb_fail "not approved after 2: $API_BODY"
[ "$(jb '[.approvals[].by]|join(",")')" = "$AP,$AP2" ] || lb_fail "approvals: $API_BODY"
rem=$(jb .remaining_s)
[ "$rem" -le 3600 ] && [ "$rem" -ge 3590 ] || lb_fail "remaining_s $rem after approval of 1h"
[ $(( $(date -d "$(jb .not_after)" +%s) - $(date -d "$(jb .approved_at)" +%s) )) = 3600 ] || lb_fail "not_after != approved_at + duration"

# ---------------------------------------------------------------- approve, access, keys, sessions
WHAT="approve"; api $AP POST /v1/requests/$R1/approve '{"comment":"go"}'; want 200
[ "$(jb .state)" = approved ] || lb_fail "approve: $API_BODY"
WHAT="access as host user"; api $HOST GET '/v1/access?host=web2&user=vendor'; want 200
[ "$(jb .allow)" = true ] && [ "$(jb .request)" = "$R1" ] && [ "$(jb .operator)" = $OP ] || lb_fail "access: $API_BODY"
[ "$(jb .remaining_s)" -gt 7000 ] || lb_fail "access remaining_s: $API_BODY"
WHAT="access as root"; api root GET '/v1/access?host=web1&user=vendor'; want 200
[ "$(jb .allow)" = true ] || lb_fail "root access: $API_BODY"
WHAT="access for another account"; api $HOST GET '/v1/access?host=web2&user=root'; want 200
[ "$(jb .allow)" = false ] && [ -n "$(jb .reason)" ] || lb_fail "access for root allowed: $API_BODY"
WHAT="access for a pending request's host"; new_request $OP '{"hosts":["web7"],"user":"vendor","reason":"r","ticket":"t"}'
api $HOST GET '/v1/access?host=web7&user=vendor'; want 200
[ "$(jb .allow)" = false ] && jb .reason | grep -q pending || lb_fail "pending reason: $API_BODY"
for u in $OP $AP $AUD $NONE; do
    WHAT="access as $u"; api $u GET '/v1/access?host=web1&user=vendor'; want 403 forbidden
    WHAT="keys as $u"; api $u GET '/v1/keys?host=web1&user=vendor'; want 403 forbidden
done
WHAT="access without user"; api $HOST GET '/v1/access?host=web1'; want 400 bad_request user
WHAT="access with a bad host"; api $HOST GET '/v1/access?host=a%27b&user=vendor'; want 400 bad_request host

WHAT="key by another operator"; api $OP2 POST /v1/requests/$R1/keys "{\"public_key\":\"$KEY1\"}"; want 403 forbidden
WHAT="bad key"; api $OP POST /v1/requests/$R1/keys '{"public_key":"ssh-ed25519 notbase64!"}'; want 400 bad_request public_key
WHAT="register key"; api $OP POST /v1/requests/$R1/keys "{\"public_key\":\"$KEY1\"}"; want 201
K1=$(jb .key); FP1=$(jb .fingerprint)
[ "$FP1" = "$(ssh-keygen -lf "$LB_TMP/k1.pub" | awk '{print $2}')" ] || lb_fail "fingerprint $FP1 differs from ssh-keygen's"
[[ $K1 =~ ^k-[0-9a-f]{12}$ ]] && [ "$(jb .request)" = "$R1" ] || lb_fail "key answer: $API_BODY"
WHAT="register a second key"; api $OP POST /v1/requests/$R1/keys "{\"public_key\":\"$KEY2\"}"; want 201
WHAT="keys for host"; api $HOST GET '/v1/keys?host=web1&user=vendor'; want 200
[ "$(jb '.keys|length')" = 2 ] || lb_fail "keys: $API_BODY"
WHAT="keys by fingerprint"; api $HOST GET "/v1/keys?host=web1&user=vendor&fingerprint=$(jq -rn --arg f "$FP1" '$f|@uri')"; want 200
[ "$(jb '.keys|length')" = 1 ] && [ "$(jb '.keys[0].key')" = "$K1" ] || lb_fail "keys by fingerprint: $API_BODY"
[ "$(jb '.keys[0].public_key')" = "$(cut -d' ' -f1,2 "$LB_TMP/k1.pub")" ] || lb_fail "public_key: $API_BODY"
WHAT="keys for another account"; api $HOST GET '/v1/keys?host=web1&user=other'; want 200
[ "$(jb '.keys|length')" = 0 ] || lb_fail "keys for another account: $API_BODY"

SESS="{\"host\":\"web1\",\"user\":\"vendor\",\"public_key\":\"$(cut -d' ' -f1,2 "$LB_TMP/k1.pub")\",\"remote\":\"127.0.0.1\",\"tty\":\"ssh\",\"pid\":4242,\"audit_session\":7}"
WHAT="open session as operator"; api $OP POST /v1/sessions "$SESS"; want 403 forbidden
WHAT="open session"; api $HOST POST /v1/sessions "$SESS"; want 201
S1=$(jb .session)
[[ $S1 =~ ^s-[0-9a-f]{16}$ ]] && [ "$(jb .request)" = "$R1" ] && [ "$(jb .allow)" = true ] && [ "$(jb .state)" = open ] ||
    lb_fail "session: $API_BODY"
WHAT="open with a used key"; api $HOST POST /v1/sessions "$SESS"; want 409 conflict
WHAT="keys after use"; api $HOST GET '/v1/keys?host=web1&user=vendor'; want 200
[ "$(jb '.keys|length')" = 1 ] || lb_fail "a used key is still offered: $API_BODY"
ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/k3"
WHAT="open with an unknown key"; api $HOST POST /v1/sessions "{\"host\":\"web1\",\"user\":\"vendor\",\"public_key\":\"$(cut -d' ' -f1,2 "$LB_TMP/k3.pub")\"}"; want 404 not_found
WHAT="open with unknown field"; api $HOST POST /v1/sessions '{"host":"web1","user":"vendor","public_key":"x","colour":1}'; want 400 bad_request colour
WHAT="get session"; api $HOST GET /v1/sessions/$S1; want 200
[ "$(jb .allow)" = true ] || lb_fail "session: $API_BODY"
WHAT="get session as auditor"; api $AUD GET /v1/sessions/$S1; want 200
WHAT="get session as operator"; api $OP GET /v1/sessions/$S1; want 403 forbidden
WHAT="get unknown session"; api $HOST GET /v1/sessions/s-0000000000000000; want 404 not_found

# ---------------------------------------------------------------- revoke
WHAT="revoke as operator"; api $OP POST /v1/requests/$R1/revoke '{"reason":"x"}'; want 403 forbidden
WHAT="revoke as auditor"; api $AUD POST /v1/requests/$R1/revoke '{"reason":"x"}'; want 403 forbidden
WHAT="revoke"; api $AP2 POST /v1/requests/$R1/revoke '{"reason":"enough"}'; want 200
[ "$(jb .state)" = revoked ] && [ "$(jb .end_reason)" = enough ] && [ "$(jb .ended_by)" = $AP2 ] || lb_fail "revoke: $API_BODY"
WHAT="access after revoke"; api $HOST GET '/v1/access?host=web1&user=vendor'; want 200
[ "$(jb .allow)" = false ] || lb_fail "access after revoke: $API_BODY"
# web2 has no newer request than R1: the reason names R1's state
WHAT="access reason after revoke"; api $HOST GET '/v1/access?host=web2&user=vendor'; want 200
[ "$(jb .allow)" = false ] && jb .reason | grep -q "$R1 was revoked" || lb_fail "access reason after revoke does not say revoked: $API_BODY"
WHAT="session after revoke"; api $HOST GET /v1/sessions/$S1; want 200
[ "$(jb .allow)" = false ] && jb .reason | grep -q revoked || lb_fail "session after revoke: $API_BODY"
WHAT="keys after revoke"; api $HOST GET '/v1/keys?host=web1&user=vendor'; want 200
[ "$(jb '.keys|length')" = 0 ] || lb_fail "keys of a revoked request offered: $API_BODY"
WHAT="open session after revoke"; api $HOST POST /v1/sessions "{\"host\":\"web1\",\"user\":\"vendor\",\"public_key\":\"$(cut -d' ' -f1,2 "$LB_TMP/k2.pub")\"}"
[ "$API_STATUS" = 403 ] || [ "$API_STATUS" = 404 ] || lb_fail "$WHAT: HTTP $API_STATUS: $API_BODY"; lb_pass "$WHAT -> $API_STATUS"
WHAT="end session"; api $HOST POST /v1/sessions/$S1/end '{"reason":"exit"}'; want 200
[ "$(jb .state)" = ended ] || lb_fail "end: $API_BODY"
WHAT="end session again"; api $HOST POST /v1/sessions/$S1/end '{"reason":"exit"}'; want 200
WHAT="revoke twice"; api $AP POST /v1/requests/$R1/revoke '{"reason":"again"}'; want 409 conflict
WHAT="admin revokes"; api root POST /v1/requests/$R2/revoke '{"reason":"admin says"}'; want 200

# ---------------------------------------------------------------- complete
new_request $OP "$BASIC"; RC=$REQ
api $AP POST /v1/requests/$RC/approve '{}'
WHAT="complete another's"; api $OP2 POST /v1/requests/$RC/complete '{}'; want 403 forbidden
WHAT="complete own approved"; api $OP POST /v1/requests/$RC/complete '{}'; want 200
[ "$(jb .state)" = completed ] || lb_fail "complete: $API_BODY"
WHAT="complete twice"; api $OP POST /v1/requests/$RC/complete '{}'; want 409 conflict
WHAT="key after complete"; api $OP POST /v1/requests/$RC/keys "{\"public_key\":\"$KEY2\"}"; want 409 conflict

# ---------------------------------------------------------------- hostile text, stored intact
# SQL metacharacters, control characters (ESC CSI, OSC 52, BEL, CR, DEL, C1),
# a bidi override and long UTF-8: exactly 4096 bytes for the reason.
EVIL=$'\'; DROP TABLE requests; -- "x" \\ \e[31mred\e[0m \e]52;c;Zm9v\a \r\x7f\t'$'\xc2\x9b''2J '$'\xe2\x80\xae''txt.exe é'
pad=$(( 4096 - $(printf '%s' "$EVIL" | wc -c) ))
REASON="$EVIL$(for ((i = 0; i < pad / 3; i++)); do printf '日'; done)$(head -c $((pad % 3)) /dev/zero | tr '\0' z)"
[ "$(printf '%s' "$REASON" | wc -c)" = 4096 ] || lb_fail "test setup: reason is not 4096 bytes"
TICKET=$'INC-\'; DROP TABLE requests; --\e[2J\a'
COMMENT=$'ok \e]0;pwned\a\e[1;1H'$'\xe2\x80\xae'
DENY=$'no\e[31m\'; DELETE FROM events; --'
body=$(jq -n --arg r "$REASON" --arg t "$TICKET" '{hosts:["web5"],user:"vendor",reason:$r,ticket:$t}')
WHAT="create with hostile text"; api $OP POST /v1/requests "$body"; want 201
RE=$(jb .id)
[ "$(jq --arg r "$REASON" --arg t "$TICKET" '.reason == $r and .ticket == $t' <<<"$API_BODY")" = true ] ||
    lb_fail "hostile text not returned intact on create"
WHAT="approve with hostile comment"; api $AP POST /v1/requests/$RE/approve "$(jq -n --arg c "$COMMENT" '{comment:$c}')"; want 200
WHAT="read back"; api $AUD GET /v1/requests/$RE; want 200
[ "$(jq --arg r "$REASON" --arg t "$TICKET" --arg c "$COMMENT" \
    '.reason == $r and .ticket == $t and .approvals[0].comment == $c' <<<"$API_BODY")" = true ] ||
    lb_fail "hostile text altered in the store: $API_BODY"
new_request $OP "$body"; RE2=$REQ
WHAT="deny with hostile reason"; api $AP POST /v1/requests/$RE2/deny "$(jq -n --arg r "$DENY" '{reason:$r}')"; want 200
[ "$(jq --arg r "$DENY" '.end_reason == $r' <<<"$API_BODY")" = true ] || lb_fail "deny reason altered"
WHAT="revoke with hostile reason"; api $AP POST /v1/requests/$RE/revoke "$(jq -n --arg r "$DENY" '{reason:$r}')"; want 200
[ "$(jq --arg r "$DENY" '.end_reason == $r' <<<"$API_BODY")" = true ] || lb_fail "revoke reason altered"
WHAT="tables still there"; api $AUD GET /v1/requests; want 200
[ "$(jb '.requests|length')" -ge 10 ] || lb_fail "requests lost: $API_BODY"
WHAT="query with SQL"; api $AUD GET "/v1/requests?operator=$(jq -rn '"x'"'"' OR 1=1; --"|@uri')"
[ "$API_STATUS" = 400 ] || { [ "$API_STATUS" = 200 ] && [ "$(jb '.requests|length')" = 0 ]; } ||
    lb_fail "$WHAT: $API_STATUS $API_BODY"; lb_pass "$WHAT -> $API_STATUS"

# session text fields: remote, tty, the end reason (256 bytes each)
SEVIL=$'\'; DROP TABLE sessions; --\e[2J\e]0;t\a\r'$'\xc2\x9b''é日'
new_request $OP '{"hosts":["web8"],"user":"vendor","reason":"r","ticket":"t"}'; RS=$REQ
api $AP POST /v1/requests/$RS/approve '{}'
api $OP POST /v1/requests/$RS/keys "{\"public_key\":\"$(cut -d' ' -f1,2 "$LB_TMP/k3.pub")\"}"
WHAT="session with hostile remote and tty"
api $HOST POST /v1/sessions "$(jq -n --arg k "$(cut -d' ' -f1,2 "$LB_TMP/k3.pub")" --arg e "$SEVIL" \
    '{host:"web8",user:"vendor",public_key:$k,remote:$e,tty:$e,pid:1}')"; want 201
SS=$(jb .session)
WHAT="end with a hostile reason"; api $HOST POST /v1/sessions/$SS/end "$(jq -n --arg e "$SEVIL" '{reason:$e}')"; want 200
WHAT="session read back"; api $AUD GET /v1/sessions/$SS; want 200
[ "$(jq --arg e "$SEVIL" '.end_reason == $e' <<<"$API_BODY")" = true ] || lb_fail "session end reason altered: $API_BODY"
WHAT="session text in the audit trail"; api $AUD GET "/v1/audit?request=$RS"; want 200
[ "$(jq --arg e "$SEVIL" '[.events[]|select(.type=="SessionStart")|..|strings|select(. == $e)]|length >= 2' <<<"$API_BODY")" = true ] ||
    lb_fail "remote/tty altered in the audit trail: $API_BODY"
WHAT="lockboxctl audit table of hostile session text"; ctl_want 0 $AUD audit --request "$RS"
grep -q SessionEnd <<<"$CTL_OUT" || lb_fail "audit table lacks SessionEnd: $CTL_OUT"

# the same through lockboxctl: --json is the stored text, tables are safe
WHAT="lockboxctl --json show"; ctl_want 0 $AUD --json show "$RE"
[ "$(jq --arg r "$REASON" --arg t "$TICKET" --arg c "$COMMENT" --arg d "$DENY" \
    '.reason == $r and .ticket == $t and .approvals[0].comment == $c and .end_reason == $d' <<<"$CTL_OUT")" = true ] ||
    lb_fail "lockboxctl --json changed the text"
WHAT="lockboxctl show (table)"; ctl_want 0 $AUD show "$RE"
grep -qF "DROP TABLE requests; --" <<<"$CTL_OUT" || lb_fail "show lost the text: $CTL_OUT"
grep -qF '\x1b[31mred' <<<"$CTL_OUT" || lb_fail "show does not show ESC as \\x1b: $CTL_OUT"
grep -qF '\u{202E}' <<<"$CTL_OUT" || lb_fail "show does not show the bidi override: $CTL_OUT"
grep -qF '日日日' <<<"$CTL_OUT" || lb_fail "show lost the UTF-8: $CTL_OUT"
WHAT="lockboxctl list (table)"; ctl_want 0 $AUD list
WHAT="lockboxctl list --state denied"; ctl_want 0 $AP list --state denied
grep -qF "$RE2" <<<"$CTL_OUT" || lb_fail "list lacks $RE2"
WHAT="lockboxctl audit (table)"; ctl_want 0 $AUD audit --request "$RE"
grep -q Approve <<<"$CTL_OUT" || lb_fail "audit table: $CTL_OUT"

# ---------------------------------------------------------------- audit
WHAT="audit as auditor"; api $AUD GET /v1/audit; want 200
n=$(jb '.events|length')
[ "$n" -gt 20 ] && [ "$(jb .head.seq)" = "$(jb '.events[-1].seq')" ] || lb_fail "audit: $n events, head $(jb .head)"
[ "$(jb '.events[0].seq')" = 1 ] && [ "$(jb '.events[0].prev')" = "$(printf '0%.0s' {1..64})" ] || lb_fail "audit starts wrong"
for t in Create Approve Deny Withdraw Revoke Complete KeyRegistered SessionStart SessionEnd; do
    jb '.events[].type' | grep -qx $t || lb_fail "no $t event in the audit trail"
done
[ "$(jb "[.events[]|select(.request==\"$R1\" and .type==\"Approve\")][0].actor")" = $AP ] || lb_fail "Approve actor"
WHAT="audit as approver"; api $AP GET "/v1/audit?request=$R1"; want 200
[ "$(jb "[.events[]|select(.request!=\"$R1\")]|length")" = 0 ] || lb_fail "request filter: $API_BODY"
WHAT="audit since"; api $AUD GET '/v1/audit?since=5&limit=3'; want 200
[ "$(jb '.events|length')" = 3 ] && [ "$(jb '.events[0].seq')" -ge 5 ] && [ "$(jb '.events[0].seq')" -le 6 ] ||
    lb_fail "since/limit: $(jb '[.events[].seq]')"
WHAT="audit as admin"; api root GET /v1/audit; want 200
for u in $OP $NONE $HOST; do
    WHAT="audit as $u"; api $u GET /v1/audit; want 403 forbidden
done
WHAT="audit bad since"; api $AUD GET '/v1/audit?since=-1'; want 400 bad_request since
WHAT="lockboxctl audit --verify"; ctl_want 0 $AUD audit --verify
grep -q '^OK' <<<"$CTL_OUT" || lb_fail "verify: $CTL_OUT"

# ---------------------------------------------------------------- tokens (admin)
WHAT="token create as operator"; api $OP POST /v1/tokens '{"principal":"x","role":"operator"}'; want 403 forbidden
WHAT="token list as auditor"; api $AUD GET /v1/tokens; want 403 forbidden
WHAT="host token without host"; api root POST /v1/tokens '{"principal":"web1","role":"host"}'; want 400 bad_request host
WHAT="token with bad role"; api root POST /v1/tokens '{"principal":"x","role":"god"}'; want 400 bad_request role
WHAT="token with unknown field"; api root POST /v1/tokens '{"principal":"x","role":"operator","expires":1}'; want 400 bad_request expires
WHAT="token create"; api root POST /v1/tokens '{"principal":"web1","role":"host","host":"web1"}'; want 201
T1=$(jb .id)
[[ $T1 =~ ^t-[0-9a-f]{12}$ ]] && [[ $(jb .token) =~ ^lbt_ ]] || lb_fail "token: $API_BODY"
WHAT="token list"; api root GET /v1/tokens; want 200
jb '.tokens[].id' | grep -qx "$T1" || lb_fail "token list lacks $T1"
grep -q lbt_ <<<"$API_BODY" && lb_fail "token list shows a secret"
[ "$(sqlite3 "$LB_BROKER_DB" "SELECT count(*) FROM tokens WHERE hash LIKE 'lbt_%'")" = 0 ] || lb_fail "a token is stored in clear"
WHAT="token revoke"; api root POST /v1/tokens/$T1/revoke '{}'; want 200
WHAT="token revoke unknown"; api root POST /v1/tokens/t-000000000000/revoke '{}'; want 404 not_found
api $AUD GET /v1/audit
for t in TokenCreate TokenRevoke; do jb '.events[].type' | grep -qx $t || lb_fail "no $t event"; done
grep -q lbt_ <<<"$API_BODY" && lb_fail "a token secret is in the audit trail"

# ---------------------------------------------------------------- the store was never hurt
[ "$(sqlite3 "$LB_BROKER_DB" "SELECT count(*) FROM requests")" -ge 10 ] || lb_fail "requests table damaged"
lb_pass "api-unix: all checks"
