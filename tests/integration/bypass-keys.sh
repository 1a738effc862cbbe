#!/bin/bash
# Bypass suite, keys and time: keys planted in ~/.ssh/authorized_keys and
# authorized_keys2 (with a global sshd_config that reads both), a per-session
# key used again (while its session is open, and after), two logins racing
# with one key (exactly one gets a session), and a host whose clocks disagree
# with the broker's (sshd and pam_lockbox see a skewed wall clock and
# monotonic clock; the recorder counts down from the broker's remaining_s).
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/bypass-lib.sh"
lbb_setup bpkeys
lbb_hostile_globals
as_op() { install -o lbxrvendor -g lbxrvendor -m "${2:-0600}" /dev/stdin "$1"; }

# 1. planted keys, with an approved request for the account open
lbr_key
for f in authorized_keys authorized_keys2; do
    ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/planted-$f" </dev/null
    as_op "$OPHOME/.ssh/$f" <"$LB_TMP/planted-$f.pub"
    KEY=$LB_TMP/planted-$f lbb_ssh 127.0.0.1 "/usr/bin/touch $M/planted-$f" >/dev/null 2>&1 || true
    if [ -e "$M/planted-$f" ]; then lbb_bad "a key planted in ~/.ssh/$f opened a session"; else lb_pass "a key planted in ~/.ssh/$f: refused"; fi
    rm -f "$OPHOME/.ssh/$f"
done
# control: the same sshd takes ~/.ssh/authorized_keys2 from a plain account
lb_add_user lbxrplain
PH=$(getent passwd lbxrplain | cut -d: -f6)
install -d -o lbxrplain -m 0700 "$PH/.ssh"
install -o lbxrplain -m 0600 "$LB_TMP/planted-authorized_keys2.pub" "$PH/.ssh/authorized_keys2"
mapfile -t O < <(lb_ssh_opts)
OUT=$(timeout 30 ssh -F /dev/null "${O[@]}" -i "$LB_TMP/planted-authorized_keys2" -o IdentitiesOnly=yes \
    -l lbxrplain 127.0.0.1 echo plain-in 2>/dev/null) || true
[ "$OUT" = plain-in ] || lb_fail "control: sshd does not read authorized_keys2 (the check above is blind): $OUT"

# 2. key reuse: while the first session is open, and after it ended
lbr_key
lbb_ssh 127.0.0.1 "/usr/bin/touch $M/reuse-1; sleep 5" >/dev/null 2>&1 &
first=$!
lb_wait_for 150 test -e "$M/reuse-1" || lb_fail "first session did not start"
lbb_ssh 127.0.0.1 "/usr/bin/touch $M/reuse-2" >/dev/null 2>&1 || true
wait "$first" || true
lbb_ssh 127.0.0.1 "/usr/bin/touch $M/reuse-3" >/dev/null 2>&1 || true
[ -e "$M/reuse-2" ] && lbb_bad "a key used again while its session was open opened a second session"
[ -e "$M/reuse-3" ] && lbb_bad "a key used again after its session ended opened a session"
[ -e "$M/reuse-2" ] || [ -e "$M/reuse-3" ] || lb_pass "a per-session key opens one session: reuse during and after refused"

# 3. two logins racing with one key: exactly one session, and it is recorded
for round in 1 2 3; do
    lbr_key
    for i in 1 2; do
        lbb_ssh 127.0.0.1 "/usr/bin/touch $M/race-$round-$i; sleep 1" >/dev/null 2>"$LB_TMP/race-$round-$i.err" &
        eval "p$i=\$!"
    done
    wait "$p1" || true
    wait "$p2" || true
    n=$(find "$M" -name "race-$round-*" | wc -l)
    if [ "$n" = 1 ]; then
        f=$(find "$M" -name "race-$round-*")
        lbb_ran_recorded "$f" || lbb_bad "race round $round: the winner's command is not in the spool"
        lb_pass "race round $round: two logins with one key, one session ($(basename "$f"))"
    else
        lbb_bad "race round $round: $n sessions from one key ($(cat "$LB_TMP/race-$round-"*.err | grep -v Warning | tr "\n" " "))"
    fi
done

# 4. a host whose clocks disagree with the broker's: a second sshd (same
#    broker, spool and recorder) with a shim that moves sshd's and
#    pam_lockbox's wall clock 2 h back and monotonic clock 1 h ahead
cc -shared -fPIC -o "$LB_TMP/clock-shim.so" "$top_srcdir/tests/integration/bypass-clock-shim.c" -ldl ||
    lb_fail "cannot build the clock shim"
chmod 0755 "$LB_TMP/clock-shim.so"
LD_PRELOAD=$LB_TMP/clock-shim.so LBX_SKEW_WALL_S=-7200 LBX_SKEW_MONO_S=3600 LB_SSHD_LOCKBOX=full lb_start_sshd bpskew
# a. an expired request: sshd's clock says its key line is still valid
lbr_key 3
sleep 5
lbb_ssh 127.0.0.1 "/usr/bin/touch $M/skew-expired" >/dev/null 2>&1 || true
if [ -e "$M/skew-expired" ]; then lbb_bad "host clock 2 h slow: the key of an expired request opened a session"; else lb_pass "host clock 2 h slow: an expired request's key is refused (the broker's clock rules)"; fi
# b. a 20 s request: pam_lockbox records a monotonic time 1 h ahead; the
#    session still ends at the broker's not_after
lbr_key 20
NA_S=$(date -d "$(lb_broker_api GET "/v1/requests/$R" "" lbxrappr | jq -r .not_after)" +%s)
LBB_TIMEOUT=60 lbb_ssh 127.0.0.1 "/usr/bin/touch $M/skew-run; sleep 50" >/dev/null 2>"$LB_TMP/skew.err" &
sp=$!
lb_wait_for 150 test -e "$M/skew-run" || lb_fail "the skewed host's session did not start: $(cat "$LB_TMP/skew.err"; tail -5 "$LB_SSHD_LOG")"
# the session record is in the state_dir of the lockbox.conf this sshd uses
# (a second test sshd shares the first one's)
sd=$(sed -n 's/^state_dir = //p' "$LB_SSHD_HOSTCONF" | tail -1)
rec=$(ls "$sd"/sessions/*.json 2>/dev/null | head -1 || true)
[ -n "$rec" ] || lb_fail "no session record in $sd/sessions: the check is blind"
off=$(python3 -c "import json,time; print(int(json.load(open('$rec'))['mono_ms']/1000 - time.clock_gettime(time.CLOCK_MONOTONIC)))")
[ "$off" -gt 3000 ] || lb_fail "the shim did not reach pam_lockbox (mono_ms offset ${off}s): the check is blind"
wait "$sp" || true
el=$(( $(date +%s) - NA_S ))
if [ "$el" -le 8 ]; then
    lb_pass "host monotonic clock 1 h ahead: the session ended ${el}s from the broker's not_after"
else
    lbb_bad "host monotonic clock 1 h ahead: the session ran ${el}s past the broker's not_after"
fi
lbb_ran_recorded "$M/skew-run" || lbb_bad "the skewed host's session was not recorded"

lbb_done
