#!/bin/bash
# Lockbox for Linux, end to end on this machine, with the real tools:
#
#   ./scripts/demo.sh [--keep]   (as root)
#
# On a fresh Debian 12, as root: installs the packages it needs
# (scripts/setup.sh), builds (build-demo/), runs `make install`, then starts
# a broker (SQLite, unix socket) and a separate sshd on 127.0.0.1 set up the
# way docs/README tell an admin to, and walks through the main job: a vendor
# operator is refused, asks for access, a customer approver approves, the
# operator opens a recorded session, the approver revokes access while the
# session is open and the session is cut off, and an auditor reads and
# verifies the evidence. Ends with `lockboxctl doctor` on that sshd.
#
# It never touches the system's sshd or /etc/pam.d/sshd. At the end it stops
# everything it started (broker, its sshd, journald/auditd if it started
# them), unloads the audit rules it loaded and removes the demo users and its
# PAM service. The installed files, the service users and the evidence (the
# journal, /var/lib/lockbox/spool) stay: `make -C build-demo uninstall`
# removes the files. --keep leaves the broker and sshd running to explore
# (it prints how to stop them). Runs again and again, exit 0 each time.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
KEEP=0
for a in "$@"; do
    case "$a" in
        --keep) KEEP=1;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
        *) echo "demo.sh: unknown argument $a (try --help)" >&2; exit 2;;
    esac
done
if [ "$(id -u)" != 0 ]; then
    echo "demo.sh: run as root: ./scripts/demo.sh" >&2
    exit 1
fi

# ---- presentation --------------------------------------------------------------
if [ -t 1 ]; then B=$'\e[1m' D=$'\e[2m' N=$'\e[0m'; else B= D= N=; fi
STEP=0
heading() { STEP=$((STEP + 1)); printf '\n%s== %d. %s ==%s\n' "$B" "$STEP" "$*" "$N"; }
say() { printf '%s\n' "$*" | fold -s -w 100; }
# quote words as a person would type them
quote() {
    local w out=
    for w in "$@"; do
        if [[ $w =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+="$w "; else out+="'${w//\'/\'\\\'\'}' "; fi
    done
    printf '%s' "${out% }"
}
# show AS CMD...: print the command as the person would type it, then run it
show() {
    local who=$1; shift
    local prompt='#'
    [ "$who" = root ] || prompt='$'
    printf '%s%s%s %s\n' "$D" "$who$prompt" "$N" "$(quote "$@")"
    if [ "$who" = root ]; then "$@"; else runuser -u "$who" -- "$@"; fi
}
# show_may_fail: the same for a command expected to be refused (prints its status)
show_may_fail() {
    local rc=0
    show "$@" || rc=$?
    printf '%s(exit status %d)%s\n' "$D" "$rc" "$N"
    return 0
}
die() { echo "demo.sh: $*" >&2; exit 1; }

# ---- cleanup: only what this run started or made ---------------------------------
CLEANUP=()
defer() { CLEANUP+=("$*"); }
cleanup() {
    local rc=$? i
    if [ "$KEEP" = 1 ] && [ $rc = 0 ]; then
        heading "Left running (--keep)"
        say "Broker pid $BROKER_PID (socket $SOCK), sshd pid $SSHD_PID on 127.0.0.1:$PORT."
        say "Try: runuser -u lbx-vendor -- lockboxctl list; lockbox-replay list"
        say "Stop and clean up: run $DEMO_DIR/stop.sh"
        printf '#!/bin/bash\n# stops what demo.sh --keep left running\n' >"$DEMO_DIR/stop.sh"
        for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
            printf '{ %s; } >/dev/null 2>&1 || true\n' "${CLEANUP[$i]}" >>"$DEMO_DIR/stop.sh"
        done
        sed -i '3i stop_pid() { kill -TERM "$1" 2>/dev/null || return 0; for i in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; }' "$DEMO_DIR/stop.sh"
        chmod 0700 "$DEMO_DIR/stop.sh"
        return
    fi
    for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${CLEANUP[$i]}" >/dev/null 2>&1 || true
    done
    if [ $rc != 0 ]; then echo "demo.sh: FAILED (exit $rc)" >&2; fi
}
trap cleanup EXIT
stop_pid() {
    kill -TERM "$1" 2>/dev/null || return 0
    local i
    for i in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}
wait_for() { # tenths CMD...
    local n=$1 i; shift
    for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}

# ---- 1. packages, build, install ------------------------------------------------
heading "Packages (scripts/setup.sh: only what is missing)"
bash "$src/scripts/setup.sh"

heading "Build (autotools, out of tree in build-demo/)"
cd "$src"
regen=0
[ -x configure ] && [ -f Makefile.in ] && [ -f build-aux/install-sh ] || regen=1
for f in configure.ac Makefile.am */local.mk; do
    [ "$f" -nt configure ] || [ "$f" -nt Makefile.in ] && regen=1
done
if [ $regen = 1 ]; then
    echo "# autoreconf -fi"
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p build-demo
cd build-demo
if [ ! -f config.status ]; then
    echo "# ../configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run"
    ../configure -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run
fi
echo "# make -j$(nproc)"
make -s -j"$(nproc)" >make.log 2>&1 || { tail -40 make.log; die "build failed (build-demo/make.log)"; }

heading "Install (make install: binaries, PAM module, config, units, catalogs, service users)"
echo "# make install"
make -s install >install.log 2>&1 || { tail -40 install.log; die "make install failed (build-demo/install.log)"; }
grep -E '^  [A-Z]+ ' install.log || true
for f in /usr/bin/lockboxctl /usr/sbin/lockboxd /usr/bin/lockbox-replay \
         /usr/libexec/lockbox/lockbox-keys /usr/libexec/lockbox/lockbox-record \
         /etc/lockbox/lockbox.conf /etc/pam.d/lockbox-sshd; do
    [ -e "$f" ] || die "make install did not install $f"
done
ls -l /usr/libexec/lockbox/
EXAMPLES=/usr/share/doc/lockbox/examples

# ---- 2. the host's services -------------------------------------------------------
heading "journald and auditd (started only if not running; the audit exec rule loaded)"
DEMO_DIR=$(mktemp -d /run/lockbox-demo.XXXXXX)
chmod 0755 "$DEMO_DIR"
defer "rm -rf '$DEMO_DIR'"
journal_up() {
    python3 -c 'import socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.connect("/run/systemd/journal/socket")' 2>/dev/null
}
if journal_up; then
    echo "journald: running"
else
    mkdir -p /run/systemd/journal /var/log/journal
    /lib/systemd/systemd-journald >/dev/null 2>&1 &
    JPID=$!
    defer "stop_pid $JPID"
    wait_for 100 journal_up || die "journald did not start"
    echo "journald: started (pid $JPID)"
fi
# auditors read the journal as members of systemd-journal: the journal's
# directories get the group and ACLs a booted system gives them
systemd-tmpfiles --create --prefix=/run/log/journal --prefix=/var/log/journal \
    /usr/lib/tmpfiles.d/systemd.conf >/dev/null 2>&1 || true
if auditctl -s 2>/dev/null | grep -q '^pid [1-9]'; then
    echo "auditd: running"
else
    mkdir -p /var/log/audit
    auditd -n >/dev/null 2>&1 &
    APID=$!
    defer "stop_pid $APID"
    wait_for 100 sh -c 'auditctl -s | grep -q "^pid [1-9]"' || die "auditd did not start"
    echo "auditd: started (pid $APID)"
fi
if auditctl -s | grep -q '^enabled 0'; then
    auditctl -e 1 >/dev/null
    defer "auditctl -e 0"
fi
RULES=/etc/audit/rules.d/lockbox.rules
if ! auditctl -l | grep -q 'key=lockbox-exec'; then
    echo "# auditctl -R $RULES"
    auditctl -R "$RULES" >/dev/null
    defer "auditctl -D -k lockbox-exec"
fi
auditctl -l | grep lockbox

# ---- 3. the broker ---------------------------------------------------------------
heading "The broker: lockboxd with SQLite on the unix socket"
SOCK=/run/lockbox/lockboxd.sock
if [ -S "$SOCK" ] && curl -s --max-time 2 --unix-socket "$SOCK" http://lockbox/v1/health >/dev/null 2>&1; then
    die "a broker already answers on $SOCK (a demo left with --keep? run its stop.sh)"
fi
install -d -m 0755 /run/lockbox
cat >"$DEMO_DIR/lockboxd.conf" <<EOF
# the demo's broker: a fresh store each run
database = $DEMO_DIR/lockboxd.db
socket = $SOCK
EOF
cat "$DEMO_DIR/lockboxd.conf"
/usr/sbin/lockboxd --foreground --config "$DEMO_DIR/lockboxd.conf" >>"$DEMO_DIR/lockboxd.log" 2>&1 &
BROKER_PID=$!
defer "stop_pid $BROKER_PID"
defer "rm -f '$SOCK'"
wait_for 150 lockboxctl health || { cat "$DEMO_DIR/lockboxd.log"; die "lockboxd did not answer"; }
show root lockboxctl health

# ---- 4. people ---------------------------------------------------------------------
heading "People: an operator (vendor), an approver and an auditor (customer)"
add_user() { # name group...
    local name=$1; shift
    if getent passwd "$name" >/dev/null; then   # left by an interrupted run
        userdel -r -f "$name" >/dev/null 2>&1 || true
    fi
    useradd -m -s /bin/bash -G "$(IFS=,; echo "$*,lockbox-clients")" "$name"  # + the broker socket's group
    usermod -p '*' "$name"   # no password; sshd still lets keys in
    defer "userdel -r '$name' || userdel -r -f '$name'"
    echo "$name: $(id "$name")"
}
add_user lbx-vendor lockbox-operators
# an operator's login shell is the recorder (README, operator accounts)
usermod -s /usr/libexec/lockbox/lockbox-record lbx-vendor
add_user lbx-approver lockbox-approvers
add_user lbx-auditor lockbox-auditors systemd-journal
HOST=$(hostname)
say "This host is '$HOST' to the broker (host_name in /etc/lockbox/lockbox.conf, default: hostname)."

# ---- 5. sshd, set up as the README tells an admin ----------------------------------
heading "A separate sshd on 127.0.0.1 with the lockbox PAM stack and sshd snippet"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SERVICE=lbx-demo-sshd
PAMFILE=/etc/pam.d/$SERVICE
# README step 2: the profile puts pam_lockbox in common-account and
# common-session(-noninteractive), so every PAM service but the ssh login
# (ssh_services: this sshd's service name) refuses the operator.
command -v pam-auth-update >/dev/null || die "pam-auth-update not found (Debian's libpam-runtime)"
echo "# pam-auth-update --enable lockbox"
defer "DEBIAN_FRONTEND=noninteractive pam-auth-update --disable lockbox"
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable lockbox || die "pam-auth-update failed"
grep -H pam_lockbox /etc/pam.d/common-account /etc/pam.d/common-session
echo "# echo 'ssh_services = $SERVICE' >>/etc/lockbox/lockbox.conf"
defer "sed -i '/^ssh_services = $SERVICE\$/d' /etc/lockbox/lockbox.conf"
echo "ssh_services = $SERVICE" >>/etc/lockbox/lockbox.conf
# Debian's sshd stack (its common-account and common-session now carry
# pam_lockbox), without pam_env's user_readenv=1, which doctor warns about
if [ -f /etc/pam.d/sshd ] && grep -q '^session.*pam_loginuid.so' /etc/pam.d/sshd; then
    sed 's/ user_readenv=1//' /etc/pam.d/sshd >"$DEMO_DIR/pam"
else
    printf '%s\n' '@include common-auth' '@include common-account' \
        'session required pam_loginuid.so' '@include common-session' \
        '@include common-password' >"$DEMO_DIR/pam"
fi
install -m 0644 "$DEMO_DIR/pam" "$PAMFILE"
defer "rm -f '$PAMFILE'"
echo "# $PAMFILE (Debian's sshd stack):"
grep -nE 'pam_loginuid|common-account|common-session' "$PAMFILE"
ssh-keygen -q -t ed25519 -N '' -f "$DEMO_DIR/ssh_host_ed25519_key" </dev/null
cat >"$DEMO_DIR/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DEMO_DIR/ssh_host_ed25519_key
PidFile $DEMO_DIR/sshd.pid
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
Subsystem sftp /usr/lib/openssh/sftp-server
# the shipped snippet, as an admin would put it in /etc/ssh/sshd_config.d/
Include $EXAMPLES/sshd_config.d/lockbox.conf
EOF
echo "# $DEMO_DIR/sshd_config:"
cat "$DEMO_DIR/sshd_config"
install -d -m 0755 /run/sshd
ln -s /usr/sbin/sshd "$DEMO_DIR/$SERVICE"   # sshd's PAM service is its argv[0]
"$DEMO_DIR/$SERVICE" -t -f "$DEMO_DIR/sshd_config" || die "sshd -t rejected the config"
"$DEMO_DIR/$SERVICE" -D -e -f "$DEMO_DIR/sshd_config" 2>>"$DEMO_DIR/sshd.log" &
SSHD_PID=$!
defer "stop_pid $SSHD_PID"
wait_for 100 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" || { cat "$DEMO_DIR/sshd.log"; die "sshd did not start"; }
echo "sshd (PAM service $SERVICE) listens on 127.0.0.1:$PORT, pid $SSHD_PID"
SSH_OPTS=(-p "$PORT" -o HostName=127.0.0.1 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
          -o LogLevel=ERROR -o ConnectTimeout=10)

# ---- 6. the main job -----------------------------------------------------------------
heading "The operator is refused: no approved request"
say "lbx-vendor plants their own key in ~/.ssh/authorized_keys and tries plain ssh. sshd asks lockbox-keys, which asks the broker: no approved request, no key. Planted keys are never read (AuthorizedKeysFile none)."
runuser -u lbx-vendor -- sh -c 'mkdir -p ~/.ssh && ssh-keygen -q -t ed25519 -N "" -f ~/.ssh/id_ed25519 </dev/null && cp ~/.ssh/id_ed25519.pub ~/.ssh/authorized_keys'
T0=$(date '+%Y-%m-%d %H:%M:%S')
show_may_fail lbx-vendor ssh -o BatchMode=yes "${SSH_OPTS[@]}" lbx-vendor@"$HOST" true
say "Why, in this host's journal:"
journalctl --no-pager -q -o cat --since "$T0" MESSAGE_ID=c1e769e15c1d42e3a6615cf81cec629d \
    MESSAGE_ID=7eb68c8c9be04c2da634008814121fe5 | tail -n 3

heading "The operator asks for access (lockboxctl request)"
show lbx-vendor lockboxctl request --host "$HOST" --user lbx-vendor \
    --reason "disk full on /var, clean up old logs" --ticket INC-1042 --duration 1h
REQ=$(runuser -u lbx-vendor -- lockboxctl --json list --state pending |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"][0]["id"])')
say "Request $REQ is pending. Connecting now is refused:"
show_may_fail lbx-vendor lockboxctl connect "$REQ" -- "${SSH_OPTS[@]}"

heading "The customer's approver approves (lockboxctl approve)"
show lbx-approver lockboxctl pending
show lbx-approver lockboxctl approve "$REQ" --comment "ok for INC-1042, one hour"
show lbx-approver lockboxctl show "$REQ"

heading "The operator connects: a one-session key, a recorded session"
say "lockboxctl connect makes a key pair, registers the public key with the request, runs ssh with it and destroys it. sshd's ForceCommand runs lockbox-record, which records every byte and every command. Here a script types into the session; after a few commands the approver revokes access while the session is still open."
cat >"$DEMO_DIR/drive.py" <<'PY'
# Types into an interactive program through a PTY and shows what it prints.
# drive.py MARKER_FILE -- ARGV...: runs the steps, touches MARKER_FILE, then
# waits (up to 60 s) for the session to end; exit 0 if it ended by itself.
import fcntl, os, pty, re, select, struct, sys, termios, time
marker = sys.argv[1]
argv = sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
seen = b""
ansi = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
def pump(timeout):
    global seen
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    seen += data
    out = ansi.sub(b"", data).decode("utf-8", "replace")
    sys.stdout.write("".join(c if c.isprintable() or c == "\n" else "?" for c in out))
    sys.stdout.flush()
    return True
def expect(regex, timeout=20):
    end = time.time() + timeout
    pat = re.compile(regex.encode())
    start = len(seen)
    while time.time() < end:
        if pat.search(seen[start:]):
            return
        if not pump(0.2):
            break
    sys.stdout.write("\n[drive.py: did not see %r]\n" % regex)
    os.kill(pid, 15)
    sys.exit(3)
def send(line):
    os.write(fd, line.encode() + b"\n")
expect(r"\$ $", 30)
send("PS1='vendor@host:\\w\\$ '")
expect(r"vendor@host:.*\$ $")
for cmd in ["id -un", "df -h /var | tail -n 1", "ls /var/log | head -n 3",
            "echo 'cleanup done' > /tmp/lbx-demo-note && cat /tmp/lbx-demo-note"]:
    send(cmd)
    expect(r"vendor@host:.*\$ $")
open(marker, "w").close()
# keep the session busy-looking but idle until it is cut off
send("echo 'working...'; sleep 300")
end = time.time() + 60
while time.time() < end and pump(0.5):
    pass
try:
    _, status = os.waitpid(pid, 0)
except ChildProcessError:
    status = 0
if time.time() >= end:
    sys.stdout.write("\n[drive.py: the session was not cut off]\n")
    os.kill(pid, 9)
    sys.exit(4)
sys.stdout.write("\n[session ended, ssh exit status %d]\n" % (os.waitstatus_to_exitcode(status)))
sys.exit(0)
PY
install -d -o lbx-vendor -m 0700 "$DEMO_DIR/vendor"
defer "rm -f /tmp/lbx-demo-note"
MARK=$DEMO_DIR/vendor/ready
printf '%slbx-vendor$%s lockboxctl connect %s -- -tt %s\n' "$D" "$N" "$REQ" "${SSH_OPTS[*]}"
runuser -u lbx-vendor -- python3 "$DEMO_DIR/drive.py" "$MARK" -- \
    lockboxctl connect "$REQ" -- -tt "${SSH_OPTS[@]}" &
DRIVE_PID=$!
defer "stop_pid $DRIVE_PID"
wait_for 600 test -e "$MARK" || { wait "$DRIVE_PID" || true; tail -n 30 "$DEMO_DIR/sshd.log"; die "the session did not start"; }
sleep 1

heading "The approver revokes access while the session is open"
T_REVOKE=$(date +%s)
show lbx-approver lockboxctl revoke "$REQ" --reason "work done, closing access"
say "(the recorder checks with the broker at least every 10 s and ends the session)"
rc=0
wait "$DRIVE_PID" || rc=$?
[ $rc = 0 ] || die "the session was not cut off after the revocation (drive.py exit $rc)"
echo "cut off $(( $(date +%s) - T_REVOKE )) s after the revocation"
show lbx-approver lockboxctl show "$REQ"
say "The operator's key is gone, and a new login is refused:"
show_may_fail lbx-vendor lockboxctl connect "$REQ" -- "${SSH_OPTS[@]}"

heading "The auditor reads the evidence (lockbox-replay, from the journal)"
SES=$(runuser -u lbx-auditor -- lockbox-replay --json list --request "$REQ" |
      python3 -c '
import json, sys
rows = json.load(sys.stdin)
print(rows[-1]["session"] if rows else "")')
[ -n "$SES" ] || die "no recorded session for $REQ in the journal"
show lbx-auditor lockbox-replay list --request "$REQ"
show lbx-auditor lockbox-replay commands "$SES"
say "The terminal as the operator saw it (escape sequences that could act on the auditor's terminal are neutralized):"
show lbx-auditor lockbox-replay play "$SES" --speed 20 --max-idle 0.5
echo
show lbx-auditor lockbox-replay verify "$SES"
say "The broker's own audit trail of the request, hash-chained:"
show lbx-auditor lockboxctl audit --request "$REQ"
show lbx-auditor lockboxctl audit --verify

heading "lockboxctl doctor on this sshd's setup"
show root lockboxctl doctor --sshd-config "$DEMO_DIR/sshd_config" --pam-service "$SERVICE"

heading "Done"
say "Shown: a refusal, a request, an approval, a recorded session cut off by a revocation, and the evidence verified. The installed files stay (make -C build-demo uninstall removes them); the evidence stays in the journal and in /var/lib/lockbox/spool."
