#!/bin/bash
# How long sshd waits for lockbox-keys: one call (as the lockbox-keys user,
# as sshd runs it) against a real lockboxd with one approved request and a
# registered key, p50/p99 over N calls. Peers in the same run: the same
# binary for an account that is not managed (no broker call: the process
# cost) and the same call against a fixed-reply fake broker (HTTP cost
# without the broker's store). Run as root after a build:
#   top_builddir=/path/to/build bench/keys-call.sh [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-200}
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/lib-broker.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
lb_tmpdir
lb_add_user lbxop lockbox-operators
lb_add_user lbxvendor lockbox-operators
lb_add_user lbxappr lockbox-approvers
lb_add_user lbxplain
lb_sshd_system_user lockbox-keys
lb_start_broker

R=$(lb_req_new lbxop web1 lbxvendor 3600)
lb_req_approve lbxappr "$R"
lb_req_key lbxop "$R" "$LB_TMP/k"
FP=$(ssh-keygen -lf "$LB_TMP/k.pub" | awk '{print $2}')
read -r T B _ <"$LB_TMP/k.pub"
conf() { printf 'broker = unix:%s\nhost_name = web1\nrecorder = /usr/libexec/lockbox/lockbox-record\n' "$1" >"$2"; chmod 644 "$2"; }
conf "$LB_BROKER_SOCK" "$LB_TMP/real.conf"
conf "$LB_TMP/fake.sock" "$LB_TMP/fake.conf"
python3 "$top_srcdir/tests/integration/keys-fake-broker.py" "$LB_TMP/fake.sock" good "$T $B" &
lb_defer "lb_stop_pid $!"
lb_wait_for 50 test -S "$LB_TMP/fake.sock"
install -o root -g root -m 0755 "$top_builddir/sshd-helper/lockbox-keys" "$LB_TMP/lockbox-keys"
KEYS=$LB_TMP/lockbox-keys
KU=$(id -u lockbox-keys) KG=$(id -g lockbox-keys)
# setpriv, not runuser: sshd switches user without a PAM session, so should we
run() { (cd / && python3 "$here/keys-timing.py" "$N" setpriv --reuid="$KU" --regid="$KG" --clear-groups "$KEYS" --config "$@"); }
# sanity: the real call prints the key
out=$(cd / && runuser -u lockbox-keys -- "$KEYS" --config "$LB_TMP/real.conf" lbxvendor "$FP" "$T" "$B")
[[ "$out" == *"lockbox:$R" ]] || lb_fail "lockbox-keys did not print the key: $out"

read -r real50 real99 < <(run "$LB_TMP/real.conf" lbxvendor "$FP" "$T" "$B")
read -r fake50 fake99 < <(run "$LB_TMP/fake.conf" lbxvendor "$FP" "$T" "$B")
read -r none50 none99 < <(run "$LB_TMP/real.conf" lbxplain "$FP" "$T" "$B")
printf 'lockbox-keys, %d calls each (ms)      p50     p99\n' "$N"
printf '  managed, real lockboxd          %7s %7s\n' "$real50" "$real99"
printf '  managed, fixed-reply fake       %7s %7s\n' "$fake50" "$fake99"
printf '  not managed (no broker call)    %7s %7s\n' "$none50" "$none99"
printf 'ratio real/not-managed p50: %s\n' "$(echo "scale=2; $real50 / $none50" | bc)"
