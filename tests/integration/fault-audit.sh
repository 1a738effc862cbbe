#!/bin/bash
# Fault injection, auditd: the recorder takes its exec records from the
# kernel's audit multicast stream, which is fed from the same backlog as
# auditd. Through a real sshd:
#  1. auditd stopped (SIGSTOP) with a small kernel backlog that does not wait
#     (auditctl -b 64 --backlog_wait_time 0) while the session runs 300
#     execs: the kernel drops records (its `lost` counter grows). Every exec
#     must be in the spool, or the spool must say that exec records were
#     lost (a note), or the session must end: no evidence lost unnoticed.
#  2. auditd killed in mid-session (only one this test started) and started
#     again before the session ends: the session's commands are still in the
#     spool, and the spool and journald say that auditd was not receiving
#     the recorder's AUDIT_USER_CMD records (they reached only the kernel
#     log), with a second note once it receives them again.
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
elif lb_wait_for 50 sh -c "journalctl --no-pager -q -o cat LOCKBOX_SESSION=$S LOCKBOX_REASON=audit_lost | grep -q 'lost'"; then
    # the recording's own note rests on kernel messages that printk's rate
    # limit may swallow; pam_lockbox's close compares the kernel's counter
    lb_pass "backlog full (kernel lost $lost): $n of 300 execs in the spool; at close journald says: $(journalctl --no-pager -q -o cat LOCKBOX_SESSION=$S LOCKBOX_REASON=audit_lost | tail -1)"
else
    lbb_bad "backlog full: the kernel lost $lost audit records, the spool has $n of 300 execs, and nothing says so (end: $ended)"
fi

# 2. auditd gone in mid-session, back before its end. Only an auditd this
#    test started (lbr_setup's lb_start_auditd) is killed, and started again
#    the same way. The kernel prints what no auditd takes through
#    printk_ratelimit (10 lines per 5 s, shared): the outage lasts over 6 s
#    with commands on both sides, as real ones do, so some lines get through
#    after the storm of check 1.
if [ "$(ps -o ppid= -p "$APID" 2>/dev/null | tr -d ' ')" != "$$" ]; then
    echo "# SKIP check 2: the running auditd (pid $APID) was not started by this test; it is not killed"
    lbb_done
    exit 77
fi
lbr_key
FLAGS=$LB_TMP/flags
install -d -m 0777 "$FLAGS"
LBB_TIMEOUT=120 lbb_ssh 127.0.0.1 "echo started; while [ ! -e $FLAGS/go ]; do sleep 0.1; done; /bin/true gone-1; /bin/true gone-2; sleep 6; /bin/true gone-3; echo gone-done; while [ ! -e $FLAGS/back ]; do sleep 0.1; done; sleep 9; /bin/true back-1; echo done" \
    >"$LB_TMP/gone.out" 2>"$LB_TMP/gone.err" &
sp=$!
lb_wait_for 150 grep -q started "$LB_TMP/gone.out" || lb_fail "session 2 did not start"
kill -KILL "$APID"
lb_wait_for 50 sh -c "! kill -0 $APID 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$APID/stat)\" = Z ]" || true
touch "$FLAGS/go"
lb_wait_for 150 grep -q gone-done "$LB_TMP/gone.out" || lb_fail "session 2 did not run its commands"
sleep 1
lb_start_auditd
touch "$FLAGS/back"
wait "$sp" || lbb_bad "session 2 failed while auditd was gone: $(cat "$LB_TMP/gone.err")"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
spool_cmds "$SPOOL" | grep -x '/bin/true gone-2' >/dev/null || lbb_bad "auditd gone: the exec is not in the spool"
notes=$(jq -r 'select(.kind == "note") | .text' "$SPOOL")
echo "# notes: $(tr '\n' '|' <<<"$notes")"
lb_audit_flush
if cat "$AUDIT_LOG"* 2>/dev/null | grep -a 'type=USER_CMD' | grep -a "lockbox_session=$S" | grep -a "cmd=$(printf '/bin/true gone-2' | od -An -tx1 | tr -d ' \n')" >/dev/null; then
    echo "# the AUDIT_USER_CMD of gone-2 reached auditd's log (the kernel held it: audit=1)"
fi
if grep -q 'auditd is not receiving audit records since' <<<"$notes" &&
    lb_wait_for 50 sh -c "journalctl --no-pager -a SYSLOG_IDENTIFIER=lockbox-record | grep -q 'session $S: auditd is not receiving audit records since'"; then
    lb_pass "auditd gone: the spool and journald say auditd was not receiving the session's audit records"
else
    lbb_bad "auditd gone: nothing in the spool and journald says auditd was not receiving this session's audit records"
fi
if grep -q 'auditd receives audit records again' <<<"$notes"; then
    lb_pass "auditd back: a second note says so"
else
    lbb_bad "auditd back: no note says auditd receives audit records again"
fi

lbb_done
