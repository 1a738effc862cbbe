#!/bin/bash
# Runs the libFuzzer harnesses of a tree built with
#   CC=clang ../configure --enable-fuzzing && make fuzz
# Usage: tests/fuzz/run.sh [--time S] [--runs N] [--jobs J] [--keep DIR] BUILDDIR [HARNESS...]
# For each harness: first every reproducer in tests/fuzz/findings/<harness>/
# once (a finding that fires again fails the harness), then fuzzing for S
# seconds (default 20) or N runs (default 5000000), from its seed corpus in
# tests/fuzz/corpus/<harness>/ with its dictionary tests/fuzz/dict/<harness>.dict
# if there is one. Prints one line per harness:
#   PASS: fuzz_x (1234567 execs, cov 512, ft 2048, 20 s)
#   FAIL: fuzz_x (...): <what broke>; reproducer: <path>
# and exits 1 if any failed. New inputs and crashes go to a work directory
# (--keep DIR, default BUILDDIR/tests/fuzz/work) so they can be looked at.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
time_s=20 runs=5000000 jobs=$(nproc) keep=
while [ $# -gt 0 ]; do
    case $1 in
    --time) time_s=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--time S] [--runs N] [--jobs J] [--keep DIR] BUILDDIR [HARNESS...]" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
shift
work=${keep:-$build/tests/fuzz/work}
if [ $# -gt 0 ]; then
    harnesses=("$@")
else
    harnesses=()
    for d in "$here"/corpus/*/; do harnesses+=("$(basename "$d")"); done
fi

# what broke, from a harness's log
why() {
    grep -m1 -E '^==fuzz== [^p]|runtime error:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY: ' "$1" |
        sed 's/^==fuzz== //' | cut -c1-200
}

run_one() { # harness -> writes $work/<h>.result
    local h=$1 bin=$build/tests/fuzz/$1 dir=$work/$1 log res
    res=$work/$h.result
    rm -rf "$dir" && mkdir -p "$dir/corpus" "$dir/artifacts"
    log=$dir/fuzz.log
    if [ ! -x "$bin" ]; then
        echo "FAIL: $h: not built ($bin)" >"$res"; return
    fi
    # 1. the findings, once each
    local f
    for f in "$here/findings/$h"/*; do
        [ -f "$f" ] || continue
        if ! (cd "$dir" && "$bin" -runs=1 "$f") >"$dir/finding.log" 2>&1; then
            echo "FAIL: $h: known finding $(basename "$f") still fires: $(why "$dir/finding.log"); reproducer: $f (log $dir/finding.log)" >"$res"
            return
        fi
    done
    # 2. fuzzing, bounded
    local dict=() seeds=$here/corpus/$h
    [ -f "$here/dict/$h.dict" ] && dict=("-dict=$here/dict/$h.dict")
    (cd "$dir" && "$bin" -max_total_time="$time_s" -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "${dict[@]}" \
        "$dir/corpus" "$seeds") >"$log" 2>&1
    local rc=$? execs cov ft secs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(grep -E '^#[0-9]+.*ft: ' "$log" | tail -1 | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    local fig="${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, ${secs:-?} s"
    if [ $rc = 0 ]; then
        echo "PASS: $h ($fig)" >"$res"
    else
        local art
        art=$(ls -t "$dir/artifacts/" 2>/dev/null | head -1)
        echo "FAIL: $h ($fig): $(why "$log"); reproducer: ${art:+$dir/artifacts/$art} (log $log)" >"$res"
    fi
}

mkdir -p "$work"
for h in "${harnesses[@]}"; do
    run_one "$h" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait
fail=0
for h in "${harnesses[@]}"; do
    cat "$work/$h.result"
    grep -q '^PASS:' "$work/$h.result" || fail=1
done
exit $fail
