#!/bin/bash
# make install into a staging directory (DESTDIR) places every part where the
# configured directories say, as an unprivileged user (as root the test drops
# to nobody), never touching the system; an admin's lockbox.conf survives a
# reinstall and an uninstall; make uninstall leaves no file behind.
. "$top_srcdir/tests/integration/lib.sh"

B=$top_builddir
lb_tmpdir
D=$LB_TMP/stage
mkdir -p "$D"

# As root, install as nobody when nobody can read the build tree (a checkout
# under a 0700 home cannot be): a staging install needs no privileges.
RUNAS=()
WHO=$(id -un)
if [ "$(id -u)" = 0 ] &&
   setpriv --reuid=65534 --regid=65534 --clear-groups -- test -r "$B/Makefile" -a -r "$top_srcdir/conf/sysusers.d/lockbox.conf"; then
    RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    WHO=nobody
    chown 65534:65534 "$D"
fi
# `make` of the build tree, without the jobserver of the make running us
mk() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${RUNAS[@]}" make -s -C "$B" "$@" DESTDIR="$D"
}

# the configured directories, as make expands them
dirs=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$B" -f Makefile -f - lb-print-dirs <<'EOF'
lb-print-dirs:
	@echo "bindir=$(bindir) sbindir=$(sbindir) libexecdir=$(lockboxlibexecdir) pammoddir=$(pammoddir)"
	@echo "confdir=$(lockboxconfdir) unitdir=$(systemdsystemunitdir) sysusersdir=$(sysusersdir)"
	@echo "tmpfilesdir=$(tmpfilesdir) catalogdir=$(catalogdir) auditrulesdir=$(auditrulesdir)"
	@echo "pamconfigsdir=$(pamconfigsdir) examplesdir=$(lbexamplesdir) mandir=$(mandir)"
	@echo "pamddir=$(sysconfdir)/pam.d"
EOF
)
eval "$dirs"
[ -n "$bindir" ] && [ -n "$catalogdir" ] || lb_fail "cannot read the configured directories: $dirs"

if ! out=$(mk install 2>&1); then
    # nobody cannot rebuild a tree whose sources changed after the build
    # (only in a shared work tree, never in CI): then stage as root
    if [ "$WHO" = nobody ] && grep -qE '^ *(CC|CCLD) ' <<<"$out" && grep -q 'Permission denied' <<<"$out"; then
        echo "note: the build tree is out of date; staging as root"
        RUNAS=() WHO=root
        out=$(mk install 2>&1) || { echo "$out"; lb_fail "make install DESTDIR failed"; }
    else
        echo "$out"; lb_fail "make install DESTDIR failed"
    fi
fi
lb_pass "make install DESTDIR=... as $WHO"

# every part that is in the source tree is where it belongs
want=("$bindir/lockboxctl" "$libexecdir/lockbox-keys" "$sysusersdir/lockbox.conf"
      "$tmpfilesdir/lockbox.conf" "$mandir/man8/lockbox-keys.8" "$mandir/man1/lockboxctl.1")
[ -f "$B/broker/lockboxd" ] && want+=("$sbindir/lockboxd")
[ -f "$B/recorder/lockbox-record" ] && want+=("$libexecdir/lockbox-record")
[ -f "$B/recorder/lockbox-replay" ] && want+=("$bindir/lockbox-replay")
[ -f "$B/pam_lockbox/pam_lockbox.la" ] && want+=("$pammoddir/pam_lockbox.so")
[ -f "$top_srcdir/conf/lockbox.conf" ] && want+=("$confdir/lockbox.conf" "$examplesdir/lockbox.conf")
[ -f "$top_srcdir/conf/lockboxd.conf" ] && want+=("$confdir/lockboxd.conf")
[ -f "$top_srcdir/conf/sshd_config.d/lockbox.conf" ] && want+=("$examplesdir/sshd_config.d/lockbox.conf")
[ -f "$top_srcdir/conf/pam.d/lockbox-sshd" ] && want+=("$pamddir/lockbox-sshd")
[ -f "$top_srcdir/conf/pam-configs/lockbox" ] && want+=("$pamconfigsdir/lockbox")
[ -f "$top_srcdir/conf/audit/lockbox.rules" ] && want+=("$auditrulesdir/lockbox.rules")
[ -f "$top_srcdir/conf/systemd/lockboxd.service" ] && want+=("$unitdir/lockboxd.service" "$unitdir/lockboxd.socket")
for f in "$top_srcdir"/conf/catalog/*.catalog; do
    [ -f "$f" ] && want+=("$catalogdir/$(basename "$f")")
done
for f in "${want[@]}"; do
    [ -f "$D$f" ] || lb_fail "not installed: $f (installed: $(cd "$D" && find . -type f | sort | tr '\n' ' '))"
done
lb_pass "installed ${#want[@]} expected files: ${want[*]}"

# a staging install says what it skipped and leaves the recorder unprivileged
echo "$out" | grep -q "staging install" || lb_fail "no note about the skipped system changes: $out"
if [ -f "$D$libexecdir/lockbox-record" ]; then
    [ -u "$D$libexecdir/lockbox-record" ] && lb_fail "staging recorder is setuid"
    echo "$out" | grep -q "chmod 4755" || lb_fail "no note about the recorder's privileges: $out"
fi
lb_pass "staging install notes what the target must do"

# an admin's configuration survives a reinstall and an uninstall
if [ -f "$D$confdir/lockbox.conf" ]; then
    echo "# changed by the admin" >>"$D$confdir/lockbox.conf"
    mk install >/dev/null 2>&1 || lb_fail "second make install failed"
    grep -q "changed by the admin" "$D$confdir/lockbox.conf" || lb_fail "reinstall overwrote lockbox.conf"
    lb_pass "reinstall keeps the admin's lockbox.conf"
fi

out=$(mk uninstall 2>&1) || { echo "$out"; lb_fail "make uninstall DESTDIR failed"; }
left=$(cd "$D" && find . \( -type f -o -type l \) | sort)
if [ -f "$top_srcdir/conf/lockbox.conf" ]; then
    [ "$left" = ".$confdir/lockbox.conf" ] || lb_fail "after uninstall, wanted only the admin's lockbox.conf, found: $left"
    rm "$D$confdir/lockbox.conf"
    left=$(cd "$D" && find . \( -type f -o -type l \) | sort)
fi
[ -z "$left" ] || lb_fail "make uninstall left: $left"
lb_pass "make uninstall removes every file it installed (an admin-changed lockbox.conf is kept)"
