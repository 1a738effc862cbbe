#!/bin/bash
# Shared setup of the lockbox-record integration tests (source after lib.sh):
# a real broker, journald, auditd with the shipped exec rule, a real sshd with
# pam_lockbox and the recorder (setuid root) as ForceCommand, an operator
# account, and helpers to open approved sessions.
#
#   lbr_setup NAME        all of the above; sets LBR_SPOOL (spool_dir), H (host)
#   lbr_key               a fresh approved request + registered key: sets R, KEY
#   lbr_session_of R      the broker's session id for request R (after login)
#   lbr_journal S [ARGS]  journalctl -o json lines of session S (LOCKBOX_SESSION=S)
#   lbr_drive STEPS ARGV  run ARGV under a PTY (record-drive.py)
#   lbr_escaper_install   ~/escape.py for lbxrvendor: `python3 ~/escape.py TAG`
#                         forks, setsid()s and leaves its parent in a loop
#   lbr_escaper_alive TAG / lbr_escaper_gone TAG   is it running / gone for good
. "$top_srcdir/tests/integration/lib-broker.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"

lbr_audit_rules() {
    local verb=$1 line
    while read -r line; do
        case "$line" in ''|'#'*) continue;; esac
        # shellcheck disable=SC2086
        auditctl ${line/#-a/$verb} >/dev/null 2>&1 || true
    done <"$top_srcdir/conf/audit/lockbox.rules"
}

lbr_setup() {
    local name=$1 enabled backlog
    lb_sshd_require
    [ -x "$top_builddir/recorder/lockbox-record-test" ] || lb_fail "lockbox-record-test not built"
    lb_tmpdir
    lb_start_journald
    lb_start_auditd
    enabled=$(auditctl -s | awk '$1=="enabled"{print $2}')
    backlog=$(auditctl -s | awk '$1=="backlog_limit"{print $2}')
    auditctl -e 1 >/dev/null
    auditctl -b 8192 >/dev/null
    lb_defer "auditctl -e ${enabled:-0} -b ${backlog:-64}"
    lbr_audit_rules -d
    auditctl -R "$top_srcdir/conf/audit/lockbox.rules" >/dev/null
    lb_defer "lbr_audit_rules -d"
    lb_add_user lbxrop lockbox-operators
    lb_add_user lbxrvendor lockbox-operators
    lb_add_user lbxrappr lockbox-approvers
    lb_start_broker "${LBR_BROKER_CONF[@]}"
    H=lbxrhost
    LBR_SPOOL=$LB_TMP/spool
    install -d -m 0755 "$LBR_SPOOL"
    export LB_SSHD_HOSTCONF_EXTRA="host_name = $H
spool_dir = $LBR_SPOOL
${LBR_HOSTCONF_EXTRA:-}"
    LB_SSHD_LOCKBOX=full lb_start_sshd "$name"
    [ "${LB_SSHD_RECORDER_STANDIN:-0}" = 0 ] || lb_fail "the recorder stand-in was installed"
    # the recorder finds its configuration beside itself (root-owned dir)
    [ "$(stat -c %a "$LB_SSHD_LIBEXEC/lockbox-record")" = 4755 ] || lb_fail "recorder not setuid"
    LBR_DRIVE=$top_srcdir/tests/integration/record-drive.py
}

lbr_key() { # [duration_s]
    R=$(lb_req_new lbxrop "$H" lbxrvendor "${1:-3600}")
    lb_req_approve lbxrappr "$R"
    KEY=$LB_TMP/key-$R
    lb_req_key lbxrop "$R" "$KEY"
}

lbr_session_of() {
    lb_broker_api GET "/v1/audit?request=$1" "" lbxrappr |
        jq -r '[.events[] | select(.type=="SessionStart") | .session] | last'
}

lbr_journal() { # session [journalctl args]
    local s=$1; shift
    journalctl --no-pager -o json --output-fields=LOCKBOX_KIND,LOCKBOX_SEQ_FIRST,LOCKBOX_SEQ_LAST,LOCKBOX_RECORDS,LOCKBOX_RESENT,LOCKBOX_ARGV,MESSAGE_ID \
        "LOCKBOX_SESSION=$s" "$@"
}

# ssh arguments for an approved key, tty forced
lbr_ssh_argv() {
    local opts
    mapfile -t opts < <(lb_ssh_opts)
    printf '%s\n' ssh -F /dev/null "${opts[@]}" -i "$KEY" -o IdentitiesOnly=yes -l lbxrvendor "$@" 127.0.0.1
}

# On a failed session: what the recorder recorded (for the failure message).
lbr_explain() {
    local s
    s=$(lbr_session_of "$R" 2>/dev/null) || true
    [ -n "$s" ] && [ -f "$LBR_SPOOL/$s.jsonl" ] && tail -c 1500 "$LBR_SPOOL/$s.jsonl"
    journalctl --no-pager -n 5 SYSLOG_IDENTIFIER=lockbox-record 2>/dev/null | tail -5
}

# A process that keeps forking, double-forking, setsid()ing and leaving its
# parent, ignoring HUP/TERM/INT/QUIT: each of its processes lives for
# microseconds, so a scan of /proc may miss it. Its heartbeat (the mtime of
# ~/escape-TAG.beat) does not.
lbr_escaper_install() {
    local home
    home=$(getent passwd lbxrvendor | cut -d: -f6)
    install -o lbxrvendor -g lbxrvendor -m 0644 "$top_srcdir/tests/integration/record-escaper.py" "$home/escape.py"
    rm -f "$home"/escape-*.beat
    # an escaper that did get away (on a broken recorder) changes pid all the
    # time: kill(-1) as its user reaches every process of the account at once
    lb_defer "runuser -u lbxrvendor -- kill -KILL -1"
}
lbr_escaper_beat() { stat -c %.Y "$(getent passwd lbxrvendor | cut -d: -f6)/escape-$1.beat" 2>/dev/null; }
lbr_escaper_alive() { # tag: the heartbeat moves within a second
    local a b
    a=$(lbr_escaper_beat "$1"); sleep 1; b=$(lbr_escaper_beat "$1")
    [ -n "$a" ] && [ "$a" != "$b" ]
}
lbr_escaper_gone() { # tag: no heartbeat for 3 s, and no process with its argv
    local a b
    a=$(lbr_escaper_beat "$1"); sleep 3; b=$(lbr_escaper_beat "$1")
    [ "$a" = "$b" ] && ! pgrep -f "escape.py $1" >/dev/null
}
