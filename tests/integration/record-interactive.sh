#!/bin/bash
# lockbox-record end to end through a real sshd (pam_lockbox, per-session key,
# ForceCommand recorder): an interactive session driven through a PTY. What the
# operator typed and saw is in the spool and in journald, byte-exact (a 64 KiB
# random blob), password input is masked, window size changes are recorded,
# commands come from audit; `ssh host cmd` is recorded per stream; sftp is
# refused.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup recint
CHECK=$top_srcdir/tests/integration/record-check.py
home=$(getent passwd lbxrvendor | cut -d: -f6)

# 1. interactive
lbr_key
mapfile -t SSH < <(lbr_ssh_argv -tt)
steps=$(cat <<'JSON'
[["expect", "\\$ $", 20],
 ["send", "PS1='lbx> '\n"], ["expect", "lbx> $", 10],
 ["send", "head -c 65536 /dev/urandom > blob; sha256sum blob\n"], ["expect", "lbx> $", 10],
 ["send", "stty raw -echo; printf '\\102LOB<<'; cat blob; printf '>>\\102LOB'; stty sane\n"],
 ["expect", ">>BLOB", 20], ["expect", "lbx> $", 10],
 ["send", "stty -echo; read -r pw; stty echo; echo \"len=${#pw}\"\n"], ["sleep", 0.5],
 ["send", "hunter2-secret\n"], ["expect", "len=14", 10], ["expect", "lbx> $", 10],
 ["winsize", 132, 43], ["sleep", 0.3],
 ["send", "stty size\n"], ["expect", "43 132", 10],
 ["send", "/bin/echo 'two words' $'\\x01bin'; cd /tmp; /bin/pwd\n"], ["expect", "/tmp\\r\\n", 10],
 ["send", "exit\n"], ["eof", 20]]
JSON
)
python3 "$LBR_DRIVE" "$steps" "$LB_TMP/t1" -- "${SSH[@]}" || lb_fail "session: $(tail -c 2000 "$LB_TMP/t1"; lbr_explain)"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
[ -f "$SPOOL" ] || lb_fail "no spool $SPOOL"
[ "$(stat -c '%U %a' "$SPOOL")" = "lockbox-rec 600" ] || lb_fail "spool owner/mode: $(stat -c '%U %a' "$SPOOL")"
SUM=$(python3 "$CHECK" spool "$SPOOL") || lb_fail "spool chain: $SUM"
want=$(sha256sum "$home/blob" | cut -d' ' -f1)
got=$(python3 "$CHECK" between "$SPOOL" 'BLOB<<' '>>BLOB')
[ "$got" = "$want 65536" ] || lb_fail "recorded blob: $got, want $want 65536"
# what the operator saw is what was recorded
python3 - "$LB_TMP/t1" "$want" <<'PY' || lb_fail "the operator did not see the blob intact"
import hashlib, sys
d = open(sys.argv[1], "rb").read()
a = d.index(b"BLOB<<") + 6
b = d.index(b">>BLOB", a)
ok = hashlib.sha256(d[a:b]).hexdigest() == sys.argv[2]
if not ok:
    sys.stderr.write("seen %d bytes, %d CR, %d LF\n" % (b - a, d[a:b].count(b"\r"), d[a:b].count(b"\n")))
sys.exit(0 if ok else 1)
PY
lb_pass "interactive: 64 KiB random blob recorded byte-exact, chain verifies, spool lockbox-rec 0600"

jq -e '.masked >= 1' <<<"$SUM" >/dev/null || lb_fail "no masked input: $SUM"
python3 "$CHECK" stream "$SPOOL" tty in >"$LB_TMP/typed"
grep -q "sha256sum blob" "$LB_TMP/typed" || lb_fail "typed command not in the input stream"
# typed with echo off: recorded, marked echo false (readers mask it), never unmarked
python3 - "$SPOOL" <<'PY' || lb_fail "the password is not recorded as input typed with echo off"
import base64, json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if '"kind":"in"' in l]
off = b"".join(base64.b64decode(r["data"]) for r in recs if r.get("echo") is False)
on = b"".join(base64.b64decode(r["data"]) for r in recs if r.get("echo") is not False and "data" in r)
assert b"hunter2" in off and b"hunter2" not in on
PY
jq -e 'any(.resize[]; . == [132,43])' <<<"$SUM" >/dev/null || lb_fail "no resize record: $SUM"
lb_pass "input: typed commands recorded, password masked; resize recorded"

jq -e '.start.cmd_source == "audit" and .cmd_sources.audit >= 3 and (.cmd_sources.proc // 0) == 0' <<<"$SUM" >/dev/null ||
    lb_fail "commands not from audit: $SUM"
jq -e 'any(.argv[]; . == ["/bin/echo", "two words", "\u0001bin"])' <<<"$SUM" >/dev/null || lb_fail "echo argv: $(jq -c .argv <<<"$SUM")"
python3 - "$SPOOL" <<'PY' || lb_fail "pwd command record: cwd"
import json, sys, base64
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["kind"] == "cmd" and [base64.b64decode(a) for a in r["argv"]] == [b"/bin/pwd"]:
        sys.exit(0 if r["cwd"] == "/tmp" and r["exe"] == "/usr/bin/pwd" and r["uid"] > 0 else 1)
sys.exit(1)
PY
jq -e '.end.reason == "exit" and .end.status == 0' <<<"$SUM" >/dev/null || lb_fail "end: $(jq -c .end <<<"$SUM")"
lb_pass "commands: exact argv (spaces, control bytes), cwd, exe from audit; end reason exit"

lb_wait_for 50 sh -c "journalctl -a -o json LOCKBOX_SESSION=$S LOCKBOX_KIND=end | grep -q ." || lb_fail "no end entry in journald"
J=$(python3 "$CHECK" journal "$S" "$SPOOL") || lb_fail "journal: $J"
jq -e '.n_missing == 0 and (.differ | length) == 0 and .records == .spool' <<<"$J" >/dev/null || lb_fail "journal vs spool: $J"
lb_pass "journald holds exactly the spool's records ($(jq -c '{entries,records}' <<<"$J"))"

# 2. ssh host 'cmd': streams recorded separately
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
set +e
OUT=$("${SSH[@]}" 'echo to-out; echo to-err >&2; read x; echo "read=$x"; exit 3' <<<"from-in" 2>"$LB_TMP/err")
RC=$?
set -e
[ "$RC" = 3 ] || lb_fail "command exit status $RC (out $OUT, err $(cat "$LB_TMP/err"))"
[ "$OUT" = $'to-out\nread=from-in' ] || lb_fail "command output: $OUT"
grep -qx to-err "$LB_TMP/err" || lb_fail "stderr: $(cat "$LB_TMP/err")"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
SUM=$(python3 "$CHECK" spool "$SPOOL") || lb_fail "spool: $SUM"
[ "$(python3 "$CHECK" stream "$SPOOL" stdout)" = $'to-out\nread=from-in' ] || lb_fail "stdout stream"
[ "$(python3 "$CHECK" stream "$SPOOL" stderr)" = "to-err" ] || lb_fail "stderr stream"
[ "$(python3 "$CHECK" stream "$SPOOL" stdin in)" = "from-in" ] || lb_fail "stdin stream"
jq -e '.start.mode == "command" and .end.reason == "exit" and .end.status == 3' <<<"$SUM" >/dev/null || lb_fail "command records: $SUM"
lb_pass "ssh host cmd: stdin, stdout, stderr recorded as separate streams, exit status kept"

# 3. sftp is refused (allow_sftp = no): as a subsystem (sshd gives a subsystem no
# stderr, so the refusal is in the journal) and as a command (told on stderr)
lbr_key
since=$(date '+%Y-%m-%d %H:%M:%S')
mapfile -t opts < <(lb_ssh_opts)
opts=("${opts[@]/#-p/-P}")
set +e
echo "ls" | sftp -F /dev/null "${opts[@]}" -i "$KEY" -o IdentitiesOnly=yes -b - lbxrvendor@127.0.0.1 \
    >"$LB_TMP/sftp-out" 2>"$LB_TMP/sftp-err"
RC=$?
set -e
[ "$RC" != 0 ] || lb_fail "sftp subsystem was allowed: $(cat "$LB_TMP/sftp-out")"
lb_wait_for 30 sh -c "journalctl --no-pager --since '$since' SYSLOG_IDENTIFIER=lockbox-record | grep -q 'refused sftp'" ||
    lb_fail "sftp refusal not logged: $(cat "$LB_TMP/sftp-err")"
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
set +e
"${SSH[@]}" /usr/lib/openssh/sftp-server </dev/null >"$LB_TMP/sftp-out" 2>"$LB_TMP/sftp-err"
RC=$?
set -e
[ "$RC" != 0 ] || lb_fail "sftp-server command was allowed"
grep -q "sftp is not allowed" "$LB_TMP/sftp-err" || lb_fail "no clear message: $(cat "$LB_TMP/sftp-err")"
lb_pass "sftp refused (subsystem: sftp fails, refusal in the journal; command: told on stderr)"
