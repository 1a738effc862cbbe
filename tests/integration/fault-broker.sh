#!/bin/bash
# Fault injection, the broker in mid-session, through a real sshd and the
# recorder with its production settings (60 s grace, 5 s polls):
#  1. the broker stalled (SIGSTOP: its socket still accepts, nothing answers)
#  2. the broker killed (SIGKILL: the socket refuses)
# Each time: a new login gets no way in (fail closed, and the command did not
# run), and the open session ends at the grace limit (not before 55 s, not
# after 80 s), its processes with it, with an end record, a note, and a
# message to the operator that says access could not be verified.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/bypass-lib.sh"
lbb_setup fltbrk
BSTOPPED=
lb_defer '[ -z "$BSTOPPED" ] || kill -CONT "$BSTOPPED"'

fault() { # what signal
    local what=$1 sig=$2 t0 el spool sum err
    lbr_key
    local rkey=$KEY req=$R
    # the job is found by its argv: its pid in the session is the session's
    # PID namespace's, not the host's
    local job="sleep 307.$RANDOM"
    LBB_TIMEOUT=120 lbb_ssh 127.0.0.1 "/usr/bin/touch $M/$sig-open; setsid $job </dev/null >/dev/null 2>&1 & echo bg=\$!; sleep 200" \
        >"$LB_TMP/$sig.out" 2>"$LB_TMP/$sig.err" &
    local sp=$!
    lb_wait_for 150 grep -q 'bg=' "$LB_TMP/$sig.out" || lb_fail "$what: session did not start: $(cat "$LB_TMP/$sig.err")"
    # a key for a new login, registered while the broker is up
    lbr_key
    kill "-$sig" "$LB_BROKER_PID"
    [ "$sig" = STOP ] && BSTOPPED=$LB_BROKER_PID
    t0=$(date +%s.%N)
    # no way in
    LBB_TIMEOUT=40 lbb_ssh 127.0.0.1 "/usr/bin/touch $M/$sig-new" >/dev/null 2>"$LB_TMP/$sig-new.err" || true
    if [ -e "$M/$sig-new" ]; then
        lbb_bad "$what: a new login ran a command while the broker was down"
    else
        lb_pass "$what: a new login is refused ($(grep -i "denied\\|lockbox" "$LB_TMP/$sig-new.err" | head -n1))"
    fi
    # the open session ends at the grace limit
    wait "$sp" || true
    el=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
    KEY=$rkey R=$req
    err=$(tr -d '\r' <"$LB_TMP/$sig.err")
    if python3 -c "import sys; sys.exit(0 if 55 <= $el <= 80 else 1)"; then
        lb_pass "$what: the open session ended ${el}s after (grace 60 s)"
    else
        lbb_bad "$what: the open session ended ${el}s after the broker went (grace 60 s)"
    fi
    lb_wait_for 50 sh -c "! pgrep -xf '$job' >/dev/null" || lbb_bad "$what: the session's setsid job ($job) outlived it"
    spool=$(ls -t "$LBR_SPOOL"/*.jsonl | head -1)
    sum=$(python3 "$CHECK" spool "$spool") || lb_fail "$what: spool: $sum"
    if jq -e '.end != null' <<<"$sum" >/dev/null && grep -q 'broker was unreachable' "$spool"; then
        lb_pass "$what: end record ($(jq -r .end.reason <<<"$sum")) and a note in the spool"
    else
        lbb_bad "$what: no end record or no note: $(jq -c .end <<<"$sum")"
    fi
    # what the operator was told
    if grep -qiE 'could not be verified|unreachable|cannot be reached' <<<"$err"; then
        lb_pass "$what: the operator was told: $(grep -iE 'lockbox' <<<"$err" | tail -n1)"
    else
        lbb_bad "$what: the operator was not told why the session ended (told: $(grep -i lockbox <<<"$err" | tail -n1))"
    fi
    if [ "$sig" = STOP ]; then kill -KILL "$LB_BROKER_PID" 2>/dev/null || true; kill -CONT "$LB_BROKER_PID" 2>/dev/null || true; BSTOPPED=; fi
    lb_wait_for 50 sh -c "! kill -0 $LB_BROKER_PID" || true
    lb_restart_broker
}

fault "broker stalled (SIGSTOP)" STOP
fault "broker killed (SIGKILL)" KILL

lbb_done
