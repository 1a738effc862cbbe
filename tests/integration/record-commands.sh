#!/bin/bash
# lockbox-record evidence under load and outage, through a real sshd:
# - a loop of 1,000 short execs gives 1,000 command records in journald and
#   1,000 AUDIT_USER_CMD records in auditd's log;
# - journald stopped in mid-session (by pid) and started again: nothing is
#   lost, the gap is re-sent (LOCKBOX_RESENT=1) and journald holds every seq;
# - audit off: the proc connector, from the start or from the moment audit is
#   turned off in mid-session, and audit again once it is back.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup reccmd
CHECK=$top_srcdir/tests/integration/record-check.py
AUDIT_LOG=$(awk -F= '/^ *log_file/{gsub(/ /,"",$2); print $2}' /etc/audit/auditd.conf 2>/dev/null)
AUDIT_LOG=${AUDIT_LOG:-/var/log/audit/audit.log}

# 1. 1,000 execs
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
OUT=$("${SSH[@]}" 'for i in $(seq 1000); do /bin/true $i; done; echo done-loop' 2>/dev/null) || lb_fail "loop session failed"
[ "$OUT" = done-loop ] || lb_fail "loop output: $OUT"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
n=$(python3 - "$SPOOL" <<'PY'
import json, sys, base64
seen = set()
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["kind"] == "cmd" and r["source"] == "audit":
        a = [base64.b64decode(x).decode() for x in r["argv"]]
        if len(a) == 2 and a[0] == "/bin/true":
            seen.add(int(a[1]))
print(len(seen) if seen == set(range(1, len(seen) + 1)) else -len(seen))
PY
)
[ "$n" = 1000 ] || lb_fail "spool has $n of 1000 /bin/true commands"
lb_wait_for 100 sh -c "journalctl -a -o json LOCKBOX_SESSION=$S LOCKBOX_KIND=end | grep -q ." || lb_fail "no end entry in journald"
nj=$(journalctl --no-pager -a -o json LOCKBOX_SESSION="$S" LOCKBOX_KIND=cmd | jq -r .LOCKBOX_ARGV | grep -c '^/bin/true [0-9]*$' || true)
[ "$nj" = 1000 ] || lb_fail "journald has $nj of 1000 command entries"
hexpfx=$(printf '/bin/true ' | od -An -tx1 | tr -d ' \n')
# auditd rotates its log (max_log_file): count in every file of it
audit_count() { cat "$AUDIT_LOG"* 2>/dev/null | grep -a 'type=USER_CMD' | grep -a "lockbox_session=$S" | grep -ac "cmd=$hexpfx" || true; }
lb_audit_flush
lb_wait_for 100 sh -c "[ \$(cat '$AUDIT_LOG'* | grep -a 'lockbox_session=$S' | grep -ac 'cmd=$hexpfx') -ge 1000 ]" || true
na=$(audit_count)
[ "$na" = 1000 ] || lb_fail "auditd has $na of 1000 AUDIT_USER_CMD records"
J=$(python3 "$CHECK" journal "$S" "$SPOOL") || lb_fail "journal: $J"
jq -e '.n_missing == 0 and (.differ | length) == 0' <<<"$J" >/dev/null || lb_fail "journal vs spool: $J"
lb_pass "1,000 execs: 1,000 cmd records (audit) in the spool, 1,000 in journald, 1,000 AUDIT_USER_CMD in $AUDIT_LOG"

# 2. journald stopped in mid-session, then back
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
"${SSH[@]}" 'echo before; sleep 3; for i in $(seq 300); do echo "line-$i"; done; /bin/echo during-outage; sleep 4; echo after' \
    >"$LB_TMP/gap-out" 2>/dev/null &
sshpid=$!
lb_wait_for 100 grep -q before "$LB_TMP/gap-out" || lb_fail "session 2 did not start"
JPID=$(pgrep -x systemd-journal | head -1)
[ -n "$JPID" ] || lb_fail "no journald"
lb_stop_pid "$JPID"
! lb_journald_running || lb_fail "journald still there"
lb_wait_for 100 grep -q during-outage "$LB_TMP/gap-out" || lb_fail "output stopped while journald was down"
sleep 1
lb_spawn_journald
wait "$sshpid" || lb_fail "session 2 failed"
grep -qx after "$LB_TMP/gap-out" || lb_fail "session 2 output: $(cat "$LB_TMP/gap-out")"
S=$(lbr_session_of "$R")
lb_wait_for 100 sh -c "journalctl -a -o json LOCKBOX_SESSION=$S LOCKBOX_KIND=end | grep -q ." || lb_fail "no end entry after the outage"
J=$(python3 "$CHECK" journal "$S" "$LBR_SPOOL/$S.jsonl") || lb_fail "journal: $J"
jq -e '.n_missing == 0 and (.differ | length) == 0 and .resent_entries >= 1' <<<"$J" >/dev/null ||
    lb_fail "after the outage: $J"
notes=$(jq -r 'select(.kind == "note") | .text' "$LBR_SPOOL/$S.jsonl")
! grep -q "audit marker did not come back" <<<"$notes" ||
    lb_fail "after the journald restart the recorder's audit marker was lost (audit turned off?)"
lb_pass "journald outage: every seq in journald afterwards, gap re-sent ($(jq -c '{entries,records,resent_entries}' <<<"$J"))"

# 3. audit disabled: the proc connector fallback, and every record says so
auditctl -e 0 >/dev/null
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
OUT=$("${SSH[@]}" '/bin/sleep 1.5; echo fallback-done' 2>/dev/null) || lb_fail "fallback session failed"
auditctl -e 1 >/dev/null
[ "$OUT" = fallback-done ] || lb_fail "fallback output: $OUT"
S=$(lbr_session_of "$R")
SUM=$(python3 "$CHECK" spool "$LBR_SPOOL/$S.jsonl") || lb_fail "spool: $SUM"
jq -e '.start.cmd_source == "proc" and (.cmd_sources.audit // 0) == 0 and .cmd_sources.proc >= 1 and
       any(.argv[]; . == ["/bin/sleep", "1.5"])' <<<"$SUM" >/dev/null || lb_fail "fallback records: $SUM"
lb_pass "audit off: commands from the proc connector, every record says source proc"

# 4. audit turned off in mid-session (journald's Audit=no at a restart, an
#    admin's auditctl -e 0), then on again: the recorder notices both, notes
#    them, takes commands from the proc connector meanwhile and from audit after
FLAGS=$(mktemp -d /tmp/lbx-flags.XXXXXX)
chmod 0755 "$FLAGS"
lb_defer "rm -rf '$FLAGS'"
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
"${SSH[@]}" "/bin/echo phase-audit
while [ ! -e $FLAGS/off ]; do sleep 0.1; done
/bin/sleep 0.71; /bin/echo phase-proc
while [ ! -e $FLAGS/on ]; do sleep 0.1; done
/bin/sleep 0.2; /bin/echo phase-audit-again; /bin/sleep 0.2" >"$LB_TMP/sw-out" 2>/dev/null &
sshpid=$!
lb_wait_for 150 grep -q phase-audit "$LB_TMP/sw-out" || { lbr_explain; lb_fail "session 4 did not start"; }
auditctl -e 0 >/dev/null
touch "$FLAGS/off"
lb_wait_for 100 grep -q phase-proc "$LB_TMP/sw-out" || lb_fail "session 4 stalled with audit off"
auditctl -e 1 >/dev/null
touch "$FLAGS/on"
wait "$sshpid" || lb_fail "session 4 failed"
grep -q phase-audit-again "$LB_TMP/sw-out" || lb_fail "session 4 output: $(cat "$LB_TMP/sw-out")"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
python3 "$CHECK" spool "$SPOOL" >/dev/null || lb_fail "spool of session 4 does not verify"
# the order of what the spool says: audit, the note, proc, the note, audit
ORDER=$(jq -r 'if .kind == "note" then "note:" + .text
               elif .kind == "cmd" then "cmd:" + .source + ":" + (.argv_text // "")
               else empty end' "$SPOOL")
grep -q '^cmd:audit:/bin/echo phase-audit$' <<<"$ORDER" || lb_fail "first command not from audit: $ORDER"
# (|| true: a pattern that is missing must reach the lb_fail below, with the order)
off=$(grep -n '^note:kernel audit was turned off: commands now come from the proc connector' <<<"$ORDER" | head -1 | cut -d: -f1 || true)
prc=$(grep -n '^cmd:proc:/bin/sleep 0.71$' <<<"$ORDER" | head -1 | cut -d: -f1 || true)
on=$(grep -n '^note:kernel audit is on again' <<<"$ORDER" | head -1 | cut -d: -f1 || true)
aud=$(grep -n '^cmd:audit:/bin/echo phase-audit-again$' <<<"$ORDER" | head -1 | cut -d: -f1 || true)
[ -n "$off" ] && [ -n "$prc" ] && [ -n "$on" ] && [ -n "$aud" ] && [ "$off" -lt "$prc" ] &&
    [ "$prc" -lt "$on" ] && [ "$on" -lt "$aud" ] || lb_fail "audit off/on in mid-session: $ORDER"
! grep -q "audit marker did not come back" <<<"$ORDER" || lb_fail "the end marker was lost: $ORDER"
lb_pass "audit turned off and on in mid-session: noted both ways, /bin/sleep 0.71 from proc, then audit again"
