#!/bin/bash
# Long fuzzing runs, one harness per core, keeping what they find: the
# corpus grows in WORK/<harness>/corpus (reused on the next run, so runs add
# up), crashes, timeouts, leaks and slow inputs land in WORK/<harness>/ as
# crash-*, timeout-*, leak-*, slow-unit-*; a summary per harness is printed.
# Usage: [LB_FUZZ_IGNORE_KNOWN=all] tests/fuzz/run-long.sh [--time S] [--jobs J] [--work DIR] BUILDDIR [HARNESS...]
#   LB_FUZZ_IGNORE_KNOWN: look past the known findings (fuzz.h, README.md), to find new ones.
#   S: seconds per harness (default 600), J: parallel harnesses (default nproc),
#   WORK: default BUILDDIR/tests/fuzz/long.
# Minimize a crash with:  BUILDDIR/tests/fuzz/<harness> -minimize_crash=1 -runs=100000 <crash>
# and copy it to tests/fuzz/findings/<harness>/ with a regression test.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
time_s=600 jobs=$(nproc) work=
while [ $# -gt 0 ]; do
    case $1 in
    --time) time_s=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -*) echo "run-long.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--time S] [--jobs J] [--work DIR] BUILDDIR [HARNESS...]" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
shift
work=${work:-$build/tests/fuzz/long}
if [ $# -gt 0 ]; then harnesses=("$@"); else
    harnesses=(); for d in "$here"/corpus/*/; do harnesses+=("$(basename "$d")"); done; fi

long_one() {
    local h=$1 dir=$work/$1 dict=()
    mkdir -p "$dir/corpus"
    [ -f "$here/dict/$h.dict" ] && dict=("-dict=$here/dict/$h.dict")
    # -fork keeps going after a crash (each is saved); -ignore_crashes etc. need fork mode
    (cd "$dir" && "$build/tests/fuzz/$h" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$time_s" -timeout=10 -rss_limit_mb=2048 -report_slow_units=2 \
        -print_final_stats=1 -artifact_prefix="$dir/" "${dict[@]}" "$dir/corpus" "$here/corpus/$h") \
        >"$dir/fuzz.log" 2>&1
    local last artifacts
    last=$(grep -E '^#[0-9]+: cov: ' "$dir/fuzz.log" | tail -1)
    artifacts=$(ls "$dir" | grep -cE '^(crash|timeout|leak|oom|slow-unit)-')
    echo "$h: ${last:-no status line} | $artifacts artifacts (log $dir/fuzz.log)"
}

mkdir -p "$work"
for h in "${harnesses[@]}"; do
    long_one "$h" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait
