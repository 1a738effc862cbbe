#!/bin/bash
# kill -9 of lockboxd during a stream of creates and approvals: after a restart
# every change the broker acknowledged (2xx) is there, and the audit chain
# verifies (checked by an independent verifier).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-broker.sh"
lb_require_root
[ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ] && { echo "SKIP: integration test"; exit 77; }
lb_lock
lb_tmpdir

lb_add_user lbx-crash-op lockbox-operators
lb_add_user lbx-crash-ap lockbox-approvers
lb_start_broker
VERIFY="$top_srcdir/tests/integration/broker-verify-chain.py"

# The stream: create as the operator, approve as the approver; record only
# what the broker answered with 2xx.
stream() {
    local i out id
    for ((i = 0; i < 100000; i++)); do
        out=$(lb_broker_api POST /v1/requests \
              "{\"hosts\":[\"web$((i % 7))\"],\"user\":\"vendor\",\"reason\":\"crash test $i\",\"ticket\":\"T-$i\"}" \
              lbx-crash-op) || continue
        id=$(echo "$out" | lb_broker_json "j['id']")
        echo "$id" >>"$LB_TMP/created"
        if lb_broker_api POST "/v1/requests/$id/approve" '{"comment":"ok"}' lbx-crash-ap >/dev/null; then
            echo "$id" >>"$LB_TMP/approved"
        fi
    done
}
: >"$LB_TMP/created"
: >"$LB_TMP/approved"
stream &
STREAM=$!
lb_defer "kill $STREAM 2>/dev/null"

# let it run, then kill -9 the broker in the middle of it
lb_wait_for 300 sh -c "test \$(wc -l <$LB_TMP/approved) -ge 20" || lb_fail "the stream did not get going"
sleep 0.$((RANDOM % 9 + 1))
kill -9 "$LB_BROKER_PID"
sleep 1
kill "$STREAM" 2>/dev/null || true
wait "$STREAM" 2>/dev/null || true
ncreated=$(wc -l <"$LB_TMP/created")
napproved=$(wc -l <"$LB_TMP/approved")
echo "acknowledged before the kill: $ncreated created, $napproved approved"

lb_restart_broker
# every acknowledged creation is there, every acknowledged approval too
while read -r id; do
    st=$(lb_broker_api GET "/v1/requests/$id" | lb_broker_json "j['state']") ||
        lb_fail "acknowledged request $id is missing after the restart"
    [ "$st" = pending ] || [ "$st" = approved ] || lb_fail "$id is $st"
done <"$LB_TMP/created"
while read -r id; do
    st=$(lb_broker_api GET "/v1/requests/$id" | lb_broker_json "j['state']")
    [ "$st" = approved ] || lb_fail "acknowledged approval of $id lost: it is $st"
done <"$LB_TMP/approved"
lb_pass "all $ncreated acknowledged creates and $napproved approvals survived kill -9"

lb_broker_api GET "/v1/audit?limit=10000" >"$LB_TMP/audit.json"
python3 "$VERIFY" <"$LB_TMP/audit.json" || lb_fail "the audit chain does not verify after the crash"
ncreate_ev=$(python3 -c 'import json,sys; print(sum(e["type"]=="Create" for e in json.load(open(sys.argv[1]))["events"]))' "$LB_TMP/audit.json")
[ "$ncreate_ev" -ge "$ncreated" ] || lb_fail "only $ncreate_ev Create events for $ncreated creates"
lb_pass "the audit chain verifies ($ncreate_ev Create events)"

# the restarted broker keeps working and keeps the chain
id=$(lb_broker_api POST /v1/requests '{"hosts":["web1"],"user":"vendor","reason":"after","ticket":"T"}' lbx-crash-op |
     lb_broker_json "j['id']")
lb_broker_api POST "/v1/requests/$id/approve" '{}' lbx-crash-ap >/dev/null || lb_fail "approve after restart"
lb_broker_api GET "/v1/audit?limit=10000" | python3 "$VERIFY" || lb_fail "chain broken after restart"
lb_pass "the chain continues after the restart"

# the verifier itself detects a changed row
cp "$LB_TMP/audit.json" "$LB_TMP/tampered.json"
python3 - "$LB_TMP/tampered.json" <<'PY'
import json, sys
p = sys.argv[1]
j = json.load(open(p))
j["events"][1]["actor"] = "mallory"
json.dump(j, open(p, "w"))
PY
if python3 "$VERIFY" <"$LB_TMP/tampered.json" >/dev/null; then lb_fail "the verifier missed a change"; fi
lb_pass "a changed event is detected"
