#!/bin/bash
# Benchmark of lockbox-record (not a test): the same output through
#   a bare PTY relay (bench/record-relay.c), script(1) writing its typescript
#   to a file (and, for reference, to /dev/null), tlog-rec with its journal
#   writer, and lockbox-record (spool + journald + chain),
# in one run; prints MB/s of each and the ratios, checks that lockbox-record's
# recording is byte-exact, measures the added keystroke echo latency (p50/p99)
# against the bare relay, and the peak RSS of each.
#   sudo bench/record-throughput.sh [SIZE_BYTES]     (default 256 MiB)
# RECORD_WRAP="strace -f -c -w -o FILE" (or perf record ...) wraps the
# throughput run of lockbox-record, for profiling.
# The operator's terminal is drained by `record-relay --measure` (C); the
# echo latency is measured by bench/record-bench.py.
# Run from the build directory (or set top_builddir); needs root, cc,
# util-linux script, tlog (Debian package tlog), a running journald.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root"; exit 1; }
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$PWD}
SIZE=${1:-268435456}
KEYS=${KEYS:-2000}
REC=$top_builddir/recorder/lockbox-record
[ -x "$REC" ] || { echo "build lockbox-record first ($REC)"; exit 1; }
[ -x "$top_builddir/broker/lockboxd" ] || { echo "build lockboxd first"; exit 1; }
BENCH=$top_srcdir/bench/record-bench.py
CHECK=$top_srcdir/tests/integration/record-check.py

T=$(mktemp -d /tmp/lbx-bench.XXXXXX)
chmod 755 "$T"
CLEAN=()
cleanup() { local i; for ((i=${#CLEAN[@]}-1; i>=0; i--)); do eval "${CLEAN[$i]}" >/dev/null 2>&1 || true; done; rm -rf "$T"; }
trap cleanup EXIT
mkuser() { # name [group]
    getent group "${2:-}" >/dev/null 2>&1 || { [ -z "${2:-}" ] || { groupadd -r "$2"; CLEAN+=("groupdel $2"); }; }
    getent passwd "$1" >/dev/null || { useradd -r -M -s /usr/sbin/nologin ${2:+-G "$2"} "$1"; CLEAN+=("userdel $1"); }
}
mkuser lockbox-rec
mkuser lbxbenchop lockbox-operators
mkuser lbxbenchappr lockbox-approvers
journald_up() {
    python3 -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).connect("/run/systemd/journal/socket")' 2>/dev/null
}
if ! journald_up; then
    mkdir -p /run/systemd/journal
    /lib/systemd/systemd-journald >/dev/null 2>&1 &
    CLEAN+=("kill $!")
    for _ in $(seq 100); do journald_up && break; sleep 0.1; done
fi
[ -e /var/run/utmp ] || { touch /var/run/utmp; CLEAN+=("rm -f /var/run/utmp"); }

cc -O2 -o "$T/relay" "$top_srcdir/bench/record-relay.c" -lutil -lcrypto

# the broker and the host configuration
mkdir -p "$T/state/sessions" "$T/spool"
chmod 700 "$T/state" "$T/state/sessions"
cat >"$T/lockboxd.conf" <<CONF
database = $T/lockboxd.db
socket = $T/lockboxd.sock
min_duration = 1s
CONF
"$top_builddir/broker/lockboxd" --foreground --config "$T/lockboxd.conf" >"$T/lockboxd.log" 2>&1 &
CLEAN+=("kill $!")
for _ in $(seq 100); do [ -S "$T/lockboxd.sock" ] && break; sleep 0.1; done
cat >"$T/lockbox.conf" <<CONF
broker = unix:$T/lockboxd.sock
host_name = benchhost
state_dir = $T/state
spool_dir = $T/spool
CONF
api() { # user method path [json]
    local u=$1 m=$2 p=$3 j=${4:-}
    (cd / && runuser -u "$u" -- curl -sfS --unix-socket "$T/lockboxd.sock" -X "$m" \
        -H 'Content-Type: application/json' ${j:+--data-binary "$j"} "http://lockbox$p")
}
R=$(api lbxbenchop POST /v1/requests '{"hosts":["benchhost"],"user":"root","reason":"bench","ticket":"B-1","duration_s":7200}' | jq -r .id)
api lbxbenchappr POST "/v1/requests/$R/approve" '{}' >/dev/null

# A broker session and its session record for the audit session of the
# calling shell (which must have set its loginuid first).
session_for_this_shell() {
    local ses key sj
    ses=$(cat /proc/self/sessionid)
    rm -f "$T/k" "$T/k.pub"
    ssh-keygen -q -t ed25519 -N '' -f "$T/k" </dev/null
    key=$(cut -d' ' -f1,2 "$T/k.pub")
    api lbxbenchop POST "/v1/requests/$R/keys" "$(jq -cn --arg k "$key" '{public_key:$k}')" >/dev/null
    sj=$(curl -sfS --unix-socket "$T/lockboxd.sock" -X POST -H 'Content-Type: application/json' \
        --data-binary "$(jq -cn --arg k "$key" --argjson s "$ses" '{host:"benchhost",user:"root",public_key:$k,audit_session:$s}')" \
        http://lockbox/v1/sessions)
    jq -c --argjson s "$ses" --argjson m "$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC)*1000))')" \
        '{session, request, operator, user, host, not_after, remaining_s, mono_ms: $m, audit_session: $s, sshd_pid: 0, created_at: "x"}' \
        <<<"$sj" >"$T/state/sessions/$ses.json"
    jq -r .session <<<"$sj"
}

echo "payload: $SIZE bytes of base64 text"
# (base64 may die of SIGPIPE when head has enough: not an error)
head -c $((SIZE / 4 * 3 + 3)) /dev/urandom | base64 -w0 | head -c "$SIZE" >"$T/src" || true
[ "$(stat -c %s "$T/src")" = "$SIZE" ] || { echo "payload not made"; exit 1; }
WANT=$(sha256sum "$T/src" | cut -d' ' -f1)
CMD="printf '\\002BENCH-START\\003'; cat $T/src; printf '\\002BENCH-END\\003'"
LAT_CMD="printf 'READY>'; exec cat >/dev/null"

declare -A MBS RSS P50 P99
run() { # name argv...
    local name=$1; shift
    local out secs bytes sum
    sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
    cat "$T/src" >/dev/null
    out=$("$T/relay" --measure "$SIZE" /usr/bin/time -f %M -o "$T/rss.$name" "$@")
    read -r secs bytes sum <<<"$out"
    [ "$bytes" = "$SIZE" ] && [ "$sum" = "$WANT" ] || echo "  $name: the terminal got $bytes bytes, sha256 $sum (want $WANT)"
    MBS[$name]=$(python3 -c "print('%.1f' % ($SIZE / 1e6 / $secs))")
    RSS[$name]=$(tail -1 "$T/rss.$name")
    echo "${MBS[$name]}" >"$T/mbs.$name"
    printf '  %-15s %8s MB/s  %6.2f s  peak RSS %s KiB\n' "$name" "${MBS[$name]}" "$secs" "${RSS[$name]}"
}

echo "throughput (time until the last payload byte reached the terminal):"
run relay "$T/relay" sh -c "$CMD"
# script records too: its typescript goes to a file beside our spool (to
# /dev/null it would be a bare relay, shown as well)
run script script -q -c "$CMD" "$T/typescript"
rm -f "$T/typescript"
run script-devnull script -q -c "$CMD" /dev/null
run tlog-rec tlog-rec -w journal --limit-action=pass /bin/sh -c "$CMD"
S=$( (echo 0 >/proc/self/loginuid
      S=$(session_for_this_shell)
      SSH_ORIGINAL_COMMAND=$CMD run lockbox-record ${RECORD_WRAP:-} "$REC" --config "$T/lockbox.conf" >&2
      echo "$S") )
got=$(python3 "$CHECK" between "$T/spool/$S.jsonl" $'\002BENCH-START\003' $'\002BENCH-END\003')
if [ "$got" = "$WANT $SIZE" ]; then
    echo "  lockbox-record recording: byte-exact (sha256 of the recorded output = the source's), chain verified"
else
    echo "  lockbox-record recording: NOT exact: $got"
fi
echo "  spool: $(stat -c %s "$T/spool/$S.jsonl") bytes for $SIZE bytes of output"

echo "keystroke echo latency ($KEYS keys):"
read -r P50[relay] P99[relay] <<<"$(python3 "$BENCH" latency "$KEYS" "$T/relay" sh -c "$LAT_CMD")"
read -r P50[lockbox-record] P99[lockbox-record] <<<"$( (echo 0 >/proc/self/loginuid
      session_for_this_shell >/dev/null
      SSH_ORIGINAL_COMMAND=$LAT_CMD python3 "$BENCH" latency "$KEYS" "$REC" --config "$T/lockbox.conf") )"
printf '  %-15s p50 %6s ms  p99 %6s ms\n' relay "${P50[relay]}" "${P99[relay]}"
printf '  %-15s p50 %6s ms  p99 %6s ms\n' lockbox-record "${P50[lockbox-record]}" "${P99[lockbox-record]}"

python3 - "$(cat "$T/mbs.relay")" "$(cat "$T/mbs.script")" "$(cat "$T/mbs.tlog-rec")" "$(cat "$T/mbs.lockbox-record")" \
    "${P99[relay]}" "${P99[lockbox-record]}" "${P50[relay]}" "${P50[lockbox-record]}" \
    "$(cat "$T/mbs.script-devnull")" <<'PY'
import sys
relay, script, tlog, lb, p99r, p99l, p50r, p50l, script0 = map(float, sys.argv[1:])
print("ratios: lockbox-record/relay %.2f, lockbox-record/script %.2f (aim >= 0.85; "
      "script to /dev/null: %.2f), lockbox-record/tlog-rec %.1fx (aim >= 3x)"
      % (lb / relay, lb / script, lb / script0, lb / tlog))
print("added echo latency: p50 %+.3f ms, p99 %+.3f ms (aim <= 2 ms at p99)" % (p50l - p50r, p99l - p99r))
PY
