#!/bin/bash
# Login cost of Lockbox, as ratios of medians measured in the same run on one
# real sshd (127.0.0.1) and a real broker:
#   1. `lockboxctl connect ID -- true` (key pair, registration, login through
#      lockbox-keys, pam_lockbox and the recorder) vs a plain `ssh host true`
#      of an account that is not managed, on the same sshd;
#   2. an operator's `ssh host true` with a registered per-session key (keys
#      command, PAM account+session, recorder) vs the same plain login;
#   3. `ssh host true` of a non-managed account with pam_lockbox in the PAM
#      stack vs the same sshd without it (what everybody else pays; aim <= 1.25).
# Run as root after a build: top_builddir=/path/to/build bench/login-ratio.sh [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-20}
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/lib-broker.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
lb_sshd_require
lb_tmpdir
lb_start_journald
lb_add_user lbxop lockbox-operators
lb_add_user lbxvendor lockbox-operators
lb_add_user lbxappr lockbox-approvers
lb_add_user lbxplain
lb_start_broker
H=lbxhost
export LB_SSHD_HOSTCONF_EXTRA="host_name = $H"
LB_SSHD_LOCKBOX=full lb_start_sshd benchfull
FULL=$LB_SSHD_PORT
LB_SSHD_LOCKBOX=pam lb_start_sshd benchpam
PAMP=$LB_SSHD_PORT
LB_SSHD_LOCKBOX=none lb_start_sshd benchnone
NONEP=$LB_SSHD_PORT

home=$(getent passwd lbxplain | cut -d: -f6)
install -d -o lbxplain -g lbxplain -m 700 "$home/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$LB_TMP/plain" </dev/null
install -o lbxplain -g lbxplain -m 600 "$LB_TMP/plain.pub" "$home/.ssh/authorized_keys"
R=$(lb_req_new lbxop $H lbxvendor 7200)
lb_req_approve lbxappr "$R"
for i in $(seq "$N"); do lb_req_key lbxop "$R" "$LB_TMP/k$i"; done
CT=$LB_TMP/ct
install -d -o lbxop -m 700 "$CT"

ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# time N runs of a command (a failure aborts: a benchmark of failures means nothing)
timed() { # label cmd...
    local i t label=$1; shift
    for i in $(seq "$N"); do
        t=$(ms)
        "$@" >/dev/null 2>&1 || lb_fail "$label: run $i failed"
        echo $(($(ms) - t))
    done | median
}
plain_ssh() { LB_SSHD_PORT=$1 lb_ssh lbxplain -i "$LB_TMP/plain" -o IdentitiesOnly=yes true; }
I=0
op_ssh() { I=$((I + 1)); LB_SSHD_PORT=$FULL lb_ssh lbxvendor -i "$LB_TMP/k$I" -o IdentitiesOnly=yes true; }
connect() {
    (cd / && runuser -u lbxop -- env TMPDIR="$CT" "$LB_SSHD_LIBEXEC/lockboxctl" --broker "unix:$LB_BROKER_SOCK" \
        connect "$R" -- -o HostName=127.0.0.1 -p "$FULL" -o BatchMode=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null true)
}

plain_full=$(timed "plain ssh (lockbox sshd)" plain_ssh "$FULL")
conn=$(timed "lockboxctl connect" connect)
op=$(timed "operator ssh" op_ssh)
plain_pam=$(timed "plain ssh (pam_lockbox stack)" plain_ssh "$PAMP")
plain_none=$(timed "plain ssh (no pam_lockbox)" plain_ssh "$NONEP")
ratio() { echo "scale=2; $1 / $2" | bc; }
printf 'medians over %d logins (ms)\n' "$N"
printf '  lockboxctl connect ID -- true            %6s\n' "$conn"
printf '  operator ssh -i per-session-key true     %6s\n' "$op"
printf '  plain ssh true (same sshd)               %6s\n' "$plain_full"
printf '  plain ssh true, pam_lockbox in stack     %6s\n' "$plain_pam"
printf '  plain ssh true, stack without it         %6s\n' "$plain_none"
printf 'ratio connect / plain ssh:                 %s\n' "$(ratio "$conn" "$plain_full")"
printf 'ratio operator login / plain ssh:          %s\n' "$(ratio "$op" "$plain_full")"
printf 'ratio pam_lockbox stack / without (plain): %s\n' "$(ratio "$plain_pam" "$plain_none")"
