#!/bin/bash
# Broker access decisions per second, beside the ceiling measured in the same
# run, and sequential latency over the unix socket. A benchmark, not a test:
# it prints figures and never fails on a number.
#
#   bench/broker-access.sh [BUILDDIR]     (root; BUILDDIR defaults to the cwd)
#
# 1. a fresh broker database seeded with 100,000 requests over 1,000 hosts
#    (1% approved, 2% pending, 97% revoked: a site after a while). Rows are
#    copied by SQL from requests made through the real API, so they are in
#    the broker's own format; the audit trail is not seeded (not read here).
# 2. lockboxd on 127.0.0.1 with TLS (the broker's TCP listener is TLS only)
#    and a host token; wrk (2 threads, 8 connections, keep-alive) asks
#    GET /v1/access?host=..&user=.. for an allowed and a refused decision.
# 3. the ceiling: bench/mhd-fixed.c, libmicrohttpd with the same TLS
#    certificate, the same thread pool size, a fixed reply of the same size.
# LB_BENCH_PERF=1 adds a perf profile of lockboxd on the refused path.
# 4. p50/p99 of 10,000 sequential calls over the unix socket, one connection
#    per call (as pam_lockbox and lockbox-keys make them): bench/broker-latency.c.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
build=$(cd "${1:-.}" && pwd)
top_builddir=$build top_srcdir=$srcdir
. "$srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock # not while integration tests run: they would share the 2 cores
[ -x "$build/broker/lockboxd" ] && [ -x "$build/lockboxctl" ] ||
    { echo "usage: $0 BUILDDIR (with broker/lockboxd and lockboxctl built)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is needed" >&2; exit 2; }
N=${LB_BENCH_REQUESTS:-100000}
HOSTS=1000
DURATION=${LB_BENCH_SECONDS:-5}
SAMPLES=${LB_BENCH_SAMPLES:-10000}

lb_tmpdir
W=$LB_TMP
echo "== building the peers"
cc -O2 -o "$W/mhd-fixed" "$here/mhd-fixed.c" $(pkg-config --cflags --libs libmicrohttpd)
cc -O2 -o "$W/broker-latency" "$here/broker-latency.c"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
PORT=$(lb_free_port)
PEER_PORT=$(lb_free_port)
SOCK=$W/lockboxd.sock DB=$W/lockboxd.db CONF=$W/lockboxd.conf
lb_add_user lbx-bench-op lbx-bench-operators
lb_add_user lbx-bench-ap lbx-bench-approvers
cat >"$CONF" <<EOF
database = $DB
socket = $SOCK
listen = 127.0.0.1:$PORT
tls_cert = $W/cert.pem
tls_key = $W/key.pem
operator_group = lbx-bench-operators
approver_group = lbx-bench-approvers
max_duration = 8h
max_per_ip = 64
EOF
BROKER_PID=
start_broker() {
    "$build/broker/lockboxd" --foreground --config "$CONF" >>"$W/lockboxd.log" 2>&1 &
    BROKER_PID=$!
    lb_defer "lb_stop_pid $BROKER_PID"
    lb_wait_for 150 curl -sf --unix-socket "$SOCK" http://l/v1/health || { cat "$W/lockboxd.log"; lb_fail "lockboxd did not start"; }
}
ctl() { "$build/lockboxctl" --broker "unix:$SOCK" "$@"; }
ctl_as() { local u=$1; shift; (cd / && runuser -u "$u" -- "$build/lockboxctl" --broker "unix:$SOCK" "$@"); }

echo "== seeding $N requests over $HOSTS hosts"
start_broker
mk() { ctl_as lbx-bench-op --json request --host bench-h0 --user vendor --reason "$1" --ticket "BENCH-$1" --duration 8h | jq -r .id; }
T_PENDING=$(mk pending)
T_APPROVED=$(mk approved)
ctl_as lbx-bench-ap approve "$T_APPROVED" --comment "bench" >/dev/null
T_REVOKED=$(mk revoked)
ctl_as lbx-bench-ap approve "$T_REVOKED" >/dev/null
ctl_as lbx-bench-ap revoke "$T_REVOKED" --reason "done" >/dev/null
lb_stop_pid "$BROKER_PID"
t0=$(date +%s.%N)
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TEMP TABLE tpl AS
  SELECT r.rid, r.id, r.state, r.operator, r.deadline, r.body, h.not_after
  FROM requests r JOIN request_hosts h ON h.rid = r.rid
  WHERE r.id IN ('$T_PENDING', '$T_APPROVED', '$T_REVOKED');
CREATE TEMP TABLE seq AS
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
  SELECT i, printf('r-%012x', 16777216 + i) AS id, 'bench-h' || (i % $HOSTS) AS host,
         CASE WHEN i % 100 = 0 THEN '$T_APPROVED' WHEN i % 100 IN (1, 2) THEN '$T_PENDING'
              ELSE '$T_REVOKED' END AS tpl
  FROM n;
INSERT INTO requests (id, state, operator, deadline, body)
  SELECT s.id, t.state, t.operator, t.deadline,
         replace(replace(t.body, '"' || t.id || '"', '"' || s.id || '"'), '"bench-h0"', '"' || s.host || '"')
  FROM seq s JOIN tpl t ON t.id = s.tpl ORDER BY s.i;
INSERT INTO request_hosts (host, user, rid, state, not_after)
  SELECT s.host, 'vendor', r.rid, t.state, t.not_after
  FROM seq s JOIN tpl t ON t.id = s.tpl JOIN requests r ON r.id = s.id;
COMMIT;
ANALYZE;
SQL
t1=$(date +%s.%N)
echo "seeded in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s: $(sqlite3 "$DB" "SELECT state, count(*) FROM requests GROUP BY state" | tr '\n' ' ')"
start_broker

# a seeded row reads back through the API, and the decisions are what we expect
ctl show "r-$(printf '%012x' $((16777216 + 100)))" >/dev/null || lb_fail "a seeded request does not read back"
ALLOW="/v1/access?host=bench-h100&user=vendor"
DENY="/v1/access?host=bench-h7&user=vendor"
curl -sf --unix-socket "$SOCK" "http://l$ALLOW" >"$W/allow.json"
curl -sf --unix-socket "$SOCK" "http://l$DENY" >"$W/deny.json"
[ "$(jq .allow "$W/allow.json")" = true ] && [ "$(jq .allow "$W/deny.json")" = false ] ||
    lb_fail "unexpected decisions: $(cat "$W/allow.json" "$W/deny.json")"
ctl token create --principal bench-h100 --role host --host bench-h100 -o "$W/h100.token" >/dev/null
ctl token create --principal bench-h7 --role host --host bench-h7 -o "$W/h7.token" >/dev/null
curl -sf --cacert "$W/cert.pem" -H "Authorization: Bearer $(cat "$W/h100.token")" "https://127.0.0.1:$PORT$ALLOW" >/dev/null ||
    lb_fail "TLS access call failed"

"$W/mhd-fixed" "$PEER_PORT" "$W/allow.json" 8 "$W/cert.pem" "$W/key.pem" 2>>"$W/mhd-fixed.log" &
PEER_PID=$!
lb_defer "lb_stop_pid $PEER_PID"
lb_wait_for 50 curl -skf "https://127.0.0.1:$PEER_PORT/" || lb_fail "mhd-fixed did not start"

rate() { # rate URL TOKENFILE -> requests/s (wrk, 2 threads, 8 connections)
    local hdr=()
    [ -n "${2:-}" ] && hdr=(-H "Authorization: Bearer $(cat "$2")")
    wrk -t2 -c8 -d"${DURATION}s" "${hdr[@]}" "$1" >"$W/wrk.out" 2>&1
    grep -q 'Non-2xx' "$W/wrk.out" && { echo "non-2xx answers: $(grep Non-2xx "$W/wrk.out")" >&2; }
    awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$W/wrk.out"
}
echo "== decisions/s over TLS (wrk -t2 -c8 -d${DURATION}s, keep-alive), reply $(stat -c %s "$W/allow.json") bytes"
b_allow=$(rate "https://127.0.0.1:$PORT$ALLOW" "$W/h100.token")
p_allow=$(rate "https://127.0.0.1:$PEER_PORT$ALLOW")
b_deny=$(rate "https://127.0.0.1:$PORT$DENY" "$W/h7.token")
printf '%-36s %10s/s\n' "lockboxd  allow (bench-h100)" "$b_allow" "lockboxd  deny (bench-h7)" "$b_deny" \
    "mhd-fixed (same TLS, same size)" "$p_allow"
printf 'ratio lockboxd/ceiling: allow %.2f, deny %.2f\n' "$(echo "$b_allow / $p_allow" | bc -l)" \
    "$(echo "$b_deny / $p_allow" | bc -l)"

if [ "${LB_BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
    echo "== where lockboxd spends its time (perf, deny path, ${DURATION}s)"
    perf record -q -g -o "$W/perf.data" -p "$BROKER_PID" -- sleep "$DURATION" >/dev/null 2>&1 &
    perf_pid=$!
    rate "https://127.0.0.1:$PORT$DENY" "$W/h7.token" >/dev/null
    wait $perf_pid || true
    perf report -i "$W/perf.data" --no-children -g none --sort dso,sym --stdio 2>/dev/null | grep -v "^#" | grep "%" | head -25
fi

echo "== latency over the unix socket ($SAMPLES sequential calls, one connection each)"
printf 'lockboxd allow: '; "$W/broker-latency" "$SOCK" "$ALLOW" "$SAMPLES" || true
printf 'lockboxd deny:  '; "$W/broker-latency" "$SOCK" "$DENY" "$SAMPLES" || true
echo "== done ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
