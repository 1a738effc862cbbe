#!/bin/bash
# The broker API over TCP with TLS and bearer tokens: a CA and a server
# certificate for 127.0.0.1 made here with openssl, lockboxd listening on a
# free port, tokens for every role made with lockboxctl over the unix socket,
# then curl and lockboxctl --broker https://127.0.0.1:PORT.
. "$(dirname "$0")/lib.sh"
lb_require_root
lb_lock
[ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ] && { echo "SKIP: integration test (LOCKBOX_TEST_UNIT_ONLY=1)"; exit 77; }
. "$(dirname "$0")/lib-broker.sh"
. "$(dirname "$0")/api-lib.sh"
lb_tmpdir

# ---------------------------------------------------------------- certificates
pki=$LB_TMP/pki
mkdir -m 700 "$pki"
mkca() { # mkca NAME
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=lbx test $1" -keyout "$pki/$1.key" -out "$pki/$1.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
mkca ca
mkca otherca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
    -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
[ -s "$pki/server.pem" ] || lb_fail "could not make the test certificate"
LB_TLS_CA=$pki/ca.pem
LB_TLS_PORT=$(lb_free_port)

G_OP=lbx-at-operators G_AP=lbx-at-approvers G_AUD=lbx-at-auditors
for g in $G_OP $G_AP $G_AUD; do
    getent group $g >/dev/null || { groupadd -r $g; lb_defer "groupdel $g"; }
done
# TCP principals are not local users: the approvers list names who may approve
lb_start_broker "operator_group = $G_OP" "approver_group = $G_AP" "auditor_group = $G_AUD" \
    "approvers = tls-ap1, tls-ap2" \
    "listen = 127.0.0.1:$LB_TLS_PORT" "tls_cert = $pki/server.pem" "tls_key = $pki/server.key"
lb_wait_for 100 curl -s --cacert "$LB_TLS_CA" "https://127.0.0.1:$LB_TLS_PORT/v1/health" ||
    lb_fail "the broker does not answer on https://127.0.0.1:$LB_TLS_PORT"

# ---------------------------------------------------------------- tokens, made over the unix socket
tok() { # tok NAME PRINCIPAL ROLE [HOST]
    WHAT="token create $1"
    ctl_want 0 root token create --principal "$2" --role "$3" ${4:+--host "$4"} -o "$LB_TMP/$1.token"
}
tok op tls-op operator
tok op2 tls-op2 operator
tok ap tls-ap1 approver
tok ap2 tls-ap2 approver
tok aud tls-aud auditor
tok admin tls-admin admin
tok web1 web1 host web1
TOP=$LB_TMP/op.token TOP2=$LB_TMP/op2.token TAP=$LB_TMP/ap.token TAP2=$LB_TMP/ap2.token
TAUD=$LB_TMP/aud.token TADM=$LB_TMP/admin.token TWEB1=$LB_TMP/web1.token
HTTPS=https://127.0.0.1:$LB_TLS_PORT

tctl_want() { # tctl_want RC TOKENFILE ARGS...
    local rc=$1 tf=$2; shift 2
    ctl_want "$rc" root --broker "$HTTPS" --ca-file "$LB_TLS_CA" --token-file "$tf" "$@"
}
# ctl passes --broker unix:... first; a later --broker wins (getopt: last one)

# ---------------------------------------------------------------- who: 401
WHAT="no token"; api_tls - GET /v1/requests; want 401 unauthorized
WHAT="unknown token"; api_tls bad GET /v1/requests; want 401 unauthorized
WHAT="no token, POST"; api_tls - POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r","ticket":"t"}'; want 401 unauthorized
WHAT="no token, access"; api_tls - GET '/v1/access?host=web1&user=vendor'; want 401 unauthorized
WHAT="health with a token"; api_tls "$TOP" GET /v1/health; want 200
WHAT="health without a token (liveness probes)"; api_tls - GET /v1/health; want 200
WHAT="health with an unknown token"; api_tls bad GET /v1/health
[ "$API_STATUS" = 200 ] || [ "$API_STATUS" = 401 ] || lb_fail "$WHAT: $API_STATUS"; lb_pass "$WHAT -> $API_STATUS"
WHAT="lockboxctl without a token"; ctl_want 1 root --broker "$HTTPS" --ca-file "$LB_TLS_CA" list
grep -q 'unauthorized' <<<"$CTL_ERR" || lb_fail "401 message: $CTL_ERR"
cp "$TOP" "$LB_TMP/open.token"; chmod 644 "$LB_TMP/open.token"
WHAT="world-readable token file"; tctl_want 1 "$LB_TMP/open.token" list
grep -q 'readable by others' <<<"$CTL_ERR" || lb_fail "token file mode message: $CTL_ERR"

# ---------------------------------------------------------------- TLS itself
WHAT="another CA"; ctl_want 1 root --broker "$HTTPS" --ca-file "$pki/otherca.pem" --token-file "$TOP" list
grep -q 'TLS' <<<"$CTL_ERR" || lb_fail "wrong CA message: $CTL_ERR"
WHAT="system CAs only"; ctl_want 1 root --broker "$HTTPS" --token-file "$TOP" list
WHAT="plain HTTP to the TLS port"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$LB_TLS_PORT/v1/health" || true)
[ "$code" != 200 ] || lb_fail "plain HTTP answered 200 on the TLS port"; lb_pass "$WHAT -> $code"
WHAT="wrong host name"
curl -s --max-time 5 --cacert "$LB_TLS_CA" --resolve "broker.example:$LB_TLS_PORT:127.0.0.1" \
    "https://broker.example:$LB_TLS_PORT/v1/health" >/dev/null && lb_fail "a certificate for 127.0.0.1 was accepted for broker.example"
lb_pass "$WHAT -> refused"

# ---------------------------------------------------------------- roles over TLS
WHAT="create (operator, lockboxctl)"; tctl_want 0 "$TOP" --json request --host web1 --user vendor --reason "over tls" --ticket TLS-1 --duration 1h
R1=$(jq -r .id <<<"$CTL_OUT")
[ "$(jq -r .operator <<<"$CTL_OUT")" = tls-op ] || lb_fail "operator principal: $CTL_OUT"
[ "$(jq -r '.approvers|sort|join(",")' <<<"$CTL_OUT")" = tls-ap1,tls-ap2 ] || lb_fail "approvers: $CTL_OUT"
for t in TAP TAUD TADM TWEB1; do
    WHAT="create as ${t#T}"; api_tls "${!t}" POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r","ticket":"t"}'; want 403 forbidden
done
WHAT="other operator shows"; api_tls "$TOP2" GET /v1/requests/$R1; want 403 forbidden
WHAT="operator lists own"; api_tls "$TOP2" GET /v1/requests; want 200
[ "$(jb '.requests|length')" = 0 ] || lb_fail "operator 2 sees others: $API_BODY"
WHAT="host token lists"; api_tls "$TWEB1" GET /v1/requests; want 403 forbidden
WHAT="pending --as (approver)"; tctl_want 0 "$TAP" pending --as tls-ap1
grep -q "^$R1 *pending *tls-op *web1" <<<"$CTL_OUT" || lb_fail "pending over tls: $CTL_OUT"
WHAT="approve as operator"; api_tls "$TOP2" POST /v1/requests/$R1/approve '{}'; want 403 forbidden
WHAT="approve as auditor"; api_tls "$TAUD" POST /v1/requests/$R1/approve '{}'; want 403 forbidden
WHAT="approve as host"; api_tls "$TWEB1" POST /v1/requests/$R1/approve '{}'; want 403 forbidden
WHAT="approve (approver, lockboxctl)"; tctl_want 0 "$TAP" approve "$R1" --comment "tls ok"
grep -q "^$R1: approved; access until" <<<"$CTL_OUT" || lb_fail "approve over tls: $CTL_OUT"
WHAT="show (auditor, lockboxctl)"; tctl_want 0 "$TAUD" show "$R1"
grep -q '^State *approved' <<<"$CTL_OUT" && grep -q '^ *tls-ap1 at .*: tls ok$' <<<"$CTL_OUT" || lb_fail "show over tls: $CTL_OUT"

# host token: only about its own host
WHAT="access for own host"; api_tls "$TWEB1" GET '/v1/access?host=web1&user=vendor'; want 200
[ "$(jb .allow)" = true ] && [ "$(jb .request)" = "$R1" ] || lb_fail "access: $API_BODY"
WHAT="access for another host"; api_tls "$TWEB1" GET '/v1/access?host=web2&user=vendor'; want 403 forbidden
WHAT="keys for another host"; api_tls "$TWEB1" GET '/v1/keys?host=web2&user=vendor'; want 403 forbidden
WHAT="access as operator"; api_tls "$TOP" GET '/v1/access?host=web1&user=vendor'; want 403 forbidden
ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/k1"; PUB=$(cut -d' ' -f1,2 "$LB_TMP/k1.pub")
WHAT="register key (operator)"; api_tls "$TOP" POST /v1/requests/$R1/keys "{\"public_key\":\"$PUB\"}"; want 201
WHAT="keys for own host"; api_tls "$TWEB1" GET '/v1/keys?host=web1&user=vendor'; want 200
[ "$(jb '.keys[0].public_key')" = "$PUB" ] || lb_fail "keys: $API_BODY"
WHAT="session for another host"; api_tls "$TWEB1" POST /v1/sessions "{\"host\":\"web2\",\"user\":\"vendor\",\"public_key\":\"$PUB\"}"; want 403 forbidden
WHAT="session for own host"; api_tls "$TWEB1" POST /v1/sessions "{\"host\":\"web1\",\"user\":\"vendor\",\"public_key\":\"$PUB\",\"remote\":\"127.0.0.1\",\"tty\":\"ssh\",\"pid\":1,\"audit_session\":4294967295}"; want 201
S1=$(jb .session)
WHAT="session get"; api_tls "$TWEB1" GET /v1/sessions/$S1; want 200
WHAT="session get as auditor"; api_tls "$TAUD" GET /v1/sessions/$S1; want 200
WHAT="session get as operator"; api_tls "$TOP" GET /v1/sessions/$S1; want 403 forbidden

# revoke by admin, access ends
WHAT="revoke as operator"; api_tls "$TOP" POST /v1/requests/$R1/revoke '{"reason":"x"}'; want 403 forbidden
WHAT="revoke (admin, lockboxctl)"; tctl_want 0 "$TADM" revoke "$R1" --reason "tls admin revoke"
WHAT="access after revoke"; api_tls "$TWEB1" GET '/v1/access?host=web1&user=vendor'; want 200
[ "$(jb .allow)" = false ] || lb_fail "access after revoke: $API_BODY"
WHAT="session after revoke"; api_tls "$TWEB1" GET /v1/sessions/$S1; want 200
[ "$(jb .allow)" = false ] || lb_fail "session after revoke: $API_BODY"
WHAT="session end"; api_tls "$TWEB1" POST /v1/sessions/$S1/end '{"reason":"revoked"}'; want 200

# withdraw, deny, complete over TLS
tctl_want 0 "$TOP" --json request --host web1 --user vendor --reason r --ticket t; R2=$(jq -r .id <<<"$CTL_OUT")
WHAT="withdraw (lockboxctl)"; tctl_want 0 "$TOP" withdraw "$R2"
tctl_want 0 "$TOP" --json request --host web1 --user vendor --reason r --ticket t; R3=$(jq -r .id <<<"$CTL_OUT")
WHAT="deny (lockboxctl)"; tctl_want 0 "$TAP2" deny "$R3" --reason "no"
WHAT="approve denied"; tctl_want 1 "$TAP" approve "$R3"
grep -q "^lockboxctl: approve $R3: conflict" <<<"$CTL_ERR" || lb_fail "conflict over tls: $CTL_ERR"
tctl_want 0 "$TOP" --json request --host web1 --user vendor --reason r --ticket t; R4=$(jq -r .id <<<"$CTL_OUT")
tctl_want 0 "$TAP2" approve "$R4"
WHAT="complete (lockboxctl)"; tctl_want 0 "$TOP" complete "$R4"

# ---------------------------------------------------------------- bad input over TLS
WHAT="bad JSON"; api_tls "$TOP" POST /v1/requests '{"hosts":'; want 400 bad_request
WHAT="unknown field"; api_tls "$TOP" POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"r","ticket":"t","x":1}'; want 400 bad_request x
{ printf '{"hosts":["web1"],"user":"vendor","ticket":"t","reason":"'; head -c 70000 /dev/zero | tr '\0' a; printf '"}'; } >"$LB_TMP/big.json"
WHAT="body over 64 KiB"; api_tls "$TOP" POST /v1/requests "@$LB_TMP/big.json"; want 413 too_large
WHAT="unknown id"; api_tls "$TAUD" GET /v1/requests/r-000000000000; want 404 not_found

# hostile text over TLS: intact in --json, safe in tables
EVIL=$'\'; DROP TABLE requests; --\e[2J\e]52;c;Zm9v\a\r'$'\xc2\x9b''é日本'
WHAT="hostile request"; tctl_want 0 "$TOP" --json request --host web1 --user vendor --reason "$EVIL" --ticket "$EVIL"
R5=$(jq -r .id <<<"$CTL_OUT")
[ "$(jq --arg e "$EVIL" '.reason == $e and .ticket == $e' <<<"$CTL_OUT")" = true ] || lb_fail "hostile text altered over tls"
WHAT="hostile list (table)"; tctl_want 0 "$TAUD" list
grep -qF 'DROP TABLE requests; --\x1b[2J' <<<"$CTL_OUT" || lb_fail "list over tls: $CTL_OUT"

# ---------------------------------------------------------------- audit and tokens over TLS
WHAT="audit as operator"; api_tls "$TOP" GET /v1/audit; want 403 forbidden
WHAT="audit as host"; api_tls "$TWEB1" GET /v1/audit; want 403 forbidden
WHAT="audit --verify (auditor)"; tctl_want 0 "$TAUD" audit --verify
grep -q '^OK' <<<"$CTL_OUT" || lb_fail "verify over tls: $CTL_OUT"
api_tls "$TAUD" GET "/v1/audit?request=$R1"
[ "$(jb '[.events[]|select(.type=="Approve")][0].from' | cut -c1-3)" != uni ] || lb_fail "a TCP event says it came from the unix socket: $API_BODY"
WHAT="token list as approver"; api_tls "$TAP" GET /v1/tokens; want 403 forbidden
WHAT="token list (admin, lockboxctl)"; tctl_want 0 "$TADM" token list
grep -q 'tls-op *operator' <<<"$CTL_OUT" || lb_fail "token list over tls: $CTL_OUT"
WHAT="token create (admin, lockboxctl)"; tctl_want 0 "$TADM" token create --principal tls-op3 --role operator -o "$LB_TMP/op3.token"
WHAT="new token works"; api_tls "$LB_TMP/op3.token" GET /v1/requests; want 200
tid=$(jq -r '.tokens[]|select(.principal=="tls-op3")|.id' <<<"$(curl -s --cacert "$LB_TLS_CA" -H "Authorization: Bearer $(cat "$TADM")" "$HTTPS/v1/tokens")")
WHAT="token revoke (admin, lockboxctl)"; tctl_want 0 "$TADM" token revoke "$tid"
WHAT="revoked token"; api_tls "$LB_TMP/op3.token" GET /v1/requests; want 401 unauthorized

# ---------------------------------------------------------------- limits over TLS
# each token has its own allowance of calls a minute; past it, a JSON 429,
# and other tokens (a host's) are not touched
echo "max_requests_per_minute = 5" >>"$LB_BROKER_CONF"
echo "max_connections_per_ip = 4" >>"$LB_BROKER_CONF"
lb_restart_broker
for i in 1 2 3 4 5; do
    WHAT="approver call $i of 5"; api_tls "$TAP" GET /v1/requests; want 200
done
WHAT="approver call 6 of 5"; api_tls "$TAP" GET /v1/requests; want 429 too_many max_requests_per_minute
WHAT="host token, not limited by the approver's calls"; api_tls "$TWEB1" GET "/v1/access?host=web1&user=vendor"; want 200
# more connections from one address than max_connections_per_ip: the extra
# ones are closed, the address's first ones still answer
python3 - "$LB_TLS_PORT" <<'PY' || lb_fail "per-address limit or request_timeout not enforced on TLS (exit $?)"
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
time.sleep(0.5)
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(3)
try:
    closed = extra.recv(1) == b""   # TLS expects our hello: only a close ends it
except (ConnectionResetError, BrokenPipeError):
    closed = True
except socket.timeout:
    closed = False
if not closed:
    sys.exit(1)
# the ones let in never send a TLS hello: cut after request_timeout (5 s),
# not the 30 s idle timeout
t0 = time.monotonic()
held[0].settimeout(25)
try:
    held[0].recv(1)
except OSError:
    pass
waited = time.monotonic() - t0
print("# an idle TLS connection was closed after %.1f s" % (waited + 1.0))
sys.exit(0 if waited < 12 else 2)
PY
lb_pass "a fifth connection from one address is closed (max_connections_per_ip = 4); idle ones are cut after request_timeout"

lb_pass "api-tls: all checks"
