#!/bin/bash
# Every broker event also lands in journald (structured fields, catalogued
# MESSAGE_IDs, the canonical event) and in auditd (op=lockbox-<event>); a
# broker without auditd keeps working. SIGTERM stops it cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-broker.sh"
lb_require_root
[ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ] && { echo "SKIP: integration test"; exit 77; }
lb_lock
lb_tmpdir
lb_start_journald
lb_start_auditd

lb_add_user lbx-ev-op lockbox-operators
lb_add_user lbx-ev-ap lockbox-approvers
lb_start_broker

id=$(lb_broker_api POST /v1/requests \
     '{"hosts":["web1"],"user":"vendor","reason":"evidence test","ticket":"T-9"}' lbx-ev-op |
     lb_broker_json "j['id']")
lb_broker_api POST "/v1/requests/$id/approve" '{"comment":"fine"}' lbx-ev-ap >/dev/null

# journald: one entry per event, with the catalogued id and the canonical event
lb_wait_for 100 sh -c "journalctl --no-pager -o cat LOCKBOX_REQUEST=$id LOCKBOX_EVENT=Approve | grep -q ." ||
    lb_fail "no Approve entry for $id in journald"
journalctl --no-pager -o json LOCKBOX_REQUEST="$id" >"$LB_TMP/journal.json"
lb_broker_api GET "/v1/audit?request=$id" >"$LB_TMP/audit.json"
python3 - "$LB_TMP/journal.json" "$LB_TMP/audit.json" <<'PY' || lb_fail "journald entries do not match the audit trail"
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
events = json.load(open(sys.argv[2]))["events"]
ids = {"Create": "7fc0af49687e4597aa23bba43925b829", "Approve": "9f7524851ced4e66b554db1287911f67"}
assert len(events) == 2, events
for ev in events:
    match = [e for e in entries if e.get("LOCKBOX_SEQ") == str(ev["seq"])]
    assert match, f"no journald entry for seq {ev['seq']}"
    e = match[0]
    assert e["MESSAGE_ID"] == ids[ev["type"]], e["MESSAGE_ID"]
    assert e["SYSLOG_IDENTIFIER"] == "lockboxd"
    assert e["LOCKBOX_EVENT"] == ev["type"]
    assert e["LOCKBOX_ACTOR"] == ev["actor"]
    assert e["LOCKBOX_HASH"] == ev["hash"]
    canon = {k: v for k, v in ev.items() if k not in ("prev", "hash")}
    assert json.loads(e["LOCKBOX_EVENT_JSON"]) == canon
assert [e for e in entries if e.get("LOCKBOX_EVENT") == "Approve"][0]["LOCKBOX_STATE"] == "approved"
print("journald entries match the trail")
PY
lb_pass "events are in journald with their MESSAGE_IDs and canonical JSON"

# the catalog explains them
cat="$top_srcdir/conf/catalog/lockboxd.catalog"
for mid in 7fc0af49687e4597aa23bba43925b829 9f7524851ced4e66b554db1287911f67 \
           f1dc9f8624aa49259b760b292ecc9b02 18645d9a479947539fa40d7eec10b5a9 \
           203fc236e8a348f78e23a7576cbd9cb2 880f1ad63a6c4b1a9f3f7187f349631f \
           ecd26918e4534325acdd4986b6dd482a db3c3c4b9d4e422dad4312ef369697f1 \
           30879bb15a2d422b9531fe648ec8df48; do
    grep -q "^-- $mid\$" "$cat" || lb_fail "catalog lacks $mid"
done
lb_pass "the catalog has every MESSAGE_ID of docs/EVIDENCE.md"

# auditd
if auditctl -s 2>/dev/null | grep -q '^enabled [12]'; then
    lb_audit_flush
    lb_wait_for 100 sh -c "cat /var/log/audit/audit.log* | grep -a -q 'op=lockbox-approve.*$id'" ||
        lb_fail "no op=lockbox-approve record for $id in auditd"
    # the log files themselves (ausearch missed records that were there)
    cat /var/log/audit/audit.log* | grep -a "op=lockbox-create lockbox_seq=[0-9]* lockbox_request=$id" >/dev/null ||
        lb_fail "no op=lockbox-create record for $id"
    lb_pass "events are in auditd as op=lockbox-<event>"
else
    echo "note: kernel audit is disabled here; auditd records not checked"
fi

# SIGTERM: a clean stop, socket removed, exit 0
kill -TERM "$LB_BROKER_PID"
rc=0
wait "$LB_BROKER_PID" || rc=$?
[ "$rc" = 0 ] || lb_fail "lockboxd exited $rc on SIGTERM"
[ ! -e "$LB_BROKER_SOCK" ] || lb_fail "the socket is left behind"
lb_pass "SIGTERM stops the broker cleanly"

# an explicitly named config file that is missing: exit 1 with a clear message
rc=0
out=$("$top_builddir/broker/lockboxd" --foreground --config "$LB_TMP/nope.conf" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "nope.conf does not exist" <<<"$out" || lb_fail "missing config: rc=$rc: $out"
# unknown keys are reported, not fatal
echo "no_such_key = 1" >>"$LB_BROKER_CONF"
echo "pending_ttl = 2s" >>"$LB_BROKER_CONF"
lb_restart_broker
grep -q 'unknown key "no_such_key"' "$LB_BROKER_LOG" || lb_fail "an unknown key was not reported"
lb_pass "config errors: missing file is fatal, unknown keys are reported"

# the timer writes Expire events with nobody asking about the requests
p=$(lb_broker_api POST /v1/requests '{"hosts":["web2"],"user":"vendor","reason":"ttl","ticket":"T"}' lbx-ev-op |
    lb_broker_json "j['id']")
a=$(lb_broker_api POST /v1/requests '{"hosts":["web3"],"user":"vendor","reason":"short","ticket":"T","duration_s":2}' lbx-ev-op |
    lb_broker_json "j['id']")
lb_broker_api POST "/v1/requests/$a/approve" '{}' lbx-ev-ap >/dev/null
expired() { # expired ID REASON: an Expire event with that reason is in the trail
    lb_broker_api GET "/v1/audit?request=$1" |
        python3 -c 'import json,sys; sys.exit(0 if any(e["type"]=="Expire" and e["detail"]["reason"]==sys.argv[1] for e in json.load(sys.stdin)["events"]) else 1)' "$2"
}
lb_wait_for 80 expired "$p" pending_ttl || lb_fail "no Expire event for the unanswered request $p"
lb_wait_for 80 expired "$a" duration || lb_fail "no Expire event for the request $a past not_after"
lb_wait_for 50 sh -c "journalctl --no-pager -o cat LOCKBOX_REQUEST=$a LOCKBOX_EVENT=Expire | grep -q ." ||
    lb_fail "the Expire event of $a is not in journald"
lb_pass "pending and access expiry are written by the timer (and reach journald)"

# limits: past max_connections a call is answered 429 (even root's: the
# reserve is part of max_connections); below it again, 200
printf '%s\n' "max_connections = 3" "reserved_connections = 1" "max_connections_per_uid = 2" \
    >>"$LB_BROKER_CONF"
lb_restart_broker
python3 - "$LB_BROKER_SOCK" <<'PY' || lb_fail "connection limit"
import socket, sys, time
path = sys.argv[1]
socks = []
for i in range(4):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    socks.append(s)
time.sleep(0.3)
req = b"GET /v1/health HTTP/1.1\r\nHost: lockbox\r\n\r\n"
socks[3].sendall(req)
first = socks[3].recv(4096).decode().splitlines()[0]
assert " 429 " in first, first
for s in socks[1:]:
    s.close()
time.sleep(0.3)
socks[0].sendall(req)
second = socks[0].recv(4096).decode().splitlines()[0]
assert " 200 " in second, second
PY
lb_pass "past max_connections the broker answers 429"
