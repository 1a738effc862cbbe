#!/bin/bash
# lockbox-replay against the real journal: a recording written exactly as
# docs/EVIDENCE.md §4 says (by tests/integration/replay-writer, not by the
# recorder) is listed, its commands shown, verified, played byte for byte,
# neutralized when hostile, exported to asciicast that Debian's asciinema
# plays back byte for byte, followed live, and read again from exported
# journal files.
. "$(dirname "$0")/lib.sh"
lb_require_root
[ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ] && { echo "SKIP: integration test (unit-only pass)"; exit 77; }
lb_lock
lb_tmpdir
lb_start_journald

R="$top_builddir/recorder/lockbox-replay"
W="$top_builddir/tests/integration/replay-writer"
T=$LB_TMP
ID=$$-$RANDOM
S=s-rj-$ID
REQ=r-rj-$ID

# --- the recording: text, every byte value, a large chunk, hostile sequences
printf 'hello \xc3\xa9t\xc3\xa9\r\n\033[1;32mgreen\033[0m\r\n' > "$T/text"
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 3)' > "$T/bytes"
head -c 300000 /dev/urandom > "$T/big"
# CAN first: after 300 KB of random bytes the terminal (and the sanitizer)
# may be inside a string sequence, which CAN ends, as a terminal does
printf '\030before\033]52;c;ZWNobyBQV05FRA==\007\033P$qm\033\\\033[6n\033[c\033[>c\033[21t\033]0;evil title\007after\r\n' > "$T/hostile"
printf '/usr/bin/printf\0%%s\\n\0it'"'"'s a\tb\0\xff\xfe' > "$T/argv"
cat "$T/text" "$T/bytes" "$T/big" "$T/hostile" > "$T/expected"

"$W" --journal --session "$S" --request "$REQ" --operator alice --host web1 \
    out:"$T/text" out:"$T/bytes":100 cmd:"$T/argv" tick:2000 out:"$T/big":65536 \
    out:"$T/hostile":9 end || lb_fail "writer failed"

# journald writes asynchronously: wait until the whole session is readable
lb_wait_for 100 "$R" verify "$S" || { "$R" verify "$S" || true; lb_fail "verify never became OK"; }
lb_pass "recording written to the journal"

# --- list
out=$("$R" list --request "$REQ")
grep -q "$S" <<<"$out" || lb_fail "list --request does not show $S: $out"
grep -q "vendor@web1" <<<"$out" || lb_fail "list lacks user@host: $out"
out=$("$R" list --operator nobody-such) || lb_fail "list --operator failed"
! grep -q "$S" <<<"$out" || lb_fail "list --operator filter ignored"
out=$("$R" list --since 2000-01-01 --until 2000-01-02) || lb_fail "list --until failed"
! grep -q "$S" <<<"$out" || lb_fail "list --until ignored"
"$R" --json list --host web1 --since 1h | python3 -c '
import json, sys
s = [x for x in json.load(sys.stdin) if x["session"] == sys.argv[1]]
assert len(s) == 1, s
s = s[0]
assert s["request"] == sys.argv[2] and s["operator"] == "alice" and s["commands"] == 1, s
assert s["ended"] and s["reason"] == "exit", s
' "$S" "$REQ" || lb_fail "list --json"
lb_pass "list finds the session (table, filters, --json)"

# --- commands: exact argv, rendered safely
out=$("$R" commands "$S")
grep -qF "/usr/bin/printf '%s\\n' \$'it\\'s a\\x09b' \$'\\xff\\xfe'" <<<"$out" || lb_fail "commands rendering: $out"
grep -q $'\t' <<<"$out" && lb_fail "a raw tab reached the terminal"
"$R" commands --json "$S" | python3 -c '
import json, sys, base64
c = json.load(sys.stdin)
assert len(c) == 1, c
argv = [base64.b64decode(a) for a in c[0]["argv"]]
assert argv == [b"/usr/bin/printf", b"%s\\n", b"it\x27s a\tb", b"\xff\xfe"], argv
assert c[0]["source"] == "audit" and c[0]["pid"] == 4242 and c[0]["cwd"] == "/home/vendor"
' || lb_fail "commands --json argv not exact"
lb_pass "commands shows the exact argv"

# --- verify
out=$("$R" verify "$S") || lb_fail "verify failed: $out"
grep -q "^OK: $S: " <<<"$out" || lb_fail "verify output: $out"
lb_pass "verify: $out"

# --- play: byte for byte with --raw; hostile sequences gone by default
"$R" play --raw --speed 1000 "$S" > "$T/play.raw"
[ "$(sha256sum < "$T/play.raw")" = "$(sha256sum < "$T/expected")" ] || lb_fail "play --raw is not byte-exact"
"$R" play --max-idle 0 --raw "$S" | cmp -s - "$T/expected" || lb_fail "play --max-idle 0 --raw is not byte-exact"
lb_pass "play --raw reproduces the output byte for byte ($(stat -c %s "$T/expected") bytes)"

"$R" play --max-idle 0 "$S" > "$T/play.safe"
for seq in '\e]52;' '\eP$q' '\e[6n' '\e[c' '\e[>c' '\e[21t' '\e]0;'; do
    pat=$(printf "$seq")
    grep -qaF -- "$pat" "$T/play.raw" || lb_fail "raw output lacks $seq (test is broken)"
    grep -qaF -- "$pat" "$T/hostile" || lb_fail "fixture lacks $seq"
    if tail -c 200 "$T/play.safe" | grep -qaF -- "$pat"; then lb_fail "$seq reached the terminal"; fi
done
tail -c 200 "$T/play.safe" | grep -qa 'beforeafter' || lb_fail "the text around hostile sequences is lost"
grep -qaF $'\e[1;32mgreen' "$T/play.safe" || lb_fail "colours were dropped"
lb_pass "hostile sequences neutralized by default, present with --raw, colours kept"

# --- asciicast export, played by Debian's asciinema
command -v asciinema >/dev/null || lb_fail "asciinema is not installed (apt-get install asciinema)"
"$R" export "$S" --format asciicast -o "$T/s.cast"
head -n1 "$T/s.cast" | python3 -c '
import json, sys
h = json.loads(sys.stdin.readline())
assert h["version"] == 2 and h["width"] == 100 and h["height"] == 30, h
' || lb_fail "asciicast header"
# asciinema cat needs a terminal (/dev/tty); its stdout goes to a file
LC_ALL=C.UTF-8 script -qec "asciinema cat '$T/s.cast' > '$T/cat.out'" /dev/null > /dev/null
[ "$(sha256sum < "$T/cat.out")" = "$(sha256sum < "$T/expected")" ] || \
    lb_fail "asciinema cat does not reproduce the output ($(stat -c %s "$T/cat.out") vs $(stat -c %s "$T/expected") bytes)"
lb_pass "asciinema $(asciinema --version | cut -d' ' -f2) cat reproduces the output byte for byte"

# --- bundle (no broker given: said so inside)
LOCKBOX_BROKER= "$R" export "$S" --format bundle -o "$T/b.json"
python3 - "$T/b.json" "$S" <<'PY' || lb_fail "bundle"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["session"]["session"] == sys.argv[2]
assert b["verification"]["ok"] is True
assert b["broker"]["available"] is False and "no broker" in b["broker"]["error"]
assert b["request"] is None and len(b["commands"]) == 1
assert [r["seq"] for r in b["records"]] == list(range(1, len(b["records"]) + 1))
PY
lb_pass "export --format bundle"

# --- gaps and re-sends
S2=s-rj2-$ID
"$W" --journal --session "$S2" --skip-seq 3 out:"$T/text":5 end
lb_wait_for 100 sh -c "'$R' verify '$S2' | grep -q 'gap'" || lb_fail "gap not reported"
out=$("$R" verify "$S2") && lb_fail "verify passed with a gap"
grep -q "gap: seq 3 missing" <<<"$out" || lb_fail "gap not named: $out"
S3=s-rj3-$ID
"$W" --journal --resend --session "$S3" out:"$T/text":5 end
lb_wait_for 100 "$R" verify "$S3" || lb_fail "re-sent records not deduplicated"
"$R" play --raw --max-idle 0 "$S3" | cmp -s - "$T/text" || lb_fail "re-sent records played twice"
lb_pass "a missing entry is a named gap; re-sent entries are deduplicated"

# --- follow a live session: the marker shows while the writer still runs
S4=s-rj4-$ID
printf 'first\r\n' > "$T/first"; printf 'MARKER-%s\r\n' "$ID" > "$T/marker"
"$W" --journal --session "$S4" out:"$T/first" sleep:300 out:"$T/marker" touch:"$T/sent" sleep:4000 end &
wpid=$!
lb_defer "kill $wpid"
lb_wait_for 50 "$R" play --raw "$S4" || lb_fail "first output never arrived"
"$R" play --follow --raw "$S4" > "$T/follow.out" &
fpid=$!
lb_defer "kill $fpid"
lb_wait_for 50 test -e "$T/sent" || lb_fail "writer did not send the marker"
t0=$(date +%s%N)
lb_wait_for 30 grep -q "MARKER-$ID" "$T/follow.out" || lb_fail "marker not shown within 3 s"
t1=$(date +%s%N)
lb_pid_alive "$wpid" || lb_fail "writer ended before the marker showed (test too slow to tell)"
lb_pass "play --follow showed the marker $(( (t1 - t0) / 1000000 )) ms after it was written"
wait "$wpid"
for i in $(seq 100); do lb_pid_alive "$fpid" || break; sleep 0.1; done
lb_pid_alive "$fpid" && lb_fail "play --follow did not exit at the end record"
wait "$fpid" || lb_fail "play --follow failed"
cmp -s "$T/follow.out" <(cat "$T/first" "$T/marker") || lb_fail "follow output differs"
lb_pass "play --follow exits when the end record arrives"

# --- exported journal files, as an auditor gets them
mkdir "$T/export"
mid=$(cat /etc/machine-id 2>/dev/null || true)
n=0
for f in /var/log/journal/*/system*.journal /run/log/journal/*/system*.journal; do
    [ -f "$f" ] || continue
    cp "$f" "$T/export/$(echo "$f" | tr / _)"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || lb_fail "no system journal files found"
journalctl --directory "$T/export" "LOCKBOX_SESSION=$S" -o cat | grep -q "lockbox" || lb_fail "journalctl cannot read the copy"
"$R" --directory "$T/export" verify "$S" >/dev/null || lb_fail "verify --directory"
"$R" --directory "$T/export" play --raw --max-idle 0 "$S" | cmp -s - "$T/expected" || lb_fail "play --directory not exact"
files=()
for f in "$T"/export/*.journal; do files+=(--file "$f"); done
out=$("$R" "${files[@]}" list) || lb_fail "list --file failed"
grep -q "$S" <<<"$out" || lb_fail "list --file"
"$R" "${files[@]}" play --raw --max-idle 0 "$S" | cmp -s - "$T/expected" || lb_fail "play --file not exact"
journalctl -o export "LOCKBOX_SESSION=$S" > "$T/s.export"
"$R" --file "$T/s.export" verify "$S" > /dev/null || lb_fail "verify of journal export format"
out=$("$R" --file "$T/s.export" list) || lb_fail "list of journal export format failed"
grep -q "$S" <<<"$out" || lb_fail "list of journal export format"
"$R" --file "$T/s.export" play --raw --max-idle 0 "$S" | cmp -s - "$T/expected" || lb_fail "play of export format not exact"
lb_pass "exported journal files read with --directory and --file (journal files and export format)"

# --- an auditor without root: systemd-journal group membership is enough;
# without it, the message says what is missing
lb_add_user lbxrpaud systemd-journal
lb_add_user lbxrpnone
out=$(runuser -u lbxrpaud -- "$R" verify "$S") || lb_fail "a systemd-journal member cannot verify: $out"
# (captured, not piped into grep -q: under pipefail a long list dies of SIGPIPE)
out=$(runuser -u lbxrpaud -- "$R" list) || lb_fail "a systemd-journal member cannot list: $out"
grep -q "$S" <<<"$out" || lb_fail "a systemd-journal member's list lacks $S"
rc=0; runuser -u lbxrpnone -- "$R" verify "$S" > /dev/null 2>"$T/err" || rc=$?
[ $rc = 1 ] || lb_fail "a user outside systemd-journal: exit $rc"
grep -q "are you in the systemd-journal group" "$T/err" || lb_fail "no group hint: $(cat "$T/err")"
lb_pass "a systemd-journal member reads recordings; others are told about the group"

# --- anyone can write to the journal: entries for this session from another
# user are not evidence (they would otherwise collide with seq 1..)
runuser -u lbxrpnone -- "$W" --journal --session "$S" out:"$T/text" end || lb_fail "forging writer"
lb_wait_for 100 sh -c "'$R' verify '$S' | grep -q \"^WARNING: 3 untrusted journal entries claim session $S, ignored\"" ||
    lb_fail "forged entries not reported: $("$R" verify "$S")"
"$R" verify "$S" > /dev/null || lb_fail "forged entries broke verification"
"$R" play --raw --max-idle 0 "$S" | cmp -s - "$T/expected" || lb_fail "forged entries reached play"
lb_pass "entries from other users are ignored and reported"

# --- errors
rc=0; "$R" verify "s-no-such-$ID" > /dev/null 2>"$T/err" || rc=$?
[ $rc = 1 ] || lb_fail "no such session: exit $rc"
grep -q "no such session" "$T/err" || lb_fail "no such session message"
rc=0; "$R" frobnicate > /dev/null 2>&1 || rc=$?
[ $rc = 2 ] || lb_fail "usage error: exit $rc"
rc=0; "$R" play --speed 0 "$S" > /dev/null 2>&1 || rc=$?
[ $rc = 2 ] || lb_fail "bad --speed: exit $rc"
lb_pass "exit codes: 1 no such session, 2 usage"
