#!/bin/bash
# The kernel's audit losing records is noticed and said in the evidence
# (docs/EVIDENCE.md §5, "Kernel audit losing records"): in a recorded session
# (real sshd, auditd), an exec storm while the kernel's backlog is tiny and
# nothing waits for room (auditctl -b 4 --backlog_wait_time 0) makes the
# kernel drop records; the recording then holds a note saying so, with the
# kernel's lost counter, and the start record holds the counter at the start;
# at the session's close pam_lockbox (root) compares the counter with the one
# it stored at the open and says the loss, with the session and the count, in
# journald and auditd.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup recloss
# (lbr_setup gave the operator the recorder as login shell)
wait_was=$(auditctl -s | awk '$1=="backlog_wait_time"{print $2}')
lb_defer "auditctl -b 8192 --backlog_wait_time ${wait_was:-60000}"

lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
"${SSH[@]}" 'echo started; sleep 3; for i in $(seq 3000); do /bin/true $i; done; echo storm-done; sleep 2; echo after' \
    >"$LB_TMP/out" 2>"$LB_TMP/err" &
sshpid=$!
lb_defer "kill $sshpid"
lb_wait_for 100 grep -q started "$LB_TMP/out" || lb_fail "the session did not start: $(cat "$LB_TMP/err")"
lost0=$(auditctl -s | awk '$1=="lost"{print $2}')
auditctl -b 4 --backlog_wait_time 0 >/dev/null
lb_wait_for 600 grep -q storm-done "$LB_TMP/out" || lb_fail "the storm did not end"
auditctl -b 8192 --backlog_wait_time "${wait_was:-60000}" >/dev/null
lost1=$(auditctl -s | awk '$1=="lost"{print $2}')
[ "$lost1" -gt "$lost0" ] || lb_fail "the kernel lost nothing ($lost0 -> $lost1): test is broken"
wait $sshpid || lb_fail "session failed: $(cat "$LB_TMP/err")"
grep -q after "$LB_TMP/out" || lb_fail "the session did not run to its end"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
lb_wait_for 100 sh -c "grep -q '\"kind\":\"end\"' '$SPOOL'" || lb_fail "no end record"
python3 - "$SPOOL" "$lost0" "$lost1" <<'PY' || lb_fail "no note of the loss: $(grep '"note"' "$SPOOL" | tail -3)"
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
lost0, lost1 = int(sys.argv[2]), int(sys.argv[3])
assert recs[0]["audit"]["lost"] <= lost0, recs[0]["audit"]
notes = [r["text"] for r in recs if r["kind"] == "note" and "audit lost records" in r["text"]]
assert notes, [r["text"] for r in recs if r["kind"] == "note"]
m = re.search(r"audit_lost=(\d+), (\d+) since it started", notes[0])
assert m and lost0 < int(m.group(1)) <= lost1 and int(m.group(2)) > 0, notes
PY
lb_wait_for 50 sh -c "journalctl --no-pager SYSLOG_IDENTIFIER=lockbox-record | grep -q 'session $S: the kernel.s audit lost records'" ||
    lb_fail "no journal message of the loss"
lb_pass "kernel audit loss in mid-session: noted in the recording (lost $lost0 -> $lost1) and the journal"
# at the session's close, as root (pam_lockbox): the counter against the one
# at its open, in journald with LOCKBOX_SESSION and in auditd
AUDIT_LOG=$(awk -F= '/^ *log_file/{gsub(/ /,"",$2); print $2}' /etc/audit/auditd.conf 2>/dev/null)
AUDIT_LOG=${AUDIT_LOG:-/var/log/audit/audit.log}
close_msg() { journalctl --no-pager -a -o cat SYSLOG_IDENTIFIER=pam_lockbox LOCKBOX_SESSION="$S" | grep "the kernel's audit lost"; }
lb_wait_for 100 close_msg >/dev/null || lb_fail "no close-time journal message of the loss for session $S"
m=$(close_msg | tail -n1)
n=$(sed -n "s/.*audit lost \([0-9]*\) records while it was open.*/\1/p" <<<"$m")
[ -n "$n" ] && [ "$n" -gt 0 ] && grep -q "session $S:" <<<"$m" ||
    lb_fail "the close-time message does not name the session and the count: $m"
[ "$n" -ge $((lost1 - lost0)) ] || lb_fail "the close-time count $n is less than the $((lost1 - lost0)) lost during the storm: $m"
close_audit() { # auditd writes in batches: push them out first
    lb_audit_flush
    cat "$AUDIT_LOG"* 2>/dev/null | grep -a 'op=lockbox-session-audit-lost' |
        grep -a "lockbox_session=\"$S\" .* audit_lost=$n " >/dev/null
}
lb_wait_for 50 close_audit || lb_fail "no op=lockbox-session-audit-lost for session $S in auditd's log"
lb_pass "kernel audit loss: said at the session's close by pam_lockbox (session $S, $n records) in journald and auditd"
