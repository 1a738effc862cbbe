#!/bin/bash
# The shipped polkit rule (conf/polkit/10-lockbox-linger.rules) with a REAL
# polkitd: systemd's policy lets any user enable lingering for themselves
# (org.freedesktop.login1.set-self-linger: yes, yes, yes); with the rule, a
# member of the operator group is refused it (and set-user-linger), others
# are not affected. Without the rule the same operator is allowed, so the
# rule is what refuses.
#
# polkitd and a private dbus-daemon run in a private mount namespace where
# the rules directories are bind-mounted temp dirs: the system's polkit
# configuration and system bus are never touched.
source "$top_srcdir/tests/integration/lib.sh"
if [ "${LOCKBOX_TEST_UNIT_ONLY:-}" = 1 ]; then echo "SKIP: integration test (LOCKBOX_TEST_UNIT_ONLY=1)"; exit 77; fi
lb_require_root
POLKITD=/usr/lib/polkit-1/polkitd
for p in "$POLKITD" /usr/bin/dbus-daemon /usr/bin/dbus-send /usr/bin/pkcheck /usr/bin/unshare; do
    [ -x "$p" ] || { echo "SKIP: $p not installed"; exit 77; }
done
[ -f /usr/share/polkit-1/actions/org.freedesktop.login1.policy ] ||
    { echo "SKIP: no org.freedesktop.login1 polkit actions (systemd)"; exit 77; }
getent passwd polkitd >/dev/null || { echo "SKIP: no polkitd user"; exit 77; }
lb_tmpdir

OPS=lbxpk-ops
lb_add_user lbxpkop "$OPS"
lb_add_user lbxpkplain

mkdir -p "$LB_TMP/with" "$LB_TMP/without" "$LB_TMP/vendor"
sed "s/\"lockbox-operators\"/\"$OPS\"/" "$top_srcdir/conf/polkit/10-lockbox-linger.rules" \
    >"$LB_TMP/with/10-lockbox-linger.rules"
chown -R polkitd "$LB_TMP/with" "$LB_TMP/without" "$LB_TMP/vendor"
chmod 0700 "$LB_TMP/with" "$LB_TMP/without" "$LB_TMP/vendor"
cat >"$LB_TMP/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$LB_TMP/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF

# decide RULESDIR: prints "USER ACTION exit=N" for each row (pkcheck: 0
# authorized, 1 not authorized, 2 a challenge)
decide() {
    cat >"$LB_TMP/run.sh" <<EOF
set -u
mount --bind '$1' /etc/polkit-1/rules.d
mount --bind '$LB_TMP/vendor' /usr/share/polkit-1/rules.d
rm -f '$LB_TMP/bus'
dbus-daemon --config-file='$LB_TMP/bus.conf' --nofork 2>/dev/null & bus=\$!
export DBUS_SYSTEM_BUS_ADDRESS=unix:path='$LB_TMP/bus'
for i in \$(seq 100); do [ -S '$LB_TMP/bus' ] && break; sleep 0.05; done
'$POLKITD' --no-debug >/dev/null 2>&1 & pk=\$!
for i in \$(seq 200); do
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.PolicyKit1 2>/dev/null |
        grep -q 'boolean true' && break
    sleep 0.05
done
for row in "lbxpkop set-self-linger" "lbxpkop set-user-linger" "lbxpkplain set-self-linger"; do
    set -- \$row
    runuser -u "\$1" -- env DBUS_SYSTEM_BUS_ADDRESS="\$DBUS_SYSTEM_BUS_ADDRESS" sh -c \
        'pkcheck --action-id "org.freedesktop.login1.\$1" --process \$\$ >/dev/null 2>&1; rc=\$?; echo "\$(id -un) \$1 exit=\$rc"' sh "\$2"
done
kill \$pk \$bus
wait
EOF
    OUT=$(timeout 60 unshare -m bash "$LB_TMP/run.sh") || lb_fail "polkitd run failed: $OUT"
    echo "$OUT" | sed 's/^/    | /'
}
row() { grep -q "^$1 $2 exit=$3\$" <<<"$OUT" || lb_fail "$1 $2: wanted exit=$3: $OUT"; }

echo "# without the rule: systemd's default lets anyone linger"
decide "$LB_TMP/without"
row lbxpkop set-self-linger 0
row lbxpkplain set-self-linger 0
lb_pass "without the rule an operator may enable lingering"

echo "# with the rule"
decide "$LB_TMP/with"
row lbxpkop set-self-linger 1
row lbxpkop set-user-linger 1
row lbxpkplain set-self-linger 0
lb_pass "with the rule the operator group is refused set-self-linger and set-user-linger; others are not affected"
