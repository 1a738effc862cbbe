#!/bin/bash
# Fault injection, auditd: the recorder takes its exec records from the
# kernel's audit multicast stream, which is fed from the same backlog as
# auditd. Through a real sshd:
#  1. auditd stopped (SIGSTOP) with a small kernel backlog that does not wait
#     (auditctl -b 64 --backlog_wait_time 0) while the session runs 300
#     execs: the kernel drops records (its `lost` counter grows). Every exec
#     must be in the spool, or the spool must say that exec records were
#     lost (a note), or the session must end: no evidence lost unnoticed.
#  2. auditd killed and not there for the rest of the session: the session's
#     commands are still in the spool and journald, and the recorder's own
#     AUDIT_USER_CMD records reach auditd's log once it is back, or the spool
#     says they could not be sent.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/bypass-lib.sh"
lbb_setup fltaudit
AUDIT_LOG=$(awk -F= '/^ *log_file/{gsub(/ /,"",$2); print $2}' /etc/audit/auditd.conf 2>/dev/null)
AUDIT_LOG=${AUDIT_LOG:-/var/log/audit/audit.log}
st() { auditctl -s | awk -v k="$1" '$1 == k { print $2 }'; }
APID=$(st pid)
[ -n "$APID" ] && [ "$APID" != 0 ] || lb_fail "no auditd"
BL=$(st backlog_limit) BWT=$(st backlog_wait_time)
lb_defer "auditctl -b ${BL:-8192} --backlog_wait_time ${BWT:-60000}"
ASTOPPED=
lb_defer '[ -z "$ASTOPPED" ] || kill -CONT "$ASTOPPED"'

spool_cmds() { # spool -> one argv per line
    python3 - "$1" <<'PY'
import base64, json, sys
for line in open(sys.argv[1], "rb"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r["kind"] == "cmd":
        print(" ".join(base64.b64decode(a).decode("utf-8", "replace") for a in r["argv"]))
PY
}

# 1. backlog full
lbr_key
lost0=$(st lost)
auditctl -b 64 --backlog_wait_time 0 >/dev/null
kill -STOP "$APID"
ASTOPPED=$APID
set +e
LBB_TIMEOUT=120 lbb_ssh 127.0.0.1 'for i in $(seq 300); do /bin/true bl-$i; done; echo loop-done' \
    >"$LB_TMP/bl.out" 2>"$LB_TMP/bl.err"
rc=$?
set -e
kill -CONT "$APID"
ASTOPPED=
auditctl -b "${BL:-8192}" --backlog_wait_time "${BWT:-60000}" >/dev/null
lost=$(( $(st lost) - lost0 ))
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
[ -s "$SPOOL" ] || lb_fail "no spool for session $S"
n=$(spool_cmds "$SPOOL" | grep -c '^/bin/true bl-[0-9]*$' || true)
notes=$(jq -r 'select(.kind == "note") | .text' "$SPOOL")
ended=$(jq -r 'select(.kind == "end") | .reason' "$SPOOL")
echo "# backlog: rc $rc, kernel lost $lost, spool has $n of 300 execs, end: $ended, notes: $(tr '\n' '|' <<<"$notes")"
[ "$lost" -gt 0 ] || [ "$n" = 300 ] || lb_fail "the kernel lost nothing yet the spool has $n of 300"
if [ "$n" = 300 ]; then
    lb_pass "backlog full (kernel lost $lost): all 300 execs are in the spool"
elif grep -qiE 'lost|backlog|missed|dropped' <<<"$notes"; then
    lb_pass "backlog full (kernel lost $lost): $n of 300 execs in the spool, and a note says records were lost"
elif [ "$rc" != 0 ] && [ "$ended" != exit ]; then
    lb_pass "backlog full (kernel lost $lost): the session ended ($ended)"
else
    lbb_bad "backlog full: the kernel lost $lost audit records, the spool has $n of 300 execs, and nothing says so (end: $ended)"
fi

# 2. auditd gone for the rest of the session, back after it
lbr_key
FLAGS=$LB_TMP/flags
install -d -m 0777 "$FLAGS"
LBB_TIMEOUT=120 lbb_ssh 127.0.0.1 "echo started; while [ ! -e $FLAGS/go ]; do sleep 0.1; done; /bin/true gone-1; /bin/true gone-2; echo done" \
    >"$LB_TMP/gone.out" 2>"$LB_TMP/gone.err" &
sp=$!
lb_wait_for 150 grep -q started "$LB_TMP/gone.out" || lb_fail "session 2 did not start"
kill -KILL "$APID"
lb_wait_for 50 sh -c "! kill -0 $APID 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$APID/stat)\" = Z ]" || true
touch "$FLAGS/go"
wait "$sp" || lbb_bad "session 2 failed while auditd was gone: $(cat "$LB_TMP/gone.err")"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
spool_cmds "$SPOOL" | grep -qx '/bin/true gone-2' || lbb_bad "auditd gone: the exec is not in the spool"
mkdir -p /var/log/audit
auditd -n >/dev/null 2>&1 &
NAPID=$!
lb_defer "lb_stop_pid $NAPID"
lb_wait_for 100 lb_auditd_alive || lb_fail "auditd did not start again"
lb_audit_flush
sleep 2
lb_audit_flush
if cat "$AUDIT_LOG"* 2>/dev/null | grep -a 'type=USER_CMD' | grep -a "lockbox_session=$S" | grep -aq "cmd=$(printf '/bin/true gone-2' | od -An -tx1 | tr -d ' \n')"; then
    lb_pass "auditd gone: the exec is in the spool, and its AUDIT_USER_CMD reached auditd's log once it was back"
elif jq -r 'select(.kind == "note") | .text' "$SPOOL" | grep -qi audit; then
    lb_pass "auditd gone: the exec is in the spool, and a note says the audit record could not be delivered"
else
    lbb_bad "auditd gone: the AUDIT_USER_CMD of /bin/true gone-2 never reached auditd's log, and the spool does not say so"
fi

lbb_done
