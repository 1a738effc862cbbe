#!/bin/bash
# Bypass suite, ssh channels: with a careless global sshd_config in front of
# the shipped Match block (every forwarding, tunnels, many sessions allowed),
# an approved operator tries the known ways to act beside the recorder:
# commands with and without a terminal, ssh -N, ControlMaster multiplexing
# (a second session over one connection, -O forward), -W, local, remote,
# dynamic and unix-socket forwarding, agent and X11 forwarding, tun (-w), a
# -N connection held open past a revocation.
# Each check asserts the effect: a command's marker file exists only when a
# spool holds its exec, a forward carries no bytes, no device appears.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/bypass-lib.sh"
lbb_setup bpssh
lbb_hostile_globals
PROBE=$top_srcdir/tests/integration/sshd-fwd-probe.py
SP=$LB_SSHD_PORT

# 1. ssh host cmd (RequestTTY=no): recorded, with its output
lbr_key
OUT=$(lbb_ssh -o RequestTTY=no 127.0.0.1 "/usr/bin/touch $M/cmd; echo out-cmd" 2>/dev/null) || true
lbb_marker_recorded "ssh host cmd" "$M/cmd" must-run
SPOOL=$(lbb_spool "$R")
[ "$OUT" = out-cmd ] && [ -n "$SPOOL" ] &&
    jq -r 'select(.kind == "out" and .stream == "stdout") | .data' "$SPOOL" | base64 -d | grep -qx out-cmd ||
    lbb_bad "ssh host cmd: its output is not in the spool's stdout stream"

# 2. RequestTTY=no with a shell fed on stdin, and RequestTTY=force with a command
lbr_key
printf '/usr/bin/touch %s/notty-shell\necho shell-notty\n' "$M" |
    lbb_ssh -o RequestTTY=no 127.0.0.1 >/dev/null 2>&1 || true
lbb_marker_recorded "RequestTTY=no, a shell on stdin" "$M/notty-shell" must-run
SPOOL=$(lbb_spool "$R")
[ -n "$SPOOL" ] && jq -r 'select(.kind == "in" and .stream == "stdin") | .data' "$SPOOL" | base64 -d |
    grep -q 'echo shell-notty' || lbb_bad "RequestTTY=no shell: what it was given on stdin is not in the spool"
lbr_key
LBB_TIMEOUT=30 lbb_ssh -o RequestTTY=force 127.0.0.1 "/usr/bin/touch $M/tty-cmd; exit" \
    </dev/null >/dev/null 2>&1 || true
lbb_marker_recorded "RequestTTY=force with a command" "$M/tty-cmd" must-run

# 3. ControlMaster: a master with -N, sessions over it, -O forward
lbr_key
CS=$LB_TMP/mux.sock
lbb_ssh -M -S "$CS" -N 127.0.0.1 2>"$LB_TMP/master.err" &
master=$!
lb_defer "lb_stop_pid $master"
lb_wait_for 100 lbb_ssh -S "$CS" -O check 127.0.0.1 || lb_fail "mux master did not come up: $(cat "$LB_TMP/master.err")"
# a first session over the connection, kept open
lbb_ssh -S "$CS" 127.0.0.1 "/usr/bin/touch $M/mux1; sleep 6" >/dev/null 2>&1 &
mux1=$!
lb_wait_for 100 test -e "$M/mux1" || true
# a second session beside it (MaxSessions 1)
LBB_TIMEOUT=20 lbb_ssh -S "$CS" 127.0.0.1 "/usr/bin/touch $M/mux2" \
    >/dev/null 2>&1 || true
wait "$mux1" || true
lbb_marker_recorded "mux: first session over a -N master" "$M/mux1"
lbb_marker_recorded "mux: second session beside the first" "$M/mux2"
# a third one after the first ended, same connection (same key, same login)
LBB_TIMEOUT=20 lbb_ssh -S "$CS" 127.0.0.1 "/usr/bin/touch $M/mux3" \
    >/dev/null 2>&1 || true
lbb_marker_recorded "mux: another session after the first ended" "$M/mux3"
# forwards added to the live connection
LP=$(lb_free_port)
lbb_ssh -S "$CS" -O forward -L "$LP:127.0.0.1:$SP" 127.0.0.1 >/dev/null 2>&1 || true
if lb_sshd_listening "$LP" && [ "$(python3 "$PROBE" direct "$LP")" = REACHED ]; then
    lbb_bad "mux -O forward -L: the forward reached its target"
else
    lb_pass "mux -O forward -L: carries nothing"
fi
DP=$(lb_free_port)
lbb_ssh -S "$CS" -O forward -D "$DP" 127.0.0.1 >/dev/null 2>&1 || true
if [ "$(python3 "$PROBE" socks "$DP" "$SP")" = REACHED ]; then
    lbb_bad "mux -O forward -D: the forward reached its target"
else
    lb_pass "mux -O forward -D: carries nothing"
fi
RP=$(lb_free_port)
lbb_ssh -S "$CS" -O forward -R "$RP:127.0.0.1:$SP" 127.0.0.1 >/dev/null 2>&1 || true
sleep 0.5
if lb_sshd_listening "$RP"; then lbb_bad "mux -O forward -R: port $RP listens on the host"; else lb_pass "mux -O forward -R: nothing listens"; fi
lbb_ssh -S "$CS" -O exit 127.0.0.1 >/dev/null 2>&1 || true
lb_stop_pid "$master"

# a connection held open with -N from inside the window, its first session
# asked for after the request was revoked
lbr_key
CS2=$LB_TMP/mux2.sock
lbb_ssh -M -S "$CS2" -N 127.0.0.1 2>"$LB_TMP/master2.err" &
master=$!
lb_defer "lb_stop_pid $master"
lb_wait_for 100 lbb_ssh -S "$CS2" -O check 127.0.0.1 || lb_fail "mux master 2 did not come up: $(cat "$LB_TMP/master2.err")"
lb_req_revoke lbxrappr "$R"
LBB_TIMEOUT=20 lbb_ssh -S "$CS2" 127.0.0.1 "/usr/bin/touch $M/mux-revoked" >/dev/null 2>&1 || true
if [ -e "$M/mux-revoked" ]; then
    lbb_bad "mux: a -N connection from inside the window opened a session after the revocation"
else
    lb_pass "mux: a session over a -N connection held past the revocation: nothing ran"
fi
lbb_ssh -S "$CS2" -O exit 127.0.0.1 >/dev/null 2>&1 || true
lb_stop_pid "$master"

# 4. -W (stdio forwarding) to the host's own sshd
lbr_key
W=$(sleep 3 | LBB_TIMEOUT=15 lbb_ssh -W "127.0.0.1:$SP" 127.0.0.1 2>/dev/null | head -c 8 || true)
if [[ "$W" == SSH-* ]]; then lbb_bad "ssh -W: reached 127.0.0.1:$SP"; else lb_pass "ssh -W: carries nothing"; fi

# 5. -N with -L (tcp and to the broker's unix socket), -D, -R (tcp and unix)
fwd_session() { # args... ; starts ssh -N in the background, sets FWD
    lbr_key
    lbb_ssh -N -o ExitOnForwardFailure=no "$@" 127.0.0.1 >/dev/null 2>&1 &
    FWD=$!
    lb_defer "lb_stop_pid $FWD"
}
LP=$(lb_free_port)
fwd_session -L "$LP:127.0.0.1:$SP"
lb_wait_for 100 lb_sshd_listening "$LP" || lb_fail "ssh -N -L did not listen on $LP"
if [ "$(python3 "$PROBE" direct "$LP")" = REACHED ]; then lbb_bad "ssh -L: reached the target"; else lb_pass "ssh -N -L: carries nothing"; fi
lb_stop_pid "$FWD"
LP=$(lb_free_port)
fwd_session -L "$LP:$LB_BROKER_SOCK"
lb_wait_for 100 lb_sshd_listening "$LP" || lb_fail "ssh -N -L to a unix socket did not listen on $LP"
H200=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LP/v1/health" || true)
if [ "$H200" = 200 ]; then lbb_bad "ssh -L to the broker's unix socket: it answered"; else lb_pass "ssh -N -L to a unix socket: carries nothing ($H200)"; fi
lb_stop_pid "$FWD"
DP=$(lb_free_port)
fwd_session -D "$DP"
lb_wait_for 100 lb_sshd_listening "$DP" || lb_fail "ssh -N -D did not listen"
if [ "$(python3 "$PROBE" socks "$DP" "$SP")" = REACHED ]; then lbb_bad "ssh -D: reached the target"; else lb_pass "ssh -N -D: carries nothing"; fi
lb_stop_pid "$FWD"
RP=$(lb_free_port)
fwd_session -R "$RP:127.0.0.1:$SP" -R "$M/remote.sock:127.0.0.1:$SP"
sleep 3
if lb_sshd_listening "$RP"; then lbb_bad "ssh -R: port $RP listens on the host"; else lb_pass "ssh -N -R: nothing listens"; fi
if [ -e "$M/remote.sock" ]; then lbb_bad "ssh -R to a unix socket: $M/remote.sock exists"; else lb_pass "ssh -N -R to a unix socket: no socket"; fi
lb_stop_pid "$FWD"

# 6. agent and X11 forwarding: nothing in the session's environment, no socket
eval "$(ssh-agent -s)" >/dev/null
lb_defer "kill $SSH_AGENT_PID"
lbr_key
OUT=$(DISPLAY=127.0.0.1:99 lbb_ssh -A -Y 127.0.0.1 \
    'echo "agent=[$SSH_AUTH_SOCK] display=[$DISPLAY]"; ls -d /tmp/ssh-* 2>/dev/null | while read d; do [ -O "$d" ] && echo "sock=$d"; done' 2>/dev/null) || true
kill "$SSH_AGENT_PID"
[[ "$OUT" == *"agent=["* ]] || lb_fail "agent/X11 session did not run: $OUT"
if [[ "$OUT" != *"agent=[]"* ]] || [[ "$OUT" == *sock=* ]]; then lbb_bad "agent forwarding: $OUT"; else lb_pass "ssh -A: no agent socket"; fi
if [[ "$OUT" != *"display=[]"* ]]; then lbb_bad "X11 forwarding: $OUT"; else lb_pass "ssh -Y: no DISPLAY"; fi
if lb_sshd_listening 6010; then lbb_bad "X11 forwarding: something listens on 6010"; fi

# 7. tun device (-w): a persistent tun7 that the operator may open gets no
#    carrier, i.e. no process attaches to it. sshd opens the device as the
#    operator: /dev/net/tun gets Debian's usual mode 0666 for the check (else
#    it could never open and the check would be blind)
lbr_key
TUNMODE=$(stat -c %a /dev/net/tun)
chmod 0666 /dev/net/tun
lb_defer "chmod $TUNMODE /dev/net/tun"
ip link del tun7 2>/dev/null || true
ip tuntap add dev tun7 mode tun user lbxrvendor || lb_fail "cannot make tun7"
lb_defer "ip link del tun7"
ip link set tun7 up
[ "$(cat /sys/class/net/tun7/carrier 2>/dev/null || echo 0)" != 1 ] || lb_fail "tun7 has a carrier before the test"
LBB_TIMEOUT=20 lbb_ssh -w 6:7 -o Tunnel=point-to-point 127.0.0.1 "sleep 4" \
    >/dev/null 2>"$LB_TMP/tun.err" &
tunpid=$!
sleep 3
if [ "$(cat /sys/class/net/tun7/carrier 2>/dev/null || echo 0)" = 1 ]; then
    lbb_bad "ssh -w: sshd attached to tun7 on the host"
else
    lb_pass "ssh -w: no tun device on the host is attached"
fi
wait "$tunpid" || true
ip link del tun6 2>/dev/null || true

lbb_done
