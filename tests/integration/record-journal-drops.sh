#!/bin/bash
# lockbox-record re-sends what journald took but dropped: a journald with a
# low rate limit (RateLimitIntervalSec=1s, RateLimitBurst=5, a drop-in under
# /run/systemd/journald.conf.d) suppresses most of the entries of a session of
# 200 short execs; the recorder reads the journal back, finds the missing seqs
# and re-sends them from the spool (LOCKBOX_RESENT=1) until journald holds
# every seq.
#
# journald rate-limits per unit only: the test sshd (and so the recorder
# under it) is put in a cgroup lbx-test-drops.service for that. A journald already running is stopped (by pid) for ours
# and a plain one started again at exit.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lb_sshd_require # before journald is swapped
CHECK=$top_srcdir/tests/integration/record-check.py
# the hierarchy journald takes units from: the unified one (hybrid or pure
# cgroup v2), else name=systemd
if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    CG_ROOT=/sys/fs/cgroup/unified
elif [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
    CG_ROOT=/sys/fs/cgroup
else
    CG_ROOT=/sys/fs/cgroup/systemd
fi
[ -w "$CG_ROOT/cgroup.procs" ] || { echo "SKIP: no writable name=systemd cgroup hierarchy (journald rate-limits units only)"; exit 77; }

# 1. our journald, with the low rate limit
CONF_D=/run/systemd/journald.conf.d
CONF=$CONF_D/lbx-test-drops.conf
[ ! -e "$CONF" ] || lb_fail "$CONF exists already"
OLDJ=$(pgrep -x systemd-journal | head -n1 || true)
lbr_plain_journald() {
    lb_journald_running && return 0
    mkdir -p /run/systemd/journal
    setsid /lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
    lb_wait_for 100 lb_journald_running
}
[ -z "$OLDJ" ] || lb_defer lbr_plain_journald
[ -d "$CONF_D" ] || { mkdir -p "$CONF_D"; lb_defer "rmdir '$CONF_D'"; }
printf '[Journal]\nRateLimitIntervalSec=1s\nRateLimitBurst=5\n' >"$CONF"
lb_defer "rm -f '$CONF'"
[ -z "$OLDJ" ] || lb_stop_pid "$OLDJ"
! lb_journald_running || lb_fail "a journald is still there"
mkdir -p /run/systemd/journal /var/log/journal
/lib/systemd/systemd-journald >/dev/null 2>&1 &
JPID=$!
lb_defer "lb_stop_pid $JPID"
lb_wait_for 100 lb_journald_running || lb_fail "our journald did not start"

lbr_setup recdrop

# 2. sshd (and every recorder it starts) in a unit of its own
CG=$CG_ROOT/lbx-test-drops.service
mkdir "$CG" || lb_fail "cannot make $CG"
lb_defer "rmdir '$CG'"
lb_defer "while read -r p; do echo \$p >'$CG_ROOT/cgroup.procs'; done <'$CG/cgroup.procs'"
echo "$LB_SSHD_PID" >"$CG/cgroup.procs" || lb_fail "cannot move sshd to $CG"

# 3. 200 execs in a row: far more entries than 5 a second
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
T0=$(date '+%Y-%m-%d %H:%M:%S')
OUT=$("${SSH[@]}" 'for i in $(seq 200); do /bin/true $i; done; echo done-loop' 2>/dev/null) ||
    { lbr_explain; lb_fail "loop session failed"; }
[ "$OUT" = done-loop ] || lb_fail "loop output: $OUT"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
[ -s "$SPOOL" ] || lb_fail "no spool for $S"

# journald did drop entries of the session
sup=$(journalctl --no-pager -o cat --since "$T0" _PID="$JPID" | grep -E '^Suppressed [0-9]+ messages from lbx-test-drops.service' || true)
[ -n "$sup" ] || { lbr_journal "$S" | jq -c '[.LOCKBOX_SEQ_FIRST, .LOCKBOX_RESENT]' | head -30 >&2; lb_fail "journald suppressed nothing (rate limit not in force?)"; }
nsup=$(awk '{ n += $2 } END { print n + 0 }' <<<"$sup")

# and still holds every seq of it afterwards, some re-sent
J=$(python3 "$CHECK" journal "$S" "$SPOOL") || lb_fail "journal: $J"
jq -e '.n_missing == 0 and (.differ | length) == 0 and .resent_entries >= 1' <<<"$J" >/dev/null ||
    { lbr_explain; lb_fail "journal vs spool after drops ($nsup suppressed): $J"; }
# (the commands the spool got from audit: what journald must hold)
ns=$(jq -r 'select(.kind == "cmd") | .argv_text // empty' "$SPOOL" | grep '^/bin/true [0-9]*$' | sort -u | wc -l)
[ "$ns" -ge 50 ] || lb_fail "the spool has only $ns /bin/true commands"
nj=$(journalctl --no-pager -a -o json LOCKBOX_SESSION="$S" LOCKBOX_KIND=cmd | jq -r .LOCKBOX_ARGV | grep '^/bin/true [0-9]*$' | sort -u | wc -l)
[ "$nj" = "$ns" ] || lb_fail "journald has $nj of the spool's $ns distinct command entries"
V=$("$top_builddir/recorder/lockbox-replay" --journal verify "$S" 2>&1) || lb_fail "lockbox-replay --journal verify: $V"
lb_pass "journald suppressed $nsup messages; every seq of the session is in the journal afterwards ($(jq -c '{entries,records,resent_entries}' <<<"$J")); replay verify: $(head -c 200 <<<"$V")"
