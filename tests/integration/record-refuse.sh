#!/bin/bash
# lockbox-record ends a session that does what the host does not allow, judged
# by what runs, not by the command's text (real sshd, allow_sftp = no):
# - sftp by other names: `sftp -s "env /usr/lib/openssh/sftp-server"`,
#   `sftp -s "/bin/sh -c /usr/lib/openssh/sftp-server"`, a symlink to it and a
#   renamed copy of it: no file comes back, the session ends (reason
#   refused), the evidence, the journal and the operator say why;
# - a non-interactive command's stdin past the recording cap (output_cap):
#   what cannot be recorded does not reach the command, the session ends.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
CAP=65536
LBR_HOSTCONF_EXTRA="output_cap = $CAP"
lbr_setup recref
# (lbr_setup gave the operator the recorder as login shell)
CHECK=$top_srcdir/tests/integration/record-check.py
SFTP_SERVER=/usr/lib/openssh/sftp-server
[ -x "$SFTP_SERVER" ] || lb_fail "$SFTP_SERVER is missing (openssh-sftp-server)"
home=$(getent passwd lbxrvendor | cut -d: -f6)
echo "secret-file-content-$$" > "$home/wanted"
chown lbxrvendor: "$home/wanted"
ln -sf "$SFTP_SERVER" "$home/link-to-it"
install -o lbxrvendor -m 0755 "$SFTP_SERVER" "$home/fetchtool"

# the session ended as refused, with a note that names the reason
refused_session() { # what-in-note
    local s spool sum
    s=$(lbr_session_of "$R")
    [ -n "$s" ] && [ "$s" != null ] || lb_fail "no session opened: $(cat "$LB_TMP"/*-err 2>/dev/null | tail -5; tail -5 "$LB_SSHD_LOG")"
    spool=$LBR_SPOOL/$s.jsonl
    lb_wait_for 100 sh -c "grep -q '\"kind\":\"end\"' '$spool'" || lb_fail "no end record in $spool: $(tail -c 1500 $spool; cat $LB_TMP/sftp-err)"
    sum=$(python3 "$CHECK" spool "$spool") || lb_fail "spool chain: $sum"
    jq -e '.end.reason == "refused"' <<<"$sum" >/dev/null || lb_fail "end reason: $(tail -c 600 "$spool")"
    grep -q "\"kind\":\"note\".*$1" "$spool" || grep -q "$1.*\"kind\":\"note\"" "$spool" ||
        lb_fail "no note saying '$1': $(tail -c 1200 "$spool")"
    SPOOL=$spool S=$s
}

mapfile -t opts < <(lb_ssh_opts)
opts=("${opts[@]/#-p/-P}")
n=0
for server in "$home/fetchtool" "env $SFTP_SERVER" "/bin/sh -c $SFTP_SERVER" "$home/link-to-it"; do
    n=$((n + 1))
    lbr_key
    rm -f "$LB_TMP/got"
    since=$(date '+%Y-%m-%d %H:%M:%S')
    set +e
    echo "get wanted $LB_TMP/got" | timeout 60 sftp -F /dev/null "${opts[@]}" -i "$KEY" -o IdentitiesOnly=yes \
        -s "$server" -b - lbxrvendor@127.0.0.1 >"$LB_TMP/sftp-out" 2>"$LB_TMP/sftp-err"
    RC=$?
    set -e
    [ ! -e "$LB_TMP/got" ] || lb_fail "sftp -s '$server' fetched the file (rc $RC)"
    [ "$RC" != 0 ] || lb_fail "sftp -s '$server' succeeded: $(cat "$LB_TMP/sftp-out")"
    refused_session "sftp is not allowed on this host"
    grep -q "sftp is not allowed on this host" "$LB_TMP/sftp-err" ||
        lb_fail "the operator was not told (sftp -s '$server'): $(cat "$LB_TMP/sftp-err")"
    lb_wait_for 50 sh -c "journalctl --no-pager --since '$since' SYSLOG_IDENTIFIER=lockbox-record | grep -q 'session $S: sftp is not allowed'" ||
        lb_fail "no journal message for sftp -s '$server'"
    lb_pass "sftp -s '$server': no file, session ended (refused), note, journal and operator told"
done
# the exec itself is judged: an sftp server started through a shell, with
# nothing said to it (stdin open, empty), ends the session by its exec record
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
set +e
t0=$(date +%s)
timeout 60 "${SSH[@]}" "/bin/sh -c 'sleep 1; exec $SFTP_SERVER'" < <(sleep 8) >/dev/null 2>"$LB_TMP/exec-err"
RC=$?
set -e
[ "$RC" != 0 ] || lb_fail "an sftp server started through a shell ran to its end"
[ $(($(date +%s) - t0)) -lt 7 ] || lb_fail "the session did not end at once"
refused_session "an sftp server was started"
python3 - "$SPOOL" "$SFTP_SERVER" <<'PY' || lb_fail "no cmd record of the sftp server before the refusal: $(tail -c 1500 "$SPOOL")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
i = next(i for i, r in enumerate(recs) if r["kind"] == "note" and "sftp server was started" in r["text"])
assert any(r["kind"] == "cmd" and r.get("exe") == sys.argv[2] for r in recs[:i]), recs
PY
lb_pass "an sftp server exec'd through a shell, nothing said to it: killed by its exec record, session refused"

# input past the cap: no more than the cap reaches the command
lbr_key
mapfile -t SSH < <(lbr_ssh_argv)
rm -f "$home/capped"
set +e
head -c $((CAP * 4)) /dev/zero | timeout 60 "${SSH[@]}" 'cat > capped; echo finished' >"$LB_TMP/cap-out" 2>"$LB_TMP/cap-err"
RC=$?
set -e
[ "$RC" != 0 ] || lb_fail "a session whose input passed the cap ended normally: $(cat "$LB_TMP/cap-out")"
grep -q finished "$LB_TMP/cap-out" && lb_fail "the command ran to its end after input past the cap"
got=$(stat -c %s "$home/capped" 2>/dev/null || echo 0)
[ "$got" -le "$CAP" ] || lb_fail "$got bytes reached the command, the cap is $CAP"
refused_session "input passed the recording cap"
grep -q "input passed the recording cap" "$LB_TMP/cap-err" || lb_fail "operator not told: $(cat "$LB_TMP/cap-err")"
rec=$(python3 "$CHECK" stream "$SPOOL" stdin in | wc -c)
[ "$rec" -ge "$got" ] || lb_fail "the command got $got bytes, the spool holds $rec"
lb_pass "input past the cap: $got bytes (recorded: $rec) reached the command, the session ended (refused)"
