#!/bin/bash
# lockbox-record finds entries journald took and then lost, and re-sends them
# from the spool. The loss is real: journald is stopped (SIGSTOP) while the
# session writes, so what the recorder sends waits in journald's socket
# queue; then journald is killed (SIGKILL), which loses that queue, and a new
# journald is started. sendmsg() succeeded for those entries: only reading
# the journal back shows they are gone.
# 1. In mid-session: the recorder notices (a later entry shows up, an earlier
#    one never does), re-sends, and records a note saying so.
# 2. At the end of a session: the operator's ssh returns while journald is
#    still stopped (logout does not wait for journald); the recorder's
#    verifier, left behind as the service user, re-sends once journald is
#    back, until journald holds every seq, then exits.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup recdrop
CHECK=$top_srcdir/tests/integration/record-check.py
FLAGS=$(mktemp -d /tmp/lbx-flags.XXXXXX)
chmod 0755 "$FLAGS"
lb_defer "rm -rf '$FLAGS'"

journald_pid() {
    local p
    for p in $(pgrep -x systemd-journal); do
        [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" != Z ] && { echo "$p"; return 0; }
    done
    return 1
}
# stopped journalds are continued before anything else runs at exit
JSTOPPED=
lbd_cont() { [ -z "$JSTOPPED" ] || kill -CONT "$JSTOPPED" 2>/dev/null || true; }
lb_defer lbd_cont
# kill the stopped journald (its socket queue goes with it), start a new one
lbd_replace_journald() {
    kill -KILL "$JSTOPPED"
    lb_wait_for 100 sh -c "! kill -0 $JSTOPPED" || lb_fail "journald $JSTOPPED did not die"
    JSTOPPED=
    lb_spawn_journald
}
lbd_stop_journald() {
    JSTOPPED=$(journald_pid) || lb_fail "no journald"
    kill -STOP "$JSTOPPED"
}
lbd_wait_complete() { # session spool -> prints the check's JSON once journald has every seq
    local s=$1 spool=$2 j i
    for i in $(seq 120); do
        j=$(python3 "$CHECK" journal "$s" "$spool" 2>/dev/null) &&
            jq -e '.n_missing == 0 and (.differ | length) == 0' <<<"$j" >/dev/null && { echo "$j"; return 0; }
        sleep 0.5
    done
    echo "$j"
    return 1
}

# 1. lost in mid-session
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
"${SSH[@]}" "echo before
while [ ! -e $FLAGS/go1 ]; do sleep 0.1; done
for i in \$(seq 40); do echo lost-\$i; /bin/true lost-\$i; sleep 0.02; done
echo paused
while [ ! -e $FLAGS/go2 ]; do sleep 0.1; done
for i in \$(seq 20); do echo after-\$i; done
sleep 4; echo done" >"$LB_TMP/out1" 2>"$LB_TMP/err1" &
sshpid=$!
lb_wait_for 150 grep -q before "$LB_TMP/out1" || { lbr_explain; lb_fail "session 1 did not start"; }
lbd_stop_journald
touch "$FLAGS/go1"
lb_wait_for 300 grep -q paused "$LB_TMP/out1" || lb_fail "output stopped while journald was stopped"
sleep 1 # the recorder's sends to the stopped journald: queued, then timed out
lbd_replace_journald
touch "$FLAGS/go2"
wait "$sshpid" || { lbr_explain; lb_fail "session 1 failed: $(cat "$LB_TMP/err1")"; }
grep -qx done "$LB_TMP/out1" || lb_fail "session 1 output: $(tail -3 "$LB_TMP/out1")"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
J=$(lbd_wait_complete "$S" "$SPOOL") || lb_fail "journald does not hold every seq of session 1: $J"
note=$(jq -r 'select(.kind == "note") | .text' "$SPOOL" | grep -E '^journald lost [0-9]+ entr(y|ies) it had taken' || true)
[ -n "$note" ] || { jq -c 'select(.kind == "note")' "$SPOOL" >&2; lb_fail "no note of lost entries in the spool"; }
jq -e '.resent_entries >= 1' <<<"$J" >/dev/null || lb_fail "nothing re-sent: $J"
notes=$(jq -r 'select(.kind == "note") | .text' "$SPOOL")
! grep -q "audit marker did not come back" <<<"$notes" ||
    lb_fail "the recorder's audit marker was lost (kernel audit turned off by the journald restart?)"
V=$("$top_builddir/recorder/lockbox-replay" --journal verify "$S" 2>&1) || lb_fail "lockbox-replay --journal verify: $V"
lb_pass "mid-session: $(head -n1 <<<"$note"); journald holds every seq ($(jq -c '{entries,records,resent_entries}' <<<"$J"))"

# 2. lost at the end: the verifier
before=" $(pgrep -u lockbox-rec -x lockbox-record | tr '\n' ' ' || true) "
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
"${SSH[@]}" "echo start
while [ ! -e $FLAGS/go3 ]; do sleep 0.1; done
for i in \$(seq 5); do echo tail-\$i; done; /bin/true tail-cmd" >"$LB_TMP/out2" 2>"$LB_TMP/err2" &
sshpid=$!
lb_wait_for 150 grep -q start "$LB_TMP/out2" || { lbr_explain; lb_fail "session 2 did not start"; }
sleep 0.5 # the start entries reach journald
lbd_stop_journald
touch "$FLAGS/go3"
# logout does not wait for journald: ssh returns while it is still stopped
for i in $(seq 600); do kill -0 "$sshpid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$sshpid" 2>/dev/null || lb_fail "ssh did not return while journald was stopped (logout waits for journald)"
wait "$sshpid" || lb_fail "session 2 failed: $(cat "$LB_TMP/err2")"
[ "$(tail -n1 "$LB_TMP/out2")" = tail-5 ] || lb_fail "session 2 output: $(cat "$LB_TMP/out2")"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
jq -e 'select(.kind == "end")' "$SPOOL" >/dev/null || lb_fail "no end record in the spool"
# the verifier: the recorder's process, as the service user, survived the
# login's close (pam_lockbox ends every other process of the session)
ver=
for p in $(pgrep -u lockbox-rec -x lockbox-record || true); do
    [[ "$before" == *" $p "* ]] || { ver="$ver $p"; lb_defer "kill -KILL $p"; }
done
[ -n "$ver" ] || lb_fail "no verifier left running while journald is stopped"
for p in $ver; do
    [ "$(stat -c %U "/proc/$p")" = lockbox-rec ] || lb_fail "verifier $p is not lockbox-rec's"
    [ "$(awk '{ print $7 }' "/proc/$p/stat")" = 0 ] || lb_fail "verifier $p still has a terminal"
    # CAP_AUDIT_WRITE (bit 29) only: it ends no process and reads no audit stream
    # (it drops them right after its fork: allow it a moment)
    lb_wait_for 50 sh -c "[ \"\$(awk '\$1 == \"CapPrm:\" || \$1 == \"CapEff:\" { print \$2 }' /proc/$p/status | sort -u)\" = 0000000020000000 ]" ||
        lb_fail "verifier $p capabilities: $(grep -E '^Cap(Prm|Eff)' "/proc/$p/status" | tr '\n' ' ')"
done
lbd_replace_journald
J=$(lbd_wait_complete "$S" "$SPOOL") || lb_fail "journald does not hold every seq of session 2: $J"
for p in $ver; do
    lb_wait_for 300 sh -c "! kill -0 $p" || lb_fail "the verifier $p did not exit once journald had everything"
done
lost=$(journalctl --no-pager -o cat SYSLOG_IDENTIFIER=lockbox-record _UID="$(id -u lockbox-rec)" |
    grep -E "^session $S: journald lost [0-9]+ entries it had taken" || true)
[ -n "$lost" ] || lb_fail "the verifier did not report lost entries"
V=$("$top_builddir/recorder/lockbox-replay" --journal verify "$S" 2>&1) || lb_fail "lockbox-replay --journal verify: $V"
lb_pass "end of session: ssh returned with journald stopped; the verifier re-sent ($lost); journald holds every seq ($(jq -c '{entries,records,resent_entries}' <<<"$J"))"
