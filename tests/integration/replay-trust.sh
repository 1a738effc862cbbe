#!/bin/bash
# Forged evidence does not verify (docs/EVIDENCE.md §4, "Whose entries are
# evidence"). Anyone can write to the journal; lockbox-replay takes as
# evidence only entries whose _UID (journald's, from the kernel) is root or
# the recorder's user. A local user who is not root forges whole sessions:
#  - with the recorder's own binary, run under no_new_privs (its setuid bit
#    ignored) with LD_PRELOAD, so that journald records the recorder as _EXE;
#  - with a plain writer (replay-writer, sd_journal_sendv);
#  - claiming the name of a real, recorded session.
# list must not show a forged session, verify must not call it OK, and both
# report what untrusted entries claim.
. "$(dirname "$0")/lib.sh"
lb_require_root
[ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ] && { echo "SKIP: integration test (unit-only pass)"; exit 77; }
lb_lock
lb_tmpdir
lb_start_journald
command -v setpriv >/dev/null || lb_fail "setpriv (util-linux) is missing"
command -v cc >/dev/null || lb_fail "a C compiler is needed to build the forger"

R="$top_builddir/recorder/lockbox-replay"
W="$top_builddir/tests/integration/replay-writer"
T=$LB_TMP
ID=$$-$RANDOM
REAL=s-rt-real-$ID
FAKE=s-rt-fake-$ID
FAKE2=s-rt-fake2-$ID
FORGER=lbxforge

lb_add_user "$FORGER"
install -d -o "$FORGER" -m 0755 "$T/forger"
cp "$W" "$T/writer"
chmod 0755 "$T/writer"

# the forger's library, preloaded into the recorder's binary
cc -shared -fPIC -O1 -o "$T/forge.so" "$top_srcdir/tests/integration/replay-forge.c" -lsystemd ||
    lb_fail "cannot build the forger"
chmod 0755 "$T/forge.so"

# the recorder's binary where lockbox-replay's old rule trusted it (its
# installed path); put there for the test when it is not installed
LIBEXEC=$(sed -n 's/^lockboxlibexecdir = //p' "$top_builddir/Makefile")
LIBEXEC=${LIBEXEC//\$\{libexecdir\}/$(sed -n 's/^libexecdir = //p' "$top_builddir/Makefile")}
LIBEXEC=${LIBEXEC//\$\{exec_prefix\}/$(sed -n 's/^exec_prefix = //p' "$top_builddir/Makefile")}
LIBEXEC=${LIBEXEC//\$\{prefix\}/$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")}
REC_EXE=$LIBEXEC/lockbox-record
case "$REC_EXE" in /*) ;; *) lb_fail "cannot tell the recorder's installed path: $REC_EXE";; esac
if [ ! -e "$REC_EXE" ]; then
    [ -d "$LIBEXEC" ] || { mkdir -p "$LIBEXEC"; lb_defer "rmdir '$LIBEXEC'"; }
    install -m 4755 "$top_builddir/recorder/lockbox-record" "$REC_EXE"
    lb_defer "rm -f '$REC_EXE'"
fi

# --- a real session, written by root
"$W" --journal --session "$REAL" --request r-rt-$ID --operator alice --host web1 \
    in:'ls' cmd:<(printf '/usr/bin/ls\0') end || lb_fail "writer failed"
lb_wait_for 100 "$R" verify "$REAL" || lb_fail "the real session never verified"
lb_pass "a real session (written by root) verifies"

# --- 1. the recorder's binary, no_new_privs, LD_PRELOAD: a whole fake session
su -s /bin/sh "$FORGER" -c "'$T/writer' --spool '$T/forger/fake.jsonl' --session '$FAKE' --request r-fake-$ID \
    --operator alice --host web1 in:whoami end" || lb_fail "forger's writer failed"
set +e
su -s /bin/sh "$FORGER" -c "setpriv --no-new-privs env ASAN_OPTIONS=verify_asan_link_order=0 LBX_FORGE='$T/forger/fake.jsonl' LD_PRELOAD='$T/forge.so' '$REC_EXE'"
rc=$?
set -e
[ "$rc" = 0 ] || lb_fail "the forger did not send its entries (exit $rc)"
# journald has them, with the recorder as _EXE and the forger's uid
FUID=$(id -u "$FORGER")
lb_wait_for 100 sh -c "journalctl --no-pager -o json LOCKBOX_SESSION='$FAKE' | grep -q '\"_EXE\":\"$REC_EXE\"'" ||
    lb_fail "journald does not show the forged entries with _EXE=$REC_EXE (test is broken)"
journalctl --no-pager -o json LOCKBOX_SESSION="$FAKE" | grep -q "\"_UID\":\"$FUID\"" ||
    lb_fail "forged entries lack the forger's _UID (test is broken)"
# the same records, taken as they are, would verify: the forgery is complete
"$R" --any-writer verify "$FAKE" | grep -q "^OK: $FAKE" || lb_fail "the forged session is not complete (test is broken)"

out=$("$R" list 2>"$T/list.err") || lb_fail "list failed"
grep -q "$FAKE" <<<"$out" && lb_fail "list shows the forged session: $out"
grep -q "$REAL" <<<"$out" || lb_fail "list lost the real session: $out"
# list names the sessions that claim real ones first and sums up the rest
# past its cap (a long-lived journal holds many); verify below names it
grep -qE "untrusted journal entries claim session $FAKE, ignored|more untrusted journal entries claim [0-9]+ older sessions" "$T/list.err" ||
    lb_fail "list does not report the forged entries: $(cat "$T/list.err")"
set +e
vout=$("$R" verify "$FAKE" 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || lb_fail "verify of the forged session exits $rc: $vout"
grep -q "^OK" <<<"$vout" && lb_fail "verify calls the forged session OK: $vout"
grep -q "untrusted journal entries claim session $FAKE, ignored" <<<"$vout" ||
    lb_fail "verify does not report the untrusted entries: $vout"
lb_pass "a session forged through the recorder's binary (no_new_privs, LD_PRELOAD) is neither listed nor verified"

# --- 2. a plain writer, and a claim on the real session's name
su -s /bin/sh "$FORGER" -c "'$T/writer' --journal --session '$FAKE2' --operator mallory in:id end" ||
    lb_fail "forger's plain writer failed"
su -s /bin/sh "$FORGER" -c "'$T/writer' --journal --session '$REAL' --operator alice \
    in:'rm -rf /' end:exit" || lb_fail "forger's claim failed"
lb_wait_for 100 sh -c "journalctl --no-pager LOCKBOX_SESSION='$FAKE2' _UID=$FUID | grep -q lockbox" ||
    lb_fail "journald never showed the plain forgery"
lb_wait_for 100 sh -c "[ \$(journalctl --no-pager -o json LOCKBOX_SESSION='$REAL' _UID=$FUID | wc -l) -ge 3 ]" ||
    lb_fail "journald never showed the claim on $REAL"

out=$("$R" list 2>"$T/list.err") || lb_fail "list failed"
grep -q "$FAKE2" <<<"$out" && lb_fail "list shows the plainly forged session"
grep -q "$REAL" <<<"$out" || lb_fail "list lost the real session"
grep -q "untrusted journal entr.* claim.* session $REAL, ignored (a recorded session" "$T/list.err" ||
    lb_fail "list does not report the claim on $REAL: $(cat "$T/list.err")"
grep -qE "claim.* session $FAKE2, ignored \(not evidence\)|more untrusted journal entries claim [0-9]+ older sessions" "$T/list.err" ||
    lb_fail "list does not report $FAKE2: $(cat "$T/list.err")"

vout=$("$R" verify "$REAL") || lb_fail "the real session no longer verifies: $vout"
grep -q "^OK: $REAL: 4 records" <<<"$vout" || lb_fail "verify took forged records: $vout"
grep -q "^WARNING: 3 untrusted journal entries claim session $REAL, ignored" <<<"$vout" ||
    lb_fail "verify does not report the claim on the real session: $vout"
"$R" verify --json "$REAL" | jq -e '.ok == true and .count == 4 and .untrusted_entries == 3' >/dev/null ||
    lb_fail "verify --json: $("$R" verify --json "$REAL")"
"$R" commands "$REAL" | grep -q "rm -rf" && lb_fail "commands shows a forged input"
"$R" commands "$REAL" 2>&1 >/dev/null | grep -q "WARNING: 3 untrusted journal entries claim session $REAL" ||
    lb_fail "commands does not warn of the claim"
if "$R" verify "$FAKE2" >/dev/null 2>&1; then lb_fail "a plainly forged session verifies"; fi
lb_pass "claims on a real session and plain forgeries are reported, not taken"

# --- 3. a collected journal: another host's recorder uid is trusted only when named
"$R" --trusted-uid "$FUID" verify "$FAKE2" | grep -q "^OK: $FAKE2" ||
    lb_fail "--trusted-uid does not take that uid's entries"
lb_pass "--trusted-uid names the recorder's uid of a collected journal"
