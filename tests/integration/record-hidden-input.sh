#!/bin/bash
# Turning echo off hides nothing from the evidence (docs/EVIDENCE.md §2,
# "Input typed with echo off"): through a real sshd, an operator runs
# `stty -echo; bash --noediting` and types a command line. The spool holds
# the bytes, marked "echo": false with the foreground process (bash);
# lockbox-replay masks them by default (input, export) and shows them, with
# the foreground process named, to an auditor who asks
# (--reveal-hidden-input), which is itself noted.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/record-lib.sh"
lbr_setup rechid
# (lbr_setup gave the operator the recorder as login shell)
RP="$top_builddir/recorder/lockbox-replay"
SECRET=hidden-line-$$

lbr_key
mapfile -t SSH < <(lbr_ssh_argv -tt)
steps=$(cat <<JSON
[["expect", "\\\\$ \$", 20],
 ["send", "PS1='lbx> '\\n"], ["expect", "lbx> \$", 10],
 ["send", "stty -echo; PS1='hid> ' bash --noediting --norc\\n"], ["expect", "hid> \$", 10],
 ["send", "echo $SECRET | tr a-z A-Z\\n"], ["expect", "HIDDEN-LINE", 10], ["expect", "hid> \$", 10],
 ["send", "exit\\n"], ["expect", "lbx> \$", 10],
 ["send", "stty echo; exit\\n"], ["eof", 20]]
JSON
)
python3 "$LBR_DRIVE" "$steps" "$LB_TMP/t1" -- "${SSH[@]}" || lb_fail "session: $(tail -c 2000 "$LB_TMP/t1"; lbr_explain)"
grep -qa "echo $SECRET" "$LB_TMP/t1" && lb_fail "the terminal echoed the line (test is broken)"
S=$(lbr_session_of "$R")
SPOOL=$LBR_SPOOL/$S.jsonl
lb_wait_for 100 sh -c "grep -q '\"kind\":\"end\"' '$SPOOL'" || lb_fail "no end record"

# the spool holds the line, marked, with the foreground process
python3 - "$SPOOL" "$SECRET" <<'PY' || lb_fail "the spool does not hold the hidden line: $(grep '"in"' "$SPOOL" | tail -5)"
import base64, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
hidden = [r for r in recs if r["kind"] == "in" and r.get("echo") is False]
typed = b"".join(base64.b64decode(r["data"]) for r in hidden)
assert ("echo %s" % sys.argv[2]).encode() in typed, typed
fg = [r["fg"] for r in hidden]
assert all(f["comm"] == "bash" and f["pid"] > 1 for f in fg), fg
assert not any(r.get("masked") for r in recs), "old-style masked records"
PY
lb_pass "the spool holds the line typed with echo off, marked echo false, foreground bash"

# the start record anchors the kernel audit's lost counter, read as root
# before the drop (docs/EVIDENCE.md §5: kernel audit backlog loss)
lost_now=$(auditctl -s | awk '$1=="lost"{print $2}')
python3 - "$SPOOL" "$lost_now" <<'PY' || lb_fail "start record lacks the audit status: $(head -n1 "$SPOOL")"
import json, sys
start = json.loads(open(sys.argv[1]).readline())
a = start["audit"]
assert isinstance(a["lost"], int) and 0 <= a["lost"] <= int(sys.argv[2]), (a, sys.argv[2])
assert a["backlog_limit"] == 8192 and a["enabled"] == 1, a
PY
lb_pass "the start record holds the kernel audit's lost counter and backlog settings"

out=$("$RP" --spool "$SPOOL" verify "$S") || lb_fail "verify: $out"
# masked by default
out=$("$RP" --spool "$SPOOL" input "$S") || lb_fail "input failed"
grep -q "$SECRET" <<<"$out" && lb_fail "input shows the hidden line by default: $out"
grep -q "typed with echo off: masked" <<<"$out" || lb_fail "input does not say what is masked: $out"
"$RP" --spool "$SPOOL" export "$S" --format bundle -o "$LB_TMP/b.json" 2>/dev/null
grep -q "$SECRET" "$LB_TMP/b.json" && lb_fail "the bundle holds the hidden line by default"
jq -e '.hidden_input.records >= 1 and .hidden_input.revealed == false' "$LB_TMP/b.json" >/dev/null ||
    lb_fail "bundle hidden_input: $(jq -c .hidden_input "$LB_TMP/b.json")"
"$RP" --spool "$SPOOL" export "$S" --format asciicast -o "$LB_TMP/s.cast"
grep -q "$SECRET" "$LB_TMP/s.cast" && lb_fail "the asciicast holds the hidden line by default"
lb_pass "input and export mask it by default and say so"

# revealed on request, with the foreground process named, and noted
out=$("$RP" --spool "$SPOOL" input --reveal-hidden-input "$S" 2>"$LB_TMP/err") || lb_fail "input --reveal-hidden-input"
grep -q "off .*bash (pid [0-9]*) .*$SECRET" <<<"$out" ||
    lb_fail "input --reveal-hidden-input does not show the line with its foreground: $out"
grep -q "revealing .* typed with echo off" "$LB_TMP/err" || lb_fail "revealing is not noted: $(cat "$LB_TMP/err")"
"$RP" --spool "$SPOOL" export "$S" --format bundle --reveal-hidden-input -o "$LB_TMP/b2.json" 2>/dev/null
jq -e '.hidden_input.revealed == true and .verification.ok == true' "$LB_TMP/b2.json" >/dev/null || lb_fail "revealed bundle"
python3 - "$LB_TMP/b2.json" "$SECRET" <<'PY' || lb_fail "the revealed bundle lacks the line"
import base64, json, sys
b = json.load(open(sys.argv[1]))
typed = b"".join(base64.b64decode(r["data"]) for r in b["records"] if r["kind"] == "in" and r.get("echo") is False)
assert ("echo %s" % sys.argv[2]).encode() in typed
PY
lb_pass "revealed on request (input, bundle) with the foreground process named; revealing noted"
