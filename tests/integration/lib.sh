#!/bin/bash
# Shared harness for integration tests: real journald, auditd, sshd and broker
# on this machine. Source it; call lb_require_root first. Everything a test
# starts is registered with lb_defer and stopped by pid when the test exits.
# Parts add their own helpers beside this file (lib-broker.sh, lib-sshd.sh).
set -euo pipefail

: "${top_builddir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export top_builddir top_srcdir

LB_DEFERRED=()
lb_defer() { LB_DEFERRED+=("$*"); }
lb_cleanup() {
    local i
    for ((i = ${#LB_DEFERRED[@]} - 1; i >= 0; i--)); do
        eval "${LB_DEFERRED[$i]}" >/dev/null 2>&1 || true
    done
}
trap lb_cleanup EXIT

lb_require_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (CI runs this as root)"
        exit 77
    fi
    # A pass of scripts/test.sh may leave a test to another pass (the
    # sanitizer pass leaves the slow whole-system tests to the normal one):
    # LOCKBOX_TEST_SKIP names them. They report SKIP, never PASS.
    case " ${LOCKBOX_TEST_SKIP:-} " in
    *" $(basename "$0" .sh) "*)
        echo "SKIP: $(basename "$0") runs in another pass of scripts/test.sh (LOCKBOX_TEST_SKIP)"
        exit 77;;
    esac
}

# Integration tests share system daemons (journald, auditd): take a lock so
# that two of them never run at once, even under make -j. Call it first, right
# after lb_require_root: the script is run again under `flock -o`, so the lock
# belongs to the flock process and no daemon the test starts inherits it (a
# leaked daemon can never hold the lock for everyone else).
LB_LOCK_FILE=/run/lock/lbx-integration-tests.lock
lb_lock() {
    if [ -z "${LB_LOCK_HELD:-}" ]; then
        mkdir -p /run/lock
        export LB_LOCK_HELD=1
        exec flock -o "$LB_LOCK_FILE" bash "$0" "$@"
    fi
}

lb_fail() { echo "FAIL: $*" >&2; exit 1; }
lb_pass() { echo "ok - $*"; }
lb_tmpdir() {
    LB_TMP=$(mktemp -d /tmp/lbx-test.XXXXXX)
    chmod 755 "$LB_TMP"
    lb_defer "rm -rf '$LB_TMP'"
}

# A free TCP port on 127.0.0.1.
lb_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Wait until a command succeeds, up to N tenths of a second.
lb_wait_for() {
    local tenths=$1; shift
    local i
    for ((i = 0; i < tenths; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    return 1
}

lb_pid_alive() { kill -0 "$1" 2>/dev/null; }
lb_stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do lb_pid_alive "$pid" || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

# journald: use the running one, or start one and stop it when done.
lb_journald_running() {
    python3 - <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    s.connect("/run/systemd/journal/socket")
except OSError:
    sys.exit(1)
PY
}
# Debian's journald turns kernel audit off whenever it starts (Audit=no): the
# drop-in Lockbox installs (conf/journald.conf.d/lockbox.conf) stops that, and
# a journald the tests start has it too, as on an installed host.
lb_journald_dropin() {
    local d=/run/systemd/journald.conf.d
    local f=$d/lbx-test-lockbox.conf
    [ -e "$f" ] && return 0
    [ -d "$d" ] || { mkdir -p "$d"; lb_defer "rmdir '$d'"; }
    install -m 0644 "$top_srcdir/conf/journald.conf.d/lockbox.conf" "$f"
    lb_defer "rm -f '$f'"
}
# Start a journald (pid in LB_JOURNALD_PID), stopped by pid at exit.
lb_spawn_journald() {
    lb_journald_dropin
    mkdir -p /run/systemd/journal /var/log/journal
    /lib/systemd/systemd-journald >/dev/null 2>&1 &
    LB_JOURNALD_PID=$!
    lb_defer "lb_stop_pid $LB_JOURNALD_PID"
    lb_wait_for 100 lb_journald_running || lb_fail "journald did not start"
}
lb_start_journald() {
    if lb_journald_running; then return 0; fi
    lb_spawn_journald
}

# auditd: use the running one, or start `auditd -n` and stop it when done.
lb_auditd_pid() { pgrep -x auditd | head -n1; }
# Kernel audit must be enabled too, or user messages are dropped: enable it and
# put the old setting back at exit.
# The kernel may still name an auditd that has just exited (it notices only
# when a send fails): trust its pid only when that process is a live auditd.
lb_auditd_alive() {
    local pid state
    pid=$(auditctl -s 2>/dev/null | awk '$1 == "pid" { print $2 }')
    [ -n "$pid" ] && [ "$pid" != 0 ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = auditd ] || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
lb_start_auditd() {
    if ! lb_auditd_alive; then
        mkdir -p /var/log/audit
        auditd -n >/dev/null 2>&1 &
        local pid=$!
        lb_defer "lb_stop_pid $pid"
        lb_wait_for 100 lb_auditd_alive || lb_fail "auditd did not start"
    fi
    local enabled
    enabled=$(auditctl -s 2>/dev/null | awk '$1 == "enabled" { print $2 }')
    if [ "$enabled" = 0 ]; then
        auditctl -e 1 >/dev/null
        lb_defer "auditctl -e 0"
    fi
}

# auditd writes its log in batches (Debian: flush = INCREMENTAL_ASYNC, freq =
# 50; a flush per record slows it until the kernel drops records). A test that
# waits for a record it caused pushes the batch out with filler messages.
lb_audit_flush() {
    local i
    for i in $(seq 60); do
        auditctl -m "lockbox-test: flush" >/dev/null 2>&1 || return 0
    done
}

# Create a local account for a test (removed at exit). lb_add_user NAME [GROUP...]
# Every test user is also in the broker socket's group (lockbox-clients).
lb_add_user() {
    local name=$1; shift
    local g
    set -- "$@" "${LB_SOCKET_GROUP:-lockbox-clients}"
    for g in "$@"; do
        getent group "$g" >/dev/null || { groupadd -r "$g"; lb_defer "groupdel '$g'"; }
    done
    if ! getent passwd "$name" >/dev/null; then
        useradd -m -s /bin/bash ${1:+-G "$(IFS=,; echo "$*")"} "$name"
        lb_defer "userdel -r '$name'"
    else
        # left by a run that was killed: it still needs this run's groups,
        # and it goes at the end like any account a test makes (lbx* names
        # are the tests' own; a leftover operator fails doctor's checks)
        [ $# -eq 0 ] || usermod -aG "$(IFS=,; echo "$*")" "$name"
        case "$name" in lbx*) lb_defer "userdel -r '$name' 2>/dev/null || userdel '$name'";; esac
    fi
    # sshd refuses locked accounts even for key logins: give it an unusable password
    usermod -p '*' "$name"
}
