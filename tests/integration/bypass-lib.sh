#!/bin/bash
# Shared by the bypass-*.sh tests: the known ways around a session recorder,
# each tried against a real sshd (the shipped Match block), the real recorder,
# broker, journald and auditd (record-lib.sh's lbr_setup), and asserted shut by
# its concrete effect (a marker file not made, a file not fetched, a port
# that carries nothing) rather than by an exit status.
#
# Source after lib.sh, lb_require_root and lb_lock; then
#   lbb_setup NAME          lbr_setup NAME, a marker directory ($M, writable
#                           by the operator) and the operator's home ($OPHOME)
#   lbb_hostile_globals     put a careless global sshd_config in front of the
#                           Match block (forwarding, tunnels, user rc, user
#                           environment, AcceptEnv *, authorized_keys2, many
#                           sessions all allowed) and reload sshd: the Match
#                           block alone must keep every way shut
#   lbb_ssh ARGS...         ssh as the operator with the current KEY (ARGS:
#                           options, 127.0.0.1, then the remote command),
#                           under timeout ${LBB_TIMEOUT:-60} seconds
#   lbb_spool R             the spool file of request R's session (empty when
#                           no session was opened)
#   lbb_ran_recorded PATH   true when a spool of this test holds the exec of a
#                           command with PATH among its arguments
#   lbb_bad TEXT / lbb_done a way found open is noted and the script goes on
#                           with the other checks; lbb_done fails at the end
#                           when any was noted (harness errors use lb_fail)
. "$top_srcdir/tests/integration/record-lib.sh"

LBB_OPEN=()
lbb_bad() { echo "OPEN: $*" >&2; LBB_OPEN+=("$*"); }
lbb_done() {
    if ((${#LBB_OPEN[@]})); then
        echo "FAIL: ${#LBB_OPEN[@]} check(s) found open (a way in or around the recorder, or evidence lost unnoticed):" >&2
        printf '  - %s\n' "${LBB_OPEN[@]}" >&2
        exit 1
    fi
    echo "all checks shut"
}

lbb_setup() {
    lbr_setup "$1"
    M=$LB_TMP/mark
    install -d -m 1777 "$M"
    OPHOME=$(getent passwd lbxrvendor | cut -d: -f6)
    # the login shell is what sshd runs the forced command with: keep the one
    # the harness gave the account, unless it is gone (an account left by
    # another test, its shell in a directory removed since)
    local sh
    sh=$(getent passwd lbxrvendor | cut -d: -f7)
    if [ ! -x "$sh" ]; then
        usermod -s /bin/bash lbxrvendor
        lb_defer "usermod -s '$sh' lbxrvendor"
    fi
    install -d -o lbxrvendor -g lbxrvendor -m 0700 "$OPHOME/.ssh"
    CHECK=$top_srcdir/tests/integration/record-check.py
}

lbb_hostile_globals() {
    local tmp=$LB_SSHD_CONFIG.new
    {
        echo "# a careless global configuration: the Match block must win"
        echo "AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2"
        echo "AllowTcpForwarding yes"
        echo "AllowAgentForwarding yes"
        echo "AllowStreamLocalForwarding yes"
        echo "X11Forwarding yes"
        echo "X11UseLocalhost yes"
        echo "GatewayPorts yes"
        echo "PermitTunnel yes"
        echo "PermitUserRC yes"
        echo "PermitUserEnvironment yes"
        echo "AcceptEnv *"
        echo "MaxSessions 10"
        cat "$LB_SSHD_CONFIG"
    } >"$tmp"
    mv "$tmp" "$LB_SSHD_CONFIG"
    "$LB_SSHD_BIN" -t -f "$LB_SSHD_CONFIG" || lb_fail "sshd -t rejected the hostile globals"
    # sshd -D re-executes itself on SIGHUP, same pid, and reads the file again
    kill -HUP "$LB_SSHD_PID"
    sleep 1
    lb_wait_for 100 lb_sshd_listening "$LB_SSHD_PORT" || lb_fail "sshd did not come back after SIGHUP"
    # the Match block's values are what sshd applies to an operator
    local eff
    eff=$("$LB_SSHD_BIN" -T -f "$LB_SSHD_CONFIG" -C user=lbxrvendor,host=localhost,addr=127.0.0.1 2>/dev/null)
    grep -qx 'permituserenvironment yes' <<<"$eff" || lb_fail "hostile globals not in effect: $(grep -i permituserenv <<<"$eff")"
}

lbb_ssh() {
    local opts
    mapfile -t opts < <(lb_ssh_opts)
    timeout "${LBB_TIMEOUT:-60}" ssh -F /dev/null "${opts[@]}" -i "$KEY" -o IdentitiesOnly=yes -l lbxrvendor "$@"
}

lbb_spool() {
    local s
    s=$(lbr_session_of "$1" 2>/dev/null) || return 0
    [ -n "$s" ] && [ "$s" != null ] && [ -f "$LBR_SPOOL/$s.jsonl" ] && echo "$LBR_SPOOL/$s.jsonl"
    return 0
}

lbb_ran_recorded() { # path
    local spool
    for spool in "$LBR_SPOOL"/*.jsonl; do
        [ -f "$spool" ] || continue
        python3 "$CHECK" spool "$spool" | jq -e --arg p "$1" 'any(.argv[]; any(.[]; contains($p)))' \
            >/dev/null && return 0
    done
    return 1
}
# A marker the session made must have been made by a recorded command.
# lbb_marker_recorded WHAT PATH [must-run]: with must-run, a missing marker
# is a harness failure (the check would be blind).
lbb_marker_recorded() {
    local what=$1 path=$2 must=${3:-}
    if [ -e "$path" ]; then
        if lbb_ran_recorded "$path"; then
            lb_pass "$what: ran, and its exec is in the spool"
        else
            lbb_bad "$what: $path was made but no spool holds the command that made it"
        fi
    elif [ -n "$must" ]; then
        lb_fail "$what: the command did not run (the check is blind)"
    else
        lb_pass "$what: nothing ran"
    fi
}
