#!/bin/bash
# lockbox-replay on spool files (docs/EVIDENCE.md §3): a recording written
# by tests/integration/replay-writer from the contract is listed, verified,
# played byte for byte and followed live (inotify); tampered copies (changed
# payload, removed line, reordered records) fail verification with the
# problem named. Needs no root and no daemon.
. "$(dirname "$0")/lib.sh"
lb_tmpdir

R="$top_builddir/recorder/lockbox-replay"
W="$top_builddir/tests/integration/replay-writer"
T=$LB_TMP
S=s-rs-$$
mkdir "$T/spool"

printf 'line one\r\n\xff\xfe\x00bin\r\n\033[7mrev\033[0m\033]52;c;eA==\007\r\n' > "$T/out"
printf '/bin/echo\0hi there\0' > "$T/argv"
"$W" --spool "$T/spool/$S.jsonl" --session "$S" --request r-rs out:"$T/out":7 cmd:"$T/argv" \
    resize:120x40 in:ls out:"$T/out" end
cat "$T/out" "$T/out" > "$T/expected"
n=$(wc -l < "$T/spool/$S.jsonl")

"$R" --spool "$T/spool" list | grep -q "^$S .*r-rs" || lb_fail "list --spool DIR"
"$R" --spool "$T/spool/$S.jsonl" list | grep -q "^$S " || lb_fail "list --spool FILE"
"$R" --spool "$T/spool" commands "$S" | grep -qF "/bin/echo 'hi there'" || lb_fail "commands"
out=$("$R" --spool "$T/spool" verify "$S") || lb_fail "verify: $out"
grep -q "^OK: $S: $n records" <<<"$out" || lb_fail "verify output: $out"
"$R" --spool "$T/spool/$S.jsonl" play --raw --max-idle 0 "$S" | cmp -s - "$T/expected" || lb_fail "play --raw not exact"
"$R" --spool "$T/spool" play --max-idle 0 "$S" | grep -qaF $'\e]52' && lb_fail "OSC 52 reached the terminal"
"$R" --spool "$T/spool" export "$S" --format asciicast | grep -qF '\u001b]52' || lb_fail "asciicast export lost OSC 52"
"$R" --spool "$T/spool" export "$S" --format asciicast --sanitize > "$T/san.cast"
grep -qF '\u001b]52' "$T/san.cast" && lb_fail "export --sanitize kept OSC 52"
grep -qF '\u001b[7mrev' "$T/san.cast" || lb_fail "export --sanitize lost the SGR"
rc=0; "$R" --spool "$T/spool/$S.jsonl" verify s-other > /dev/null 2>&1 || rc=$?
[ $rc = 1 ] || lb_fail "a spool file of another session was accepted (exit $rc)"
lb_pass "spool: list, commands, verify ($n records), play byte for byte"

# --- tampering, each named
tamper() { # NAME PYTHON-EXPR-ON-lines
    python3 - "$T/spool/$S.jsonl" "$T/t-$1/$S.jsonl" "$2" <<'PY'
import sys, os, json
src, dst, expr = sys.argv[1:4]
lines = open(src, "rb").read().split(b"\n")[:-1]
exec(expr)
os.makedirs(os.path.dirname(dst), exist_ok=True)
open(dst, "wb").write(b"".join(l + b"\n" for l in lines))
PY
}
expect_problem() { # NAME PATTERN
    local out rc=0
    out=$("$R" --spool "$T/t-$1" verify "$S") || rc=$?
    [ $rc = 1 ] || lb_fail "$1: verify exit $rc: $out"
    grep -q -- "$2" <<<"$out" || lb_fail "$1: expected '$2' in: $out"
}
tamper changed 'r = json.loads(lines[2]); r["data"] = "QUFB"; lines[2] = json.dumps(r, sort_keys=True, separators=(",", ":")).encode()'
expect_problem changed "break at seq 3: .*changed payload"
tamper removed 'del lines[3]'
expect_problem removed "gap: seq 4 missing (1 record)"
tamper reordered '
a, b = json.loads(lines[2]), json.loads(lines[3])
a["seq"], b["seq"] = b["seq"], a["seq"]
d = lambda r: json.dumps(r, sort_keys=True, separators=(",", ":")).encode()
lines[2], lines[3] = d(b), d(a)'
expect_problem reordered "break at seq 3: record was written as seq 4 (reordered)"
tamper noend 'del lines[-1]'
expect_problem noend "missing end record"
tamper shuffled 'lines.reverse()'
"$R" --spool "$T/t-shuffled" verify "$S" > /dev/null || lb_fail "lines out of order (same records) must verify"
lb_pass "verify names a changed payload, a removed record, reordered records, a missing end"

# --- follow a live spool file (inotify)
S2=s-rs2-$$
printf 'first\r\n' > "$T/first"; printf 'MARKER-%s\r\n' "$$" > "$T/marker"
"$W" --spool "$T/spool/$S2.jsonl" --session "$S2" out:"$T/first" sleep:300 touch:"$T/ready" \
    sleep:500 out:"$T/marker" touch:"$T/sent" sleep:4000 end &
wpid=$!
lb_defer "kill $wpid"
lb_wait_for 50 test -e "$T/ready" || lb_fail "writer did not start"
"$R" --spool "$T/spool" play --follow --raw "$S2" > "$T/follow.out" &
fpid=$!
lb_defer "kill $fpid"
lb_wait_for 50 test -e "$T/sent" || lb_fail "writer did not send the marker"
t0=$(date +%s%N)
lb_wait_for 30 grep -q "MARKER-$$" "$T/follow.out" || lb_fail "marker not shown within 3 s"
t1=$(date +%s%N)
lb_pid_alive "$wpid" || lb_fail "writer ended before the marker showed"
wait "$wpid"
for i in $(seq 100); do lb_pid_alive "$fpid" || break; sleep 0.1; done
lb_pid_alive "$fpid" && lb_fail "play --follow did not exit at the end record"
wait "$fpid" || lb_fail "play --follow failed"
cmp -s "$T/follow.out" <(cat "$T/first" "$T/marker") || lb_fail "follow output differs"
lb_pass "play --follow on a spool file: marker after $(( (t1 - t0) / 1000000 )) ms, exits at the end record"

# --- space pauses and resumes, q quits (stdin a terminal)
S3=s-rs3-$$
printf 'AAA\r\n' > "$T/a"; printf 'BBB\r\n' > "$T/b"; printf 'CCC\r\n' > "$T/c"
"$W" --spool "$T/spool/$S3.jsonl" --session "$S3" out:"$T/a" tick:1000 out:"$T/b" tick:60000 out:"$T/c" end
python3 - "$R" "$T/spool" "$S3" <<'PY' || lb_fail "pause/resume/quit keys"
import os, pty, select, sys, time
r, spool, s = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(r, [r, "--spool", spool, "play", s])
seen = b""
def pump(secs, want=None):
    global seen
    end = time.time() + secs
    while time.time() < end:
        if want and want in seen:
            return True
        rd, _, _ = select.select([fd], [], [], 0.05)
        if rd:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return bool(want and want in seen)
assert pump(5, b"AAA"), seen
os.write(fd, b" ")                    # pause before BBB (due 1 s after AAA)
assert not pump(2.5, b"BBB"), "BBB shown while paused"
os.write(fd, b" ")                    # resume
assert pump(3, b"BBB"), "BBB not shown after resume"
os.write(fd, b"q")                    # CCC is a minute away: quit
t0 = time.time()
_, status = os.waitpid(pid, 0)
assert time.time() - t0 < 3, "q did not quit"
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
pump(0.5)
assert b"CCC" not in seen
# on a terminal, play leaves it usable: attributes reset, cursor shown
assert seen.endswith(b"\033[0m\033(B\033)B\017\033[?25h\033[?7h\033[?1l\033>"), seen[-40:]
PY
lb_pass "play: space pauses and resumes, q quits"
