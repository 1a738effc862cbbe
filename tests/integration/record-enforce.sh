#!/bin/bash
# lockbox-record enforcement through a real sshd: the operator cannot kill the
# recorder (EPERM from outside the session; inside, it is not even in the
# session's PID namespace); a recorder killed anyway (by root) ends the session;
# revocation ends the session within 10 s, every process of it included (even
# one that left with setsid), with end reason "revoked".
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup recenf
CHECK=$top_srcdir/tests/integration/record-check.py

# 1. kill -9 of the recorder by the operator fails; root's kill -9 ends the session
lbr_key
mapfile -t SSH < <(lbr_ssh_argv -tt)
steps=$(cat <<JSON
[["expect", "\\\\$ $", 20],
 ["send", "sleep 7654301 & echo bg=\$!\n"], ["expect", "bg=[0-9]+", 10],
 ["send", "kill -9 1; kill -STOP 1; kill -9 \$PPID\n"], ["sleep", 0.5],
 ["send", "echo still-here\n"], ["expect", "still-here\\\\r\\\\n", 10],
 ["sleep", 0.5], ["mark", "$LB_TMP/ssh1.pid"], ["sleep", 0.2],
 ["eof", 20]]
JSON
)
python3 "$LBR_DRIVE" "$steps" "$LB_TMP/t1" -- "${SSH[@]}" &
drive=$!
lb_wait_for 300 test -s "$LB_TMP/ssh1.pid" || lb_fail "session did not get going"
grep -q "Operation not permitted" "$LB_TMP/t1" 2>/dev/null || true
REC=$(grep -ao 'rec=[0-9]*' "$LB_TMP/t1" 2>/dev/null | head -1 | cut -d= -f2) || true
# the transcript is written at the end; find the recorder by its session instead
S=$(lbr_session_of "$R")
REC=$(pgrep -u lockbox-rec -x lockbox-record | while read -r p; do
        [ -f "$LBR_SPOOL/$S.jsonl" ] && case "$(readlink /proc/"$p"/fd/0)" in /dev/pts/*) echo "$p";; esac
    done | head -1)
[ -n "$REC" ] || lb_fail "recorder process not found"
grep -q CapEff:.*0000000000000000 /proc/"$REC"/status && lb_fail "recorder has no capabilities"
caps=$(awk '/^CapEff/{print $2}' /proc/"$REC"/status)
[ "$caps" = "0000002020000020" ] || lb_fail "recorder capabilities $caps"
# the recorder is out of the session's PID namespace (it cannot even name
# it); from outside, another process of the operator cannot signal it
runuser -u lbxrvendor -- kill -9 "$REC" 2>"$LB_TMP/kill.err" && lb_fail "the operator's kill -9 of the recorder worked"
grep -q "Operation not permitted" "$LB_TMP/kill.err" || lb_fail "operator's kill: $(cat "$LB_TMP/kill.err")"
runuser -u lbxrvendor -- kill -STOP "$REC" 2>/dev/null && lb_fail "the operator's kill -STOP of the recorder worked"
kill -9 "$REC"
wait "$drive" && true
T=$(cat "$LB_TMP/t1")
grep -q "still-here" <<<"$T" || lb_fail "the session did not survive the operator's kills: $T"
# (pids inside the session are its PID namespace's: find the job by its argv)
lb_wait_for 50 sh -c "! pgrep -xf 'sleep 7654301' >/dev/null" || lb_fail "background job survived the recorder"
[ -f "$LB_TMP/t1.eof" ] || lb_fail "the ssh client did not see the end"
lb_pass "operator's kill -9 / kill -STOP of the recorder: EPERM (and PID 1 of the session is immune from inside); root's kill -9 ends the session and its jobs"

# 2. revoke in mid-session: ends within 10 s, processes gone (setsid too)
lbr_key
mapfile -t SSH < <(lbr_ssh_argv -tt)
steps=$(cat <<JSON
[["expect", "\\\\$ $", 20],
 ["send", "setsid sleep 7654302 </dev/null >/dev/null 2>&1 & echo bg=\$!\n"], ["expect", "bg=[0-9]+", 10],
 ["sleep", 0.5], ["mark", "$LB_TMP/ssh2.pid"],
 ["eof", 30]]
JSON
)
python3 "$LBR_DRIVE" "$steps" "$LB_TMP/t2" -- "${SSH[@]}" &
drive=$!
lb_wait_for 300 test -s "$LB_TMP/ssh2.pid" || lb_fail "session 2 did not get going"
S=$(lbr_session_of "$R")
t0=$(date +%s.%N)
lb_req_revoke lbxrappr "$R"
wait "$drive" || true
[ -f "$LB_TMP/t2.eof" ] || lb_fail "revoked session did not end: $(cat "$LB_TMP/t2")"
el=$(python3 -c "print(float(open('$LB_TMP/t2.eof').read()) - $t0)")
python3 -c "import sys; sys.exit(0 if $el <= 10 else 1)" || lb_fail "revocation took ${el}s"
grep -q "access was revoked" "$LB_TMP/t2" || lb_fail "operator not told: $(cat "$LB_TMP/t2")"
lb_wait_for 30 sh -c "! pgrep -xf 'sleep 7654302' >/dev/null" || lb_fail "setsid job survived revocation"
SUM=$(python3 "$CHECK" spool "$LBR_SPOOL/$S.jsonl") || lb_fail "spool: $SUM"
jq -e '.end.reason == "revoked"' <<<"$SUM" >/dev/null || lb_fail "end: $(jq -c .end <<<"$SUM")"
lb_broker_api GET "/v1/sessions/$S" | jq -e '.state == "ended"' >/dev/null || lb_fail "broker session not ended"
lb_pass "revocation ended the session in ${el}s, setsid job gone, end reason revoked"

# 3. evidence that cannot be written ends the session: a spool on a full
# filesystem (a 256 KiB tmpfs) while the session prints 1 MiB
mount -t tmpfs -o size=256k lbx-test-spool "$LBR_SPOOL"
lb_defer "umount '$LBR_SPOOL'"
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
set +e
"${SSH[@]}" 'head -c 1048576 /dev/zero | base64; echo not-reached-$((6*7))' >"$LB_TMP/full-out" 2>"$LB_TMP/full-err"
RC=$?
set -e
[ "$RC" != 0 ] || lb_fail "session went on without evidence (rc 0)"
grep -q "not-reached-42" "$LB_TMP/full-out" && lb_fail "the session ran to its end without evidence"
grep -q "could not be recorded" "$LB_TMP/full-err" || lb_fail "operator not told: $(tail -c 300 "$LB_TMP/full-err")"
[ "$(wc -c <"$LB_TMP/full-out")" -lt 400000 ] || lb_fail "output kept flowing without evidence: $(wc -c <"$LB_TMP/full-out") bytes"
S=$(lbr_session_of "$R")
lb_broker_api GET "/v1/sessions/$S" | jq -e '.state == "ended" and .end_reason == "evidence_failure"' >/dev/null ||
    lb_fail "broker session: $(lb_broker_api GET "/v1/sessions/$S")"
lb_pass "spool full: the session ended (evidence_failure), the operator told, output stopped"

# 4. the broker unreachable in mid-session: the recorder (run here directly
# as root, the only caller whose options count, with a 3 s grace instead of
# 60 s) ends the session as revoked, with a note, once the grace is over.
lbr_key_for_root() {
    R=$(lb_req_new lbxrop "$H" root 3600)
    lb_req_approve lbxrappr "$R"
    KEY=$LB_TMP/key-$R
    lb_req_key lbxrop "$R" "$KEY"
}
lbr_key_for_root
install -d -m 0700 "$LB_TMP/state" "$LB_TMP/state/sessions"
install -d -m 0755 "$LB_TMP/spool2"
cat >"$LB_TMP/rec.conf" <<CONF
broker = unix:$LB_BROKER_SOCK
host_name = $H
state_dir = $LB_TMP/state
spool_dir = $LB_TMP/spool2
CONF
(
    echo 0 >/proc/self/loginuid # a fresh audit session for this subshell
    ses=$(cat /proc/self/sessionid)
    sj=$(lb_broker_api POST /v1/sessions "$(jq -cn --arg k "$(cut -d' ' -f1,2 "$KEY.pub")" --argjson s "$ses" \
        --arg h "$H" '{host:$h,user:"root",public_key:$k,audit_session:$s}')")
    jq -c --argjson s "$ses" --argjson m "$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC)*1000))')" \
        '{session, request, operator, user, host, not_after, remaining_s, mono_ms: $m, audit_session: $s, sshd_pid: 0}' \
        <<<"$sj" >"$LB_TMP/state/sessions/$ses.json"
    steps='[["expect", "ready", 20], ["mark", "'"$LB_TMP/rec4.pid"'"], ["eof", 30]]'
    SSH_ORIGINAL_COMMAND='echo ready; sleep 100' python3 "$LBR_DRIVE" "$steps" "$LB_TMP/t4" -- \
        "$top_builddir/recorder/lockbox-record" --config "$LB_TMP/rec.conf" --poll-ms 500 --broker-grace-ms 3000
) &
sub=$!
lb_wait_for 200 test -s "$LB_TMP/rec4.pid" || lb_fail "direct session did not start: $(cat "$LB_TMP/t4" 2>/dev/null)"
t0=$(date +%s.%N)
lb_stop_pid "$LB_BROKER_PID"
wait "$sub" || true
[ -f "$LB_TMP/t4.eof" ] || lb_fail "session went on without the broker: $(cat "$LB_TMP/t4")"
el=$(python3 -c "print(round(float(open('$LB_TMP/t4.eof').read()) - $t0, 1))")
python3 -c "import sys; sys.exit(0 if 3 <= $el <= 12 else 1)" || lb_fail "ended ${el}s after the broker went (grace 3 s)"
S4=$(ls "$LB_TMP/spool2" | head -1)
SUM=$(python3 "$CHECK" spool "$LB_TMP/spool2/$S4") || lb_fail "spool: $SUM"
jq -e '.end.reason == "revoked"' <<<"$SUM" >/dev/null || lb_fail "end: $(jq -c .end <<<"$SUM")"
grep -q "broker was unreachable" "$LB_TMP/spool2/$S4" || lb_fail "no note about the broker"
lb_pass "broker unreachable: session kept through the grace, ended ${el}s after (revoked, with a note)"
