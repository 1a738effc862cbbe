#!/bin/bash
# lockbox-record deadline through a real sshd: a 65 s request. The operator is
# warned at T-1 min (on the terminal and as a warn record), and at the
# deadline the session ends within 2 s, every process of it included.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup recdl
lbr_escaper_install
CHECK=$top_srcdir/tests/integration/record-check.py

lbr_key 65
NA=$(lb_broker_api GET "/v1/requests/$R" "" lbxrappr | jq -r .not_after)
NA_S=$(date -d "$NA" +%s)
mapfile -t SSH < <(lbr_ssh_argv -tt)
steps=$(cat <<JSON
[["expect", "\\\\$ $", 20],
 ["send", "setsid sleep 7654303 </dev/null >/dev/null 2>&1 & echo bg=\$!\n"], ["expect", "bg=[0-9]+", 10],
 ["send", "setsid python3 ~/escape.py lbxesc-expiry & sleep 1; echo started-\$?\n"], ["expect", "started-0", 20],
 ["expect", "access ends in 1 minute", 30],
 ["eof", 90]]
JSON
)
python3 "$LBR_DRIVE" "$steps" "$LB_TMP/t" -- "${SSH[@]}" || true
[ -f "$LB_TMP/t.eof" ] || lb_fail "session did not end: $(tail -c 500 "$LB_TMP/t")"
el=$(python3 -c "print(round(float(open('$LB_TMP/t.eof').read()) - $NA_S, 2))")
# not_after has second precision: the end is within [-1, +2] s of it
python3 -c "import sys; sys.exit(0 if -1 <= $el <= 2 else 1)" || lb_fail "ended ${el}s from the deadline"
grep -q "access has expired" "$LB_TMP/t" || lb_fail "operator not told of the expiry"
# (pids inside the session are its PID namespace's: find the job by its argv)
lb_wait_for 30 sh -c "! pgrep -xf 'sleep 7654303' >/dev/null" || lb_fail "setsid job survived the deadline"
lbr_escaper_gone lbxesc-expiry || lb_fail "a forking, setsid, re-parenting process survived the deadline"
S=$(lbr_session_of "$R")
SUM=$(python3 "$CHECK" spool "$LBR_SPOOL/$S.jsonl") || lb_fail "spool: $SUM"
jq -e '.end.reason == "expired" and (.warn | index("access ends in 1 minute"))' <<<"$SUM" >/dev/null ||
    lb_fail "records: $(jq -c '{end,warn}' <<<"$SUM")"
lb_pass "deadline: warned at T-1 min, ended ${el}s from not_after, setsid job and forking escaper gone, end reason expired"
