#!/bin/bash
# pam_lockbox account decision latency over the broker's unix socket.
#
# Driver: tests/pam/pam-run, which opens one PAM handle with pam_start_confdir
# and calls the module's pam_sm_acct_mgmt directly, ITERATIONS times in a loop
# (each call: read the config, check membership, GET /v1/access over a fresh
# unix-socket connection, journald + auditd records, the user message). The
# figures are per call, from CLOCK_MONOTONIC around each call.
#
# Peers measured in the same run: the same driver on a pam_permit.so stack
# (libpam dispatch alone), and the module against a store holding only the
# approved request. Then the store is seeded to SEED requests (default
# 100,000, through the API) and the module is measured again.
#
#   sudo bench/pam-account.sh [ITERATIONS] [SEED]      (after make; root)
# Environment: top_builddir (default: ./ or ../build), top_srcdir.
set -euo pipefail
ITER=${1:-2000}
SEED=${2:-100000}
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$PWD}"
export top_srcdir top_builddir
source "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
source "$top_srcdir/tests/integration/lib-broker.sh"
source "$top_srcdir/tests/pam/lib-pam.sh"
lb_pam_setup
M="$LB_PAM_MODULE"
H=benchhost

lb_add_user lbxbop lbxbench-ops
lb_add_user lbxbappr lbxbench-apprs
lb_start_journald
lb_start_broker "operator_group = lbxbench-ops" "approver_group = lbxbench-apprs" \
    "auditor_group = lbxbench-apprs"

cat >"$LB_TMP/lockbox.conf" <<CONF
broker = unix:$LB_BROKER_SOCK
host_name = $H
operator_group =
operators = lbxbvendor
timeout_ms = 5000
ssh_services = acct
CONF
lb_pam_service acct "account required $M config=$LB_TMP/lockbox.conf"
lb_pam_service permit "account required pam_permit.so"

# measure NAME SERVICE STEP: ITER calls in one process, prints p50/p99/mean (ms)
measure() {
    local name=$1 svc=$2 step=$3
    local steps="" i
    for ((i = 0; i < ITER; i++)); do steps+="$step "; done
    # shellcheck disable=SC2086
    "$LB_PAM_RUN" --confdir "$LB_PAM_DIR" --service "$svc" --user lbxbvendor \
        --module "$M" --arg config="$LB_TMP/lockbox.conf" $steps >"$LB_TMP/$name.out"
    local want=PAM_SUCCESS
    if [ "$(grep -c "^$step $want " "$LB_TMP/$name.out")" != "$ITER" ]; then
        grep "^$step " "$LB_TMP/$name.out" | sort | uniq -c | head >&2
        lb_fail "$name: not every call returned $want"
    fi
    sed -n "s/^$step .*elapsed_us=//p" "$LB_TMP/$name.out" | sort -n | awk -v name="$name" '
        { v[NR] = $1; s += $1 }
        END { p50 = v[int(NR * 0.50) + 1]; p99 = v[int(NR * 0.99) + 1];
              printf "%-34s n=%d  p50 %.3f ms  p99 %.3f ms  mean %.3f ms  max %.3f ms\n",
                     name, NR, p50 / 1000, p99 / 1000, s / NR / 1000, v[NR] / 1000 }' |
        tee -a "$LB_TMP/results"
}

R=$(lb_broker_api POST /v1/requests "{\"hosts\":[\"$H\"],\"user\":\"lbxbvendor\",\"reason\":\"bench\",\"ticket\":\"B\",\"duration_s\":28800}" lbxbop |
    lb_broker_json "j['id']")
lb_broker_api POST "/v1/requests/$R/approve" '{}' lbxbappr >/dev/null

echo "# $ITER calls each; machine: $(nproc) cores, $(uname -r)"
measure "peer: pam_permit.so stack" permit acct
measure "pam_lockbox, store: 1 request" acct sm-acct

echo "# seeding $SEED requests through the API ..."
runuser -u lbxbop -- python3 "$top_srcdir/bench/pam-seed.py" "$LB_BROKER_SOCK" "$((SEED - 1))" "$H" lbxbvendor |
    tail -n 1
n=$(sqlite3 "$LB_BROKER_DB" 'SELECT count(*) FROM requests' 2>/dev/null || echo "?")
echo "# store now holds $n requests"
measure "pam_lockbox, store: $n requests" acct sm-acct

p99=$(awk '/store: [0-9]+ requests/ && !/store: 1 request / {for (i=1;i<=NF;i++) if ($i=="p99") print $(i+1)}' "$LB_TMP/results" | tail -n1)
base=$(awk '/pam_permit/ {for (i=1;i<=NF;i++) if ($i=="p50") print $(i+1)}' "$LB_TMP/results")
small=$(awk '/store: 1 request / {for (i=1;i<=NF;i++) if ($i=="p50") print $(i+1)}' "$LB_TMP/results")
big=$(awk '/store: [0-9]+ requests/ && !/store: 1 request / {for (i=1;i<=NF;i++) if ($i=="p50") print $(i+1)}' "$LB_TMP/results" | tail -n1)
echo "# ratios (p50): module/pam_permit $(awk -v a="$small" -v b="$base" 'BEGIN{printf "%.1f", a/b}')x;" \
     "$n-request store / 1-request store $(awk -v a="$big" -v b="$small" 'BEGIN{printf "%.2f", a/b}')x"
echo "# aim: p99 <= 10 ms with the seeded store: p99 = $p99 ms"
