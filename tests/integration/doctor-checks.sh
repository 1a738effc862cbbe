#!/bin/bash
# lockboxctl doctor, on a host the test builds in a temporary root (--root):
# a good setup is all OK (exit 0); then one thing at a time is broken, the
# check that guards it must say FAIL (exit 1), and the setup is restored.
# Then sshd's own view (sshd -T) of a separate config, with a real operator
# account, and the WARN-only checks (audit rule, journald) with real auditd.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
if [ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ]; then echo "SKIP: integration test"; exit 77; fi

CTL=$top_builddir/lockboxctl
[ -x "$CTL" ] || lb_fail "lockboxctl not built"
lb_tmpdir
R=$LB_TMP/root
OPS=lbx-doc-ops

getent group "$OPS" >/dev/null || { groupadd -r "$OPS"; lb_defer "groupdel '$OPS'"; }
for u in lockbox-keys lockbox-rec; do
    if ! getent passwd "$u" >/dev/null; then
        useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$u"
        lb_defer "userdel '$u'"
    fi
done

# an operator account whose login shell is the recorder the test root's
# lockbox.conf names
REC=/usr/libexec/lockbox/lockbox-record
lb_add_user lbx-doc-op "$OPS"

write_good() {
    rm -rf "$R"
    install -d -m 0755 "$R/etc/lockbox" "$R/etc/pam.d" "$R/etc/ssh/sshd_config.d" \
        "$R/usr/libexec/lockbox" "$R/etc/audit/rules.d" "$R/usr/bin" \
        "$R/usr/share/polkit-1/rules.d" "$R/var/lib/systemd/linger"
    cat >"$R/etc/lockbox/lockbox.conf" <<EOF
broker = unix:$LB_TMP/no-broker.sock
operator_group = $OPS
recorder = $REC
token_file = /etc/lockbox/host.token
EOF
    usermod -s "$REC" lbx-doc-op
    # the host token as the README says: root:lockbox-keys 0640
    echo "lbx-doctor-test-token" >"$R/etc/lockbox/host.token"
    chown root:lockbox-keys "$R/etc/lockbox/host.token"
    chmod 0640 "$R/etc/lockbox/host.token"
    # common-account as pam-auth-update writes it with the lockbox profile,
    # and Debian-like services that include it
    cat >"$R/etc/pam.d/common-account" <<'EOF'
account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so
account requisite pam_deny.so
account required pam_permit.so
account required pam_lockbox.so
EOF
    printf '%s\n' "@include common-auth" "session required pam_loginuid.so" \
        "@include common-account" "@include common-session-noninteractive" >"$R/etc/pam.d/cron"
    printf '%s\n' "@include common-auth" "@include common-account" \
        "@include common-session-noninteractive" >"$R/etc/pam.d/atd"
    printf '%s\n' "account include common-account" "session required pam_loginuid.so" \
        "session include common-session-noninteractive" >"$R/etc/pam.d/systemd-user"
    printf '%s\n' "auth sufficient pam_rootok.so" "@include common-auth" \
        "@include common-account" "@include common-session" >"$R/etc/pam.d/su"
    # a service without any account line: libpam refuses everyone there
    printf '%s\n' "@include common-password" >"$R/etc/pam.d/chpasswd"
    : >"$R/etc/pam.d/common-password"
    : >"$R/etc/pam.d/common-session-noninteractive"
    # cron and at installed, both refusing the operator
    install -m 0755 /bin/true "$R/usr/bin/crontab"
    install -m 0755 /bin/true "$R/usr/bin/at"
    printf '%s\n' daemon lbx-doc-op >"$R/etc/cron.deny"
    printf '%s\n' daemon lbx-doc-op >"$R/etc/at.deny"
    sed "s/\"lockbox-operators\"/\"$OPS\"/" "$top_srcdir/conf/polkit/10-lockbox-linger.rules" \
        >"$R/usr/share/polkit-1/rules.d/10-lockbox-linger.rules"
    cat >"$R/etc/pam.d/common-session" <<'EOF'
session [default=1] pam_permit.so
session requisite pam_deny.so
session required pam_permit.so
session required pam_unix.so
EOF
    cat >"$R/etc/pam.d/sshd" <<'EOF'
# the sshd service of a host set up for Lockbox
@include common-auth
account    required     pam_nologin.so
@include common-account
account    required     pam_lockbox.so
session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close
session    required     pam_loginuid.so
session    required     pam_lockbox.so
session    optional     pam_keyinit.so force revoke
@include common-session
EOF
    : >"$R/etc/pam.d/common-auth"
    cat >"$R/etc/ssh/sshd_config" <<'EOF'
Include /etc/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
    cp "$top_srcdir/conf/sshd_config.d/lockbox.conf" "$R/etc/ssh/sshd_config.d/lockbox.conf"
    sed -i "s/^Match Group lockbox-operators/Match Group $OPS/" "$R/etc/ssh/sshd_config.d/lockbox.conf"
    install -o root -g root -m 0755 /bin/true "$R/usr/libexec/lockbox/lockbox-keys"
    install -o root -g root -m 4755 /bin/true "$R/usr/libexec/lockbox/lockbox-record"
    # the operators' shell (the host key shell, default /bin/bash)
    install -d -m 0755 "$R/bin"
    install -o root -g root -m 0755 /bin/true "$R/bin/bash"
    echo "-a always,exit -F arch=b64 -S execve -F key=lbx-doctor-test" >"$R/etc/audit/rules.d/lockbox.rules"
}

# doctor [ARGS...]: run it on the test root; JSON in $OUT, exit status in $RC
doctor() {
    set +e
    OUT=$(LOCKBOX_JOURNAL_SOCKET=${JSOCK:-} "$CTL" doctor --json --root "$R" --config /etc/lockbox/lockbox.conf "$@")
    RC=$?
    set -e
}
# status CHECK: the status doctor gave to CHECK (several lines: "ok", "fail"...)
status() {
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(",".join(sorted({c["status"] for c in d["checks"] if c["check"] == sys.argv[2]})) or "missing")
' "$OUT" "$1"
}
detail() {
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(" | ".join(c["detail"] for c in d["checks"] if c["check"] == sys.argv[2]))
' "$OUT" "$1"
}
failing() {
    python3 -c '
import json, sys
print(" ".join(c["check"] for c in json.loads(sys.argv[1])["checks"] if c["status"] == "fail"))
' "$OUT"
}

# expect_fail CHECK WHAT: after a break, CHECK (and only CHECK) fails, exit 1
expect_fail() {
    local check=$1 what=$2
    doctor
    [ "$RC" = 1 ] || lb_fail "$what: doctor exit $RC, wanted 1: $OUT"
    [ "$(status "$check")" = fail ] || lb_fail "$what: $check is $(status "$check"), wanted fail: $OUT"
    [ "$(failing)" = "$check" ] || lb_fail "$what: other checks fail too: $(failing)"
    lb_pass "$what -> FAIL $check: $(detail "$check")"
    write_good
}

# ---- a good setup: every FAIL-class check is OK ------------------------------
write_good
JSOCK=$LB_TMP/no-journal.sock
doctor
[ "$RC" = 0 ] || lb_fail "good setup: exit $RC: $OUT"
for c in config pam-account pam-session pam-loginuid sshd-authorizedkeysfile \
         sshd-authorizedkeyscommand sshd-authorizedkeyscommanduser sshd-disableforwarding \
         sshd-permittunnel sshd-permituserrc sshd-maxsessions sshd-forcecommand \
         sshd-exposeauthinfo sshd-usepam keys-command recorder shell pid-namespaces seccomp \
         ssh-services pam-services pam-env operator-shell linger cron-deny at-deny \
         polkit-linger token doctor; do
    [ "$(status $c)" = ok ] || lb_fail "good setup: $c is $(status $c): $OUT"
done
# WARN-class checks never change the exit status: no journald at this socket,
# no broker at all
[ "$(status journald)" = warn ] || lb_fail "journald at a dead socket: $(status journald)"
[ "$(status broker)" = warn ] || lb_fail "no broker: $(status broker)"
# no socket to try the service user on: said, not passed over
[ "$(status service-user)" = warn ] || lb_fail "no broker socket: service-user is $(status service-user): $OUT"
detail service-user | grep -q "no-broker.sock: ENOENT" || lb_fail "service-user detail: $(detail service-user)"
lb_pass "good setup: every check that guards the lockbox is OK, exit 0 (journald, broker, service-user without a socket: WARN)"

# journald's Audit=: unset (its default, no) turns kernel audit off at every
# journald start -> WARN; the shipped drop-in -> OK; a later Audit=no -> WARN
[ "$(status journald-audit)" = warn ] || lb_fail "journald Audit= unset: $(status journald-audit)"
install -D -m 0644 "$top_srcdir/conf/journald.conf.d/lockbox.conf" "$R/usr/lib/systemd/journald.conf.d/lockbox.conf"
doctor
[ "$RC" = 0 ] && [ "$(status journald-audit)" = ok ] || lb_fail "with the drop-in: $(detail journald-audit)"
ok_detail=$(detail journald-audit)
install -D -m 0644 /dev/stdin "$R/etc/systemd/journald.conf.d/zz-local.conf" <<<$'[Journal]\nAudit=no'
doctor
[ "$RC" = 0 ] && [ "$(status journald-audit)" = warn ] || lb_fail "Audit=no after the drop-in: $(detail journald-audit)"
detail journald-audit | grep -q zz-local.conf || lb_fail "the file is not named: $(detail journald-audit)"
lb_pass "journald Audit=: unset -> WARN; shipped drop-in -> OK ($ok_detail); a later Audit=no -> WARN ($(detail journald-audit))"
write_good

# the table for people names every check once, aligned
set +e
table=$("$CTL" doctor --root "$R" --config /etc/lockbox/lockbox.conf)
set -e
echo "$table" | grep -qE '^OK    pam-account +pam_lockbox.so is .required.' || lb_fail "table: $table"
echo "$table" | grep -qE '^WARN  broker ' || lb_fail "table: $table"
lb_pass "table output"

# ---- the PAM stack ------------------------------------------------------------
# These break sshd's own stack; so that they are not hidden by the profile's
# line in common-account, the other services get their own line instead.
no_profile() {
    sed -i '/pam_lockbox/d' "$R/etc/pam.d/common-account"
    for f in cron atd systemd-user su; do sed -i '1i account required pam_lockbox.so' "$R/etc/pam.d/$f"; done
}
no_profile
sed -i '/^account *required *pam_lockbox.so/d' "$R/etc/pam.d/sshd"
expect_fail pam-account "pam_lockbox missing from account"
no_profile
sed -i 's/^account *required *pam_lockbox.so/account optional pam_lockbox.so/' "$R/etc/pam.d/sshd"
expect_fail pam-account "pam_lockbox optional in account"
sed -i 's/^session *required *pam_lockbox.so/session sufficient pam_lockbox.so/' "$R/etc/pam.d/sshd"
expect_fail pam-session "pam_lockbox sufficient in session"
sed -i '/^session *required *pam_lockbox.so/d' "$R/etc/pam.d/sshd"
expect_fail pam-session "pam_lockbox missing from session"
echo "ssh_services = lbx-other-sshd" >>"$R/etc/lockbox/lockbox.conf"
expect_fail ssh-services "ssh_services does not name the checked service (every managed login refused)"
sed -i 's/^account    required     pam_nologin.so/account sufficient pam_permit.so/' "$R/etc/pam.d/sshd"
expect_fail pam-account "a sufficient module before pam_lockbox"
no_profile
sed -i 's/^account    required     pam_nologin.so/account [success=4 default=ignore] pam_succeed_if.so user ingroup x/' "$R/etc/pam.d/sshd"
expect_fail pam-account "a success=N jump over pam_lockbox"
no_profile
echo "account sufficient pam_permit.so" >>"$R/etc/pam.d/common-account"
expect_fail pam-account "a sufficient module in an @include before pam_lockbox"
sed -i '/^session *required *pam_loginuid.so/d' "$R/etc/pam.d/sshd"
expect_fail pam-loginuid "pam_loginuid missing"
sed -i '/^session *required *pam_loginuid.so/d' "$R/etc/pam.d/sshd"
echo "session required pam_loginuid.so" >>"$R/etc/pam.d/sshd"
expect_fail pam-loginuid "pam_loginuid after pam_lockbox"

# a sufficient module AFTER pam_lockbox cannot skip it
echo "account sufficient pam_permit.so" >>"$R/etc/pam.d/sshd"
doctor
[ "$RC" = 0 ] && [ "$(status pam-account)" = ok ] || lb_fail "sufficient after pam_lockbox: $OUT"
lb_pass "a sufficient module after pam_lockbox is fine"
write_good

# ---- work outside the recorded login (cron, at, systemd-user, su, linger) ---------
doctor
detail pam-services | grep -q 'cron, ' || lb_fail "pam-services does not name cron: $(detail pam-services)"
if detail pam-services | grep -q 'chpasswd'; then
    lb_fail "a service without account lines was counted: $(detail pam-services)"
fi
sed -i '/pam_lockbox/d' "$R/etc/pam.d/common-account"
expect_fail pam-services "pam_lockbox missing from common-account (sshd still has its own line)"
sed -i '1i account sufficient pam_permit.so' "$R/etc/pam.d/cron"
expect_fail pam-services "a sufficient module before common-account in cron"
sed -i 's/^account required pam_lockbox.so/account optional pam_lockbox.so/' "$R/etc/pam.d/common-account"
expect_fail pam-services "pam_lockbox optional in common-account"
usermod -s /bin/bash lbx-doc-op
expect_fail operator-shell "an operator's login shell is bash"
touch "$R/var/lib/systemd/linger/lbx-doc-op"
expect_fail linger "a lingering operator account"

# WARN-class: the ssh service not in ssh_services (fails closed), pam_env
# user_readenv, cron/at allow and deny files, the polkit rule
warn_only() { # CHECK WHAT
    doctor
    [ "$RC" = 0 ] || lb_fail "$2: doctor exit $RC (a WARN must not fail): $(failing)"
    [ "$(status "$1")" = warn ] || lb_fail "$2: $1 is $(status "$1"), wanted warn: $OUT"
    lb_pass "$2 -> WARN $1: $(detail "$1")"
    write_good
}
echo "session required pam_env.so user_readenv=1 envfile=/etc/default/locale" >>"$R/etc/pam.d/sshd"
warn_only pam-env "pam_env.so user_readenv=1 in sshd's stack"
printf '%s\n' daemon >"$R/etc/cron.deny"
warn_only cron-deny "operator not in cron.deny"
printf '%s\n' root >"$R/etc/cron.allow"
doctor
[ "$(status cron-deny)" = ok ] || lb_fail "cron.allow without the operator: $(detail cron-deny)"
printf '%s\n' root lbx-doc-op >"$R/etc/cron.allow"
warn_only cron-deny "operator in cron.allow (cron.deny is then not read)"
: >"$R/etc/at.deny"
warn_only at-deny "an empty at.deny"
rm "$R/etc/at.deny"
doctor
[ "$(status at-deny)" = ok ] || lb_fail "neither at.allow nor at.deny (only root may): $(detail at-deny)"
write_good
rm "$R/usr/share/polkit-1/rules.d/10-lockbox-linger.rules"
warn_only polkit-linger "no polkit linger rule"
sed -i "s/\"$OPS\"/\"somebody-else\"/" "$R/usr/share/polkit-1/rules.d/10-lockbox-linger.rules"
warn_only polkit-linger "a polkit rule for another group"

# ---- the host token, read as the keys command's user ----------------------------
# root 0600 (what the README used to say): lockbox-keys, sshd's
# AuthorizedKeysCommandUser, cannot read it and every key lookup fails closed
chown root:root "$R/etc/lockbox/host.token"; chmod 0600 "$R/etc/lockbox/host.token"
doctor
[ "$RC" = 0 ] && [ "$(status token)" = warn ] || lb_fail "token root 0600: $(status token): $OUT"
detail token | grep -q "cannot be read by lockbox-keys" || lb_fail "token detail: $(detail token)"
lb_pass "token root:root 0600 -> WARN: $(detail token)"
write_good
chmod 0644 "$R/etc/lockbox/host.token"
expect_fail token "host token world-readable"
doctor
detail token | grep -q "is read as lockbox-keys (uid [0-9]*) and not by others" || lb_fail "token OK detail: $(detail token)"
lb_pass "token root:lockbox-keys 0640 -> OK: $(detail token)"

# ---- sshd settings for operators (from the files, as sshd reads them) ----------
S=$R/etc/ssh/sshd_config.d/lockbox.conf
brk() { sed -i "s|^\\( *\\)$1 .*|\\1$1 $2|" "$S"; grep -q "^ *$1 $2\$" "$S" || lb_fail "could not set $1 $2"; }
brk AuthorizedKeysFile .ssh/authorized_keys;    expect_fail sshd-authorizedkeysfile "AuthorizedKeysFile"
brk AuthorizedKeysCommand /bin/echo;            expect_fail sshd-authorizedkeyscommand "AuthorizedKeysCommand"
brk AuthorizedKeysCommandUser root;             expect_fail sshd-authorizedkeyscommanduser "AuthorizedKeysCommandUser root"
brk AuthorizedKeysCommandUser lbx-no-such-user; expect_fail sshd-authorizedkeyscommanduser "AuthorizedKeysCommandUser missing"
brk DisableForwarding no;                       expect_fail sshd-disableforwarding "DisableForwarding"
brk PermitTunnel yes;                           expect_fail sshd-permittunnel "PermitTunnel"
brk PermitUserRC yes;                           expect_fail sshd-permituserrc "PermitUserRC"
brk MaxSessions 10;                             expect_fail sshd-maxsessions "MaxSessions"
brk ForceCommand /bin/bash;                     expect_fail sshd-forcecommand "ForceCommand"
brk ExposeAuthInfo no;                          expect_fail sshd-exposeauthinfo "ExposeAuthInfo"
sed -i 's/^UsePAM yes/UsePAM no/' "$R/etc/ssh/sshd_config"
expect_fail sshd-usepam "UsePAM"
# a global setting before the include wins over the Match block (sshd: first value)
sed -i '1i MaxSessions 5' "$R/etc/ssh/sshd_config"
expect_fail sshd-maxsessions "MaxSessions set globally before the Match block"
# the block for another group does not cover operators
sed -i "s/^Match Group $OPS/Match Group somebody-else/" "$S"
doctor
[ "$RC" = 1 ] && [ "$(status sshd-forcecommand)" = fail ] && [ "$(status sshd-authorizedkeysfile)" = fail ] ||
    lb_fail "Match block for another group: $OUT"
lb_pass "a Match block for another group -> every sshd check FAILs"
write_good

# ---- the keys command and the recorder ---------------------------------------------
chmod 0775 "$R/usr/libexec/lockbox/lockbox-keys"
expect_fail keys-command "keys command group-writable"
chmod 0777 "$R/usr/libexec/lockbox"
doctor
[ "$RC" = 1 ] && [ "$(status keys-command)" = fail ] && [ "$(status recorder)" = fail ] ||
    lb_fail "world-writable libexec dir: $OUT"
lb_pass "world-writable directory above the keys command and recorder -> FAIL"
write_good
chown nobody "$R/usr/libexec/lockbox/lockbox-keys"
expect_fail keys-command "keys command not owned by root"
chmod 0755 "$R/usr/libexec/lockbox/lockbox-record"
expect_fail recorder "recorder not setuid"
rm "$R/usr/libexec/lockbox/lockbox-record"
expect_fail recorder "recorder missing"
echo "record_user = lbx-no-such-user" >>"$R/etc/lockbox/lockbox.conf"
expect_fail service-user "recorder service user missing"
# the recorder is every operator's login shell: each must be able to run it
# (tried as lbx-doc-op); 4750 in the operators' group is fine
chmod 4750 "$R/usr/libexec/lockbox/lockbox-record"
expect_fail recorder "recorder not executable by the operators (root:root 4750)"
detail recorder | grep -q "operator lbx-doc-op (uid [0-9]*) cannot execute it: .*EACCES" ||
    lb_fail "recorder detail: $(detail recorder)"
chgrp "$OPS" "$R/usr/libexec/lockbox/lockbox-record"
chmod 4750 "$R/usr/libexec/lockbox/lockbox-record"
doctor
[ "$RC" = 0 ] && [ "$(status recorder)" = ok ] || lb_fail "recorder root:$OPS 4750: $(detail recorder)"
lb_pass "recorder root:$OPS 4750 -> OK: $(detail recorder)"
write_good

# ---- the operators' shell (host key shell) -----------------------------------------
C=$R/etc/lockbox/lockbox.conf
echo "shell = $REC" >>"$C"
expect_fail shell "shell is the recorder"
ln "$R$REC" "$R/usr/bin/lbx-sh"
echo "shell = /usr/bin/lbx-sh" >>"$C"
expect_fail shell "shell is a hard link to the recorder"
echo "shell = /bin/lbx-no-such-shell" >>"$C"
expect_fail shell "shell missing"
echo "shell = /usr/libexec/lockbox" >>"$C"
expect_fail shell "shell is a directory"
chmod 0644 "$R/bin/bash"
expect_fail shell "shell not executable"
chmod 0750 "$R/bin/bash"
expect_fail shell "shell root:root 0750: the operator cannot run it"
detail shell | grep -q "operator lbx-doc-op (uid [0-9]*) cannot execute it" || lb_fail "shell detail: $(detail shell)"
chgrp "$OPS" "$R/bin/bash"
doctor
[ "$RC" = 0 ] && [ "$(status shell)" = ok ] || lb_fail "shell root:$OPS 0750: $(detail shell)"
lb_pass "shell root:$OPS 0750 -> OK: $(detail shell)"
write_good

# ---- PID namespaces and seccomp, as the recorder uses them ---------------------------
# Kernel state, not under --root. Under a profile such as a container's
# (doctor-deny: clone3 ENOSYS, CLONE_NEWPID EPERM; or no seccomp filters),
# the probe must say FAIL, naming the error.
DENY=$top_builddir/tests/integration/doctor-deny
[ -x "$DENY" ] || lb_fail "doctor-deny not built"
deny_doctor() { # MODE
    set +e
    OUT=$(LOCKBOX_JOURNAL_SOCKET=$JSOCK "$DENY" "$1" "$CTL" doctor --json --root "$R" --config /etc/lockbox/lockbox.conf)
    RC=$?
    set -e
}
doctor
detail pid-namespaces | grep -q "a child made a PID namespace" || lb_fail "no probe: $(detail pid-namespaces)"
deny_doctor pidns
[ "$RC" = 1 ] && [ "$(status pid-namespaces)" = fail ] && [ "$(failing)" = pid-namespaces ] ||
    lb_fail "CLONE_NEWPID refused: exit $RC, $(status pid-namespaces), failing: $(failing): $OUT"
detail pid-namespaces | grep -q "clone(CLONE_NEWPID): EPERM" || lb_fail "error not named: $(detail pid-namespaces)"
lb_pass "CLONE_NEWPID refused -> FAIL pid-namespaces: $(detail pid-namespaces)"
deny_doctor seccomp
[ "$RC" = 1 ] && [ "$(status seccomp)" = fail ] && [ "$(failing)" = seccomp ] ||
    lb_fail "no seccomp filters: exit $RC, $(status seccomp), failing: $(failing): $OUT"
detail seccomp | grep -q "loading a seccomp filter: EINVAL" || lb_fail "error not named: $(detail seccomp)"
lb_pass "seccomp filters refused -> FAIL seccomp: $(detail seccomp)"
# user.max_pid_namespaces = 0: the limit is per user namespace, so doctor
# runs in one of its own (unshare -U -r) with the limit 0 there and the
# host's left alone; other checks see unmapped owners there, so only this
# check's line counts
set +e
OUT=$(unshare -U -r sh -c 'echo 0 >/proc/sys/user/max_pid_namespaces && exec "$@"' sh \
    "$CTL" doctor --json --root "$R" --config /etc/lockbox/lockbox.conf)
set -e
[ "$(status pid-namespaces)" = fail ] || lb_fail "max_pid_namespaces 0: $(status pid-namespaces): $OUT"
detail pid-namespaces | grep -q "max_pid_namespaces is 0" || lb_fail "detail: $(detail pid-namespaces)"
lb_pass "user.max_pid_namespaces = 0 -> FAIL pid-namespaces: $(detail pid-namespaces)"

# ---- the recorder's service user and the broker's socket -------------------------------
# a broker socket of a group of the test's own, a service user of the test's
# own in it; a listener that accepts and hangs up (the broker check WARNs)
CLI=lbx-doc-clients
RU=lbx-doc-rec
getent group "$CLI" >/dev/null || { groupadd -r "$CLI"; lb_defer "groupdel '$CLI'"; }
if ! getent passwd "$RU" >/dev/null; then
    useradd -r -M -d /nonexistent -s /usr/sbin/nologin -G "$CLI" "$RU"
    lb_defer "userdel '$RU'"
fi
usermod -aG "$CLI" "$RU"
SD=$LB_TMP/run
install -d -m 0755 "$SD"
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chown(sys.argv[1], 0, int(sys.argv[2]))
os.chmod(sys.argv[1], 0o660)
s.listen(16)
open(sys.argv[3], "w").close()
while True:
    c, _ = s.accept()
    c.close()
' "$SD/broker.sock" "$(getent group "$CLI" | cut -d: -f3)" "$SD/ready" &
SOCK_PID=$!
lb_defer "kill $SOCK_PID 2>/dev/null; wait $SOCK_PID 2>/dev/null"
lb_wait_for 50 test -e "$SD/ready" || lb_fail "the socket listener did not start"
sock_conf() {
    printf '%s\n' "broker = unix:$SD/broker.sock" "record_user = $RU" "timeout_ms = 2000" >>"$C"
}
sock_conf
doctor
[ "$RC" = 0 ] && [ "$(status service-user)" = ok ] || lb_fail "service user in the socket's group: $OUT"
detail service-user | grep -q "connected as it to $SD/broker.sock (the socket's group class, group $CLI)" ||
    lb_fail "service-user detail: $(detail service-user)"
lb_pass "service user in the socket's group -> OK: $(detail service-user)"

gpasswd -d "$RU" "$CLI" >/dev/null
sock_conf
expect_fail service-user "service user not in the broker socket's group"
usermod -aG "$CLI" "$RU"
# its group may, but the directory is closed to it: only the real connect()
# as the user sees that
chmod 0700 "$SD"
sock_conf
doctor
chmod 0755 "$SD"
[ "$RC" = 1 ] && [ "$(failing)" = service-user ] || lb_fail "socket dir closed to the user: exit $RC, failing: $(failing): $OUT"
detail service-user | grep -q "as $RU (uid [0-9]*, with its groups): connect(): EACCES" ||
    lb_fail "not found by connect() as the user: $(detail service-user)"
lb_pass "socket's directory closed to the service user -> FAIL by connect() as it: $(detail service-user)"
write_good

# https: the service user reads the CA file (curl runs as it)
install -o root -g root -m 0600 /dev/null "$R/etc/lockbox/ca.pem"
printf '%s\n' "broker = https://127.0.0.1:1" "ca_file = /etc/lockbox/ca.pem" "timeout_ms = 2000" >>"$C"
expect_fail service-user "CA file unreadable by the service user"
install -o root -g root -m 0644 /dev/null "$R/etc/lockbox/ca.pem"
printf '%s\n' "broker = https://127.0.0.1:1" "ca_file = /etc/lockbox/ca.pem" "timeout_ms = 2000" >>"$C"
doctor
[ "$RC" = 0 ] && [ "$(status service-user)" = ok ] || lb_fail "CA file readable: $(detail service-user)"
lb_pass "https broker: CA file readable by the service user -> OK: $(detail service-user)"
write_good

# ---- sshd's own view: sshd -T for a real operator account ----------------------------
D=$(mktemp -d /run/lbx-doctor.XXXXXX)
lb_defer "rm -rf '$D'"
chmod 0755 "$D"
lb_add_user lbx-doc-op "$OPS"
ssh-keygen -q -t ed25519 -N '' -f "$D/hostkey" </dev/null
install -d -m 0755 "$D/libexec"
install -o root -g root -m 0755 /bin/true "$D/libexec/lockbox-keys"
install -o root -g root -m 4755 /bin/true "$D/libexec/lockbox-record"
{
    echo "HostKey $D/hostkey"
    echo "UsePAM yes"
    sed -e "s#/usr/libexec/lockbox/#$D/libexec/#" -e "s/^Match Group lockbox-operators/Match Group $OPS/" \
        "$top_srcdir/conf/sshd_config.d/lockbox.conf"
} >"$D/sshd_config"
cat >"$D/lockbox.conf" <<EOF
broker = unix:$LB_TMP/no-broker.sock
operator_group = $OPS
recorder = $D/libexec/lockbox-record
EOF
real() {
    set +e
    OUT=$("$CTL" doctor --json --config "$D/lockbox.conf" --sshd-config "$D/sshd_config" --pam-service sshd)
    RC=$?
    set -e
}
real
for c in sshd-authorizedkeysfile sshd-authorizedkeyscommand sshd-disableforwarding sshd-maxsessions \
         sshd-forcecommand sshd-exposeauthinfo keys-command recorder; do
    [ "$(status $c)" = ok ] || lb_fail "sshd -T view: $c is $(status $c): $OUT"
done
sed -i 's/^\( *\)MaxSessions 1/\1MaxSessions 3/' "$D/sshd_config"
real
[ "$RC" = 1 ] && [ "$(status sshd-maxsessions)" = fail ] || lb_fail "sshd -T: MaxSessions 3 not reported: $OUT"
detail sshd-maxsessions | grep -q "sshd -T for lbx-doc-op" || lb_fail "not read through sshd -T: $(detail sshd-maxsessions)"
lb_pass "sshd -T for a real operator: MaxSessions 3 -> FAIL ($(detail sshd-maxsessions))"
# a config sshd cannot load: doctor says so and reads the files itself
sed -i '1i NoSuchKeyword yes' "$D/sshd_config"
real
[ "$(status sshd)" = warn ] || lb_fail "sshd -T failing not reported: $OUT"
[ "$(status sshd-maxsessions)" = fail ] || lb_fail "file fallback lost MaxSessions 3: $OUT"
detail sshd-maxsessions | grep -q "$D/sshd_config for group" || lb_fail "not read from the files: $(detail sshd-maxsessions)"
lb_pass "sshd -T fails on a bad config -> WARN sshd, the files are read instead"

# ---- WARN-only checks: the audit rule (real auditd) and journald -------------------------
lb_start_auditd
lb_start_journald
if auditctl -s | grep -q '^enabled 0'; then
    auditctl -e 1 >/dev/null
    lb_defer "auditctl -e 0"
fi
write_good
JSOCK=
auditctl -D -k lbx-doctor-test >/dev/null 2>&1 || true
doctor
[ "$RC" = 0 ] && [ "$(status audit)" = warn ] || lb_fail "audit rule not loaded: $OUT $(auditctl -s)"
[ "$(status journald)" = ok ] || lb_fail "journald running: $(status journald): $OUT"
lb_pass "audit rule not loaded -> WARN, exit 0 ($(detail audit)); journald OK"
auditctl -a always,exit -F arch=b64 -S execve -F key=lbx-doctor-test >/dev/null
lb_defer "auditctl -D -k lbx-doctor-test"
doctor
[ "$RC" = 0 ] && [ "$(status audit)" = ok ] || lb_fail "audit rule loaded: $OUT $(auditctl -s; auditctl -l)"
lb_pass "audit rule loaded -> OK"
echo "all doctor checks behave"
