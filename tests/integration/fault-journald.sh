#!/bin/bash
# Fault injection, journald killed (SIGKILL, no warning) in mid-session while
# the session prints and runs commands, and kept away past the 30 s the
# recorder tolerates silently and past the session's end; then started again.
# (record-journal-drops.sh covers a journald that took entries and lost them,
# mid-session and at the end; record-commands.sh a clean stop and restart.)
# Must hold: the session goes on (the spool holds everything) and its spool
# says journald was unreachable; ssh returns without waiting for journald;
# once journald is back the recorder's verifier sends every record, so that
# journald holds every seq of the spool and `lockbox-replay --journal verify`
# says OK.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/bypass-lib.sh"
lbb_setup fltjrnl
FLAGS=$LB_TMP/flags
install -d -m 0777 "$FLAGS"
journald_pid() {
    local p
    for p in $(pgrep -x systemd-journal); do
        [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" != Z ] && { echo "$p"; return 0; }
    done
    return 1
}

lbr_key
LBB_TIMEOUT=150 lbb_ssh 127.0.0.1 "echo before
while [ ! -e $FLAGS/go ]; do sleep 0.1; done
for i in \$(seq 200); do echo burst-\$i; /bin/true burst-\$i; done
sleep 35
for i in \$(seq 20); do echo late-\$i; /bin/true late-\$i; done
echo done" >"$LB_TMP/out" 2>"$LB_TMP/err" &
sp=$!
lb_wait_for 150 grep -q before "$LB_TMP/out" || lb_fail "session did not start: $(cat "$LB_TMP/err")"
sleep 0.5
JP=$(journald_pid) || lb_fail "no journald"
touch "$FLAGS/go"
sleep 0.05
kill -KILL "$JP"
sleep 1
wait "$sp" || lbb_bad "the session failed while journald was gone: $(tail -c 300 "$LB_TMP/err")"
grep -qx done "$LB_TMP/out" || lbb_bad "the session's output stopped while journald was gone: $(tail -n 2 "$LB_TMP/out")"
lb_journald_running && lb_fail "journald came back by itself (the test is blind)"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
SUM=$(python3 "$CHECK" spool "$SPOOL") || lb_fail "spool: $SUM"
n=$(jq '[.argv[] | select(.[0] == "/bin/true")] | length' <<<"$SUM")
[ "$n" = 220 ] || lbb_bad "the spool has $n of 220 commands run while journald was gone"
jq -r 'select(.kind == "note") | .text' "$SPOOL" | grep -q '^journald unreachable' ||
    lbb_bad "no note in the spool that journald was unreachable for over 30 s"
jq -e '.end.reason == "exit"' <<<"$SUM" >/dev/null || lbb_bad "end: $(jq -c .end <<<"$SUM")"
lb_spawn_journald
J=
for i in $(seq 120); do
    J=$(python3 "$CHECK" journal "$S" "$SPOOL" 2>/dev/null) &&
        jq -e '.n_missing == 0 and (.differ | length) == 0' <<<"$J" >/dev/null && break
    J=
    sleep 0.5
done
if [ -n "$J" ]; then
    lb_pass "journald killed for the rest of the session: once back it holds every seq ($(jq -c '{entries,records,resent_entries}' <<<"$J"))"
else
    lbb_bad "journald does not hold every seq of the session 60 s after it came back: $(python3 "$CHECK" journal "$S" "$SPOOL" 2>&1 | cut -c1-300)"
fi
V=$("$top_builddir/recorder/lockbox-replay" --journal verify "$S" 2>&1) && lb_pass "lockbox-replay --journal verify: $(head -n1 <<<"$V")" ||
    lbb_bad "lockbox-replay --journal verify: $V"
for p in $(pgrep -u lockbox-rec -x lockbox-record || true); do
    lb_wait_for 300 sh -c "! kill -0 $p" || lbb_bad "a verifier ($p) is still running after journald holds everything"
done

lbb_done
