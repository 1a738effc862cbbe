#!/bin/bash
# Shared helpers of the PAM stack tests: source after tests/integration/lib.sh.
# The module is driven by tests/pam/pam-run (pam_start_confdir with a service
# file in a temp dir), so the system's /etc/pam.d is never read or changed.

LB_PAM_MODULE="$top_builddir/pam_lockbox/.libs/pam_lockbox.so"
LB_PAM_RUN="$top_builddir/tests/pam/pam-run"
[ -x "$LB_PAM_RUN" ] || lb_fail "missing $LB_PAM_RUN (make check builds it)"
[ -f "$LB_PAM_MODULE" ] || lb_fail "missing $LB_PAM_MODULE"

lb_pam_setup() {
    lb_tmpdir
    LB_PAM_DIR="$LB_TMP/pam.d"
    mkdir -p "$LB_PAM_DIR"
}

# lb_pam_service NAME LINE... : write a PAM service file
lb_pam_service() {
    local name=$1; shift
    printf '%s\n' "$@" >"$LB_PAM_DIR/$name"
}

# lb_pam_run ARGS... : run pam-run on $LB_PAM_DIR; output in $LB_OUT (also
# printed). `timeout` only turns a hang into a failure instead of a stuck
# suite: it is far above any deadline the tests configure.
lb_pam_run() {
    LB_OUT=$(timeout 60 "$LB_PAM_RUN" --confdir "$LB_PAM_DIR" "$@" 2>"$LB_TMP/pam-run.err") || {
        local rc=$?
        cat "$LB_TMP/pam-run.err" >&2
        lb_fail "pam-run $* exited $rc"
    }
    printf '%s\n' "$LB_OUT" | sed 's/^/    | /'
    # the module must never ask the user anything (sshd answers prompts with
    # an error at the account stage)
    if grep -q '^PROMPT: ' <<<"$LB_OUT"; then lb_fail "pam_lockbox prompted"; fi
}

# lb_expect REGEX [WHAT] / lb_expect_not REGEX [WHAT]: on the last output
lb_expect() {
    grep -Eq -- "$1" <<<"$LB_OUT" || lb_fail "${2:-output} lacks /$1/"
}
lb_expect_not() {
    if grep -Eq -- "$1" <<<"$LB_OUT"; then lb_fail "${2:-output} has /$1/"; fi
}
# the number of conversation lines (info/error/PROMPT) in the last output
lb_pam_messages() { grep -Ec '^(info|error|PROMPT): ' <<<"$LB_OUT" || true; }

# lb_fake_broker MODE: start tests/pam/fake-broker.py; sets FAKE_SOCK, FAKE_LOG
lb_fake_broker() {
    FAKE_SOCK="$LB_TMP/fake-$1.sock"
    FAKE_LOG="$LB_TMP/fake-$1.log"
    : >"$FAKE_LOG"
    python3 "$top_srcdir/tests/pam/fake-broker.py" "$FAKE_SOCK" "$1" "$FAKE_LOG" &
    local pid=$!
    lb_defer "kill $pid"
    lb_wait_for 100 test -S "$FAKE_SOCK" || lb_fail "fake broker ($1) did not start"
}
