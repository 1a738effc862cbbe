#!/bin/bash
# Notifications: a webhook receiver that is down, then up, gets every event,
# in order per request; notify_command gets every event on stdin; events
# written while the broker was down are delivered after a restart (the outbox
# is persistent).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-broker.sh"
lb_require_root
[ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ] && { echo "SKIP: integration test"; exit 77; }
lb_lock
lb_tmpdir
here="$top_srcdir/tests/integration"

lb_add_user lbx-notify-op lockbox-operators
lb_add_user lbx-notify-ap lockbox-approvers
port=$(lb_free_port)
: >"$LB_TMP/hook"
: >"$LB_TMP/cmd"
chmod 666 "$LB_TMP/cmd"
lb_start_broker "webhook = http://127.0.0.1:$port/lockbox" \
    "notify_command = cat >> $LB_TMP/cmd" "notify_backoff_max = 2s"

create() {
    lb_broker_api POST /v1/requests \
        "{\"hosts\":[\"$1\"],\"user\":\"vendor\",\"reason\":\"notify test\",\"ticket\":\"T\",\"duration_s\":3600}" \
        lbx-notify-op | lb_broker_json "j['id']"
}

# events while the receiver is down
r1=$(create web1)
r2=$(create web2)
r3=$(create web3)
lb_broker_api POST "/v1/requests/$r1/approve" '{"comment":"ok"}' lbx-notify-ap >/dev/null
lb_broker_api POST "/v1/requests/$r2/deny" '{"reason":"no"}' lbx-notify-ap >/dev/null
lb_broker_api POST "/v1/requests/$r3/withdraw" '{}' lbx-notify-op >/dev/null
lb_broker_api POST "/v1/requests/$r1/revoke" '{"reason":"done"}' lbx-notify-ap >/dev/null
sleep 2
[ ! -s "$LB_TMP/hook" ] || lb_fail "the receiver got something while it was down"

# notify_command works while the webhook fails
lb_wait_for 100 sh -c "test \$(wc -l <$LB_TMP/cmd) -ge 7" || lb_fail "notify_command did not get 7 events"

# the receiver comes up: it gets every event
python3 "$here/broker-webhook-receiver.py" "$port" "$LB_TMP/hook" &
recv=$!
lb_defer "kill $recv"
lb_wait_for 200 sh -c "test \$(wc -l <$LB_TMP/hook) -ge 7" || lb_fail "the receiver did not get the 7 events once up"
lb_broker_api GET "/v1/audit" >"$LB_TMP/audit.json"
python3 "$here/broker-check-delivery.py" "$LB_TMP/audit.json" "$LB_TMP/hook" || lb_fail "webhook delivery"
lb_pass "a webhook receiver that was down got every event once up"
python3 "$here/broker-check-delivery.py" "$LB_TMP/audit.json" "$LB_TMP/cmd" || lb_fail "notify_command delivery"
lb_pass "notify_command got every event"

# events queued while the broker is down are delivered after a restart
kill "$recv"; wait "$recv" 2>/dev/null || true
r4=$(create web4)
lb_broker_api POST "/v1/requests/$r4/approve" '{}' lbx-notify-ap >/dev/null
kill -9 "$LB_BROKER_PID"
python3 "$here/broker-webhook-receiver.py" "$port" "$LB_TMP/hook" &
recv=$!
lb_defer "kill $recv"
lb_restart_broker
lb_wait_for 200 sh -c "test \$(wc -l <$LB_TMP/hook) -ge 9" || lb_fail "events of before the restart were not delivered"
lb_broker_api GET "/v1/audit" >"$LB_TMP/audit.json"
python3 "$here/broker-check-delivery.py" "$LB_TMP/audit.json" "$LB_TMP/hook" || lb_fail "delivery after restart"
lb_pass "the outbox survives a kill -9 of the broker"
grep -q '"type":"Create"' "$LB_TMP/cmd" || lb_fail "notify_command input is not the event JSON"
