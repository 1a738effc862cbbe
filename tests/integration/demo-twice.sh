#!/bin/bash
# The README's first command, `./scripts/demo.sh` (as root), runs to the end with
# exit 0, twice in a row, on a copy of this source tree (so its autoreconf and
# build-demo/ never disturb the tree this test runs from). Each run must show
# the main job: a refusal, an approval, a session cut off by the revocation,
# a verified recording with the operator's commands, and doctor all OK. After
# each run nothing it started or made is left (users, PAM service, broker,
# sshd). The installation it made is removed at the end (make uninstall).
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
if [ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ]; then echo "SKIP: integration test"; exit 77; fi
if grep -q '^#define LB_SANITIZERS 1' "$top_builddir/config.h" 2>/dev/null; then
    echo "SKIP: the demo makes its own normal build; it runs in the normal pass"
    exit 77
fi
lb_tmpdir
SRC=$LB_TMP/src
mkdir -p "$SRC"
tar -C "$top_srcdir" --exclude='./build-test-*' --exclude=./build-demo --exclude=./.git -cf - . | tar -C "$SRC" -xf -
lb_defer "make -s -C '$SRC/build-demo' uninstall"

check_run() { # log
    local log=$1
    grep -q "is pending: wait for an approver" "$log" || lb_fail "no refusal of a pending request in $log"
    grep -q "approved; access until" "$log" || lb_fail "no approval in $log"
    grep -q "access was revoked" "$log" || lb_fail "the session was not cut off by the revocation"
    grep -qE '^cut off [0-9]+ s after the revocation' "$log" || lb_fail "no cut-off time"
    grep -qE 'audit +/home/lbx-vendor +df -h /var' "$log" || lb_fail "the operator's command is not in the evidence"
    local replay
    replay=$(sed -n '/lockbox-replay play/,/lockbox-replay verify/p' "$log")
    grep -q "cleanup done" <<<"$replay" || lb_fail "the replay does not show the session's output"
    grep -qE '^OK: s-[0-9a-f]+: [0-9]+ records' "$log" || lb_fail "the recording did not verify"
    grep -qE '^OK: [0-9]+ events, .*chain intact' "$log" || lb_fail "the broker's audit trail did not verify"
    grep -q '^0 failures, 0 warnings' "$log" || lb_fail "doctor was not all OK"
    getent passwd lbx-vendor lbx-approver lbx-auditor && lb_fail "demo users left behind"
    [ ! -e /etc/pam.d/lbx-demo-sshd ] || lb_fail "/etc/pam.d/lbx-demo-sshd left behind"
    ! ls -d /run/lockbox-demo.* 2>/dev/null || lb_fail "demo runtime directory left behind"
    [ ! -S /run/lockbox/lockboxd.sock ] || lb_fail "broker socket left behind"
    return 0
}

for run in 1 2; do
    start=$(date +%s)
    set +e
    bash "$SRC/scripts/demo.sh" >"$LB_TMP/demo$run.log" 2>&1
    rc=$?
    set -e
    took=$(( $(date +%s) - start ))
    if [ $rc != 0 ]; then
        tail -60 "$LB_TMP/demo$run.log"
        lb_fail "demo run $run: exit $rc"
    fi
    check_run "$LB_TMP/demo$run.log"
    lb_pass "demo run $run: exit 0 in ${took}s, the main job shown, nothing left behind"
done
