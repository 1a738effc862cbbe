#!/bin/bash
# Fault injection, the spool's disk full (a small tmpfs mounted as spool_dir),
# through a real sshd. record-enforce.sh shows that the session ends, the
# operator is told and the broker records evidence_failure; this adds what
# the evidence holds when it happens:
#  1. full in mid-session, while the session runs commands and prints:
#     every byte the operator received is in the spool, every command that
#     ran (its marker file exists) is in the spool or the session's journald
#     entries, the session stopped before its end, and the verifier says
#     the spool has no end (or the end record says evidence_failure);
#     the same with a session that only runs commands; what ran is taken
#     from the kernel's EXECVE records in auditd's log as well as the
#     markers; journald and auditd say that the spool failed;
#  2. full before the login: the login's command does not run.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/bypass-lib.sh"
lbb_setup fltspool
mount -t tmpfs -o size=256k lbx-test-spool "$LBR_SPOOL"
lb_defer "umount '$LBR_SPOOL'"
chmod 0755 "$LBR_SPOOL"

# 1. full in mid-session
lbr_key
set +e
LBB_TIMEOUT=120 lbb_ssh 127.0.0.1 "for i in \$(seq 300); do /usr/bin/touch $M/sf-\$i; head -c 3000 /dev/zero | base64 -w 100; done; /usr/bin/touch $M/sf-end" \
    >"$LB_TMP/sf.out" 2>"$LB_TMP/sf.err"
rc=$?
set -e
[ "$rc" != 0 ] || lbb_bad "spool full: the session exited 0"
[ ! -e "$M/sf-end" ] || lbb_bad "spool full: the session ran to its end without evidence"
grep -q "could not be recorded" "$LB_TMP/sf.err" || lbb_bad "spool full: the operator was not told ($(tail -c 200 "$LB_TMP/sf.err"))"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
[ -s "$SPOOL" ] || lb_fail "no spool for session $S"
V=$(python3 - "$SPOOL" "$LB_TMP/sf.out" <<'PY'
import base64, json, sys
recs = []
for line in open(sys.argv[1], "rb"):
    try:
        recs.append(json.loads(line))
    except ValueError:
        pass  # a last line cut by the full disk
out = b"".join(base64.b64decode(r["data"]) for r in recs
               if r["kind"] == "out" and r.get("stream") == "stdout" and "data" in r)
got = open(sys.argv[2], "rb").read()
print(json.dumps({"received": len(got), "spooled": len(out), "prefix": out.startswith(got),
                  "end": [r for r in recs if r["kind"] == "end"]}))
PY
)
if jq -e '.prefix' <<<"$V" >/dev/null; then
    lb_pass "spool full: every byte the operator received is in the spool ($(jq -c '{received,spooled}' <<<"$V"))"
else
    lbb_bad "spool full: the operator received bytes the spool does not hold ($V)"
fi
# every command that ran (its marker exists) is in the evidence: the spool,
# the session's journald entries or the recorder's AUDIT_USER_CMD records
AUDIT_LOG=$(awk -F= '/^ *log_file/{gsub(/ /,"",$2); print $2}' /etc/audit/auditd.conf 2>/dev/null)
AUDIT_LOG=${AUDIT_LOG:-/var/log/audit/audit.log}
cmds_in_evidence() { # what session spool marker-prefix
    local what=$1 s=$2 spool=$3 pfx=$4 jcmds scmds ucmds f hex made=0 missing= raw= execd
    lb_wait_for 100 sh -c "journalctl -a -o json LOCKBOX_SESSION=$s | grep -q ." || true
    sleep 2
    lb_audit_flush
    jcmds=$(journalctl --no-pager -a -o json LOCKBOX_SESSION="$s" LOCKBOX_KIND=cmd | jq -r '.LOCKBOX_ARGV // empty')
    scmds=$(python3 - "$spool" <<'PY'
import base64, json, sys
for line in open(sys.argv[1], "rb"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r["kind"] == "cmd":
        print(" ".join(base64.b64decode(a).decode("utf-8", "replace") for a in r["argv"]))
PY
)
    ucmds=$(cat "$AUDIT_LOG"* 2>/dev/null | grep -a 'type=USER_CMD' | grep -a "lockbox_session=$s" || true)
    # what ran: by the kernel's own EXECVE records in auditd's log (an exec
    # killed before it made its marker ran all the same), and the markers
    execd=$(cat "$AUDIT_LOG"* 2>/dev/null | python3 -c '
import re, sys
pfx = sys.argv[1]
for line in sys.stdin.buffer:
    if b"type=EXECVE" not in line:
        continue
    m = re.search(rb" a0=\"/usr/bin/touch\" a1=\"([^\"]*)\"", line)
    if m and m.group(1).decode("utf-8", "replace").startswith(pfx):
        print(m.group(1).decode("utf-8", "replace"))
' "$M/$pfx" | sort -u)
    for f in $( { printf '%s\n' "$execd"; ls -d "$M/$pfx"* 2>/dev/null; } | grep . | sort -u); do
        made=$((made + 1))
        hex=$(printf '/usr/bin/touch %s' "$f" | od -An -tx1 | tr -d ' \n')
        grep -qxF "/usr/bin/touch $f" <<<"$scmds" || grep -qxF "/usr/bin/touch $f" <<<"$jcmds" ||
            grep -q "cmd=$hex\( \|$\)" <<<"$ucmds" || {
            missing="$missing $(basename "$f")"
            # only in the kernel's own EXECVE record, outside the session's evidence?
            cat "$AUDIT_LOG"* 2>/dev/null | grep -a 'type=EXECVE' | grep -aqF "a1=\"$f\"" && raw="$raw $(basename "$f")"
        }
    done
    [ "$made" -gt 0 ] || lb_fail "$what: no command ran (the check is blind)"
    if [ -z "$missing" ]; then
        lb_pass "$what: all $made commands that ran (by the kernel's EXECVE records and the markers) are in the evidence"
    else
        lbb_bad "$what: commands that ran are in neither the spool, journald nor the recorder's audit records:$missing (only in the kernel's raw EXECVE records:${raw:- none})"
    fi
    # the failed spool is said where the spool is not: journald and auditd
    if journalctl --no-pager -a SYSLOG_IDENTIFIER=lockbox-record | grep "session $s: the spool .* cannot be written" >/dev/null &&
        cat "$AUDIT_LOG"* 2>/dev/null | grep -a 'op=lockbox-record-spool-failed' | grep -a "lockbox_session=$s" >/dev/null; then
        lb_pass "$what: journald and auditd say the spool failed"
    else
        lbb_bad "$what: journald or auditd does not say that the spool failed"
    fi
}
cmds_in_evidence "spool full (output and commands)" "$S" "$SPOOL" sf-
# the verifier notes that the spool stops short
set +e
VER=$("$top_builddir/recorder/lockbox-replay" --spool "$SPOOL" verify "$S" 2>&1)
vrc=$?
set -e
if jq -e '.end | length > 0 and .[0].reason == "evidence_failure"' <<<"$V" >/dev/null; then
    lb_pass "spool full: the spool's end record says evidence_failure"
elif [ "$vrc" != 0 ] && grep -qi 'end' <<<"$VER"; then
    lb_pass "spool full: verify says the spool has no end ($(tr '\n' ' ' <<<"$VER" | cut -c1-160))"
else
    lbb_bad "spool full: neither an end record nor a verifier note (verify rc $vrc: $VER)"
fi

# 1b. full in mid-session with commands only (each record a command, so the
#     write that fails is a command's, which has already run)
rm -f "$SPOOL"
lbr_key
LBB_TIMEOUT=120 lbb_ssh 127.0.0.1 "for i in \$(seq 5000); do /usr/bin/touch $M/sc-\$i; done; /usr/bin/touch $M/sc-end" \
    >/dev/null 2>"$LB_TMP/sc.err" || true
[ ! -e "$M/sc-end" ] || lbb_bad "spool full (commands only): the session ran to its end without evidence"
S=$(lbr_session_of "$R")
cmds_in_evidence "spool full (commands only)" "$S" "$LBR_SPOOL/$S.jsonl" sc-

# 2. full before the login
dd if=/dev/zero of="$LBR_SPOOL/fill" bs=4k 2>/dev/null || true
lbr_key
LBB_TIMEOUT=60 lbb_ssh 127.0.0.1 "/usr/bin/touch $M/full-before" >/dev/null 2>"$LB_TMP/fb.err" || true
if [ -e "$M/full-before" ]; then
    lbb_bad "spool full before the login: the command ran"
else
    lb_pass "spool full before the login: nothing ran ($(grep -i lockbox "$LB_TMP/fb.err" | tail -n1))"
fi
rm -f "$LBR_SPOOL/fill"

lbb_done
