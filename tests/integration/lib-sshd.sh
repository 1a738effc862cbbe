#!/bin/bash
# A real sshd on 127.0.0.1 for integration tests, with the lockbox pieces from
# the BUILD tree (lockbox-keys, lockbox-record, pam_lockbox.so). Source it after
# lib.sh (and lib-broker.sh when the broker is used); everything it makes is
# undone at exit through lb_defer.
#
#   lb_sshd_require            exit 77 when the build cannot be loaded by the
#                              system's sshd (sanitizer build) or when
#                              LOCKBOX_TEST_UNIT_ONLY=1
#   lb_start_sshd NAME [LINE...]
#                              start sshd with PAM service lbx-test-sshd-NAME;
#                              LINEs are extra global sshd_config lines. Knobs
#                              (environment, read at the call):
#                                LB_SSHD_LOCKBOX=full  Match Group block (keys
#                                   command, ForceCommand recorder...) + PAM (default)
#                                LB_SSHD_LOCKBOX=pam   pam_lockbox in the PAM stack
#                                   only; keys from ~/.ssh/authorized_keys
#                                LB_SSHD_LOCKBOX=none  plain sshd, same PAM stack
#                                   without pam_lockbox (a peer for comparisons)
#                                LB_SSHD_HOSTCONF_EXTRA  extra lockbox.conf lines
#                                LB_SSHD_PAM_ENV_ARGS  arguments of pam_env.so in the
#                                   session stack (user_readenv=1, as Debian's stock
#                                   sshd stack has it)
#                                LB_SSHD_PAM_MODULE=0  leave pam_lockbox out of the
#                                   PAM stack whatever the mode (benchmark peer)
#                              Sets: LB_SSHD_PORT, LB_SSHD_PID, LB_SSHD_DIR,
#                                LB_SSHD_CONFIG, LB_SSHD_LOG (sshd's -e output),
#                                LB_SSHD_LIBEXEC (root-owned 0755 dir with copies
#                                of lockbox-keys, lockbox-record, lockboxctl),
#                                LB_SSHD_HOSTCONF (lockbox.conf used by all three;
#                                the recorder finds it beside itself; state_dir
#                                and spool_dir default to $LB_SSHD_DIR/state|spool;
#                                a second sshd of the same test shares the first's
#                                libexec and lockbox.conf), and gives every member
#                                of lockbox-operators the recorder as login shell
#                                LB_SSHD_PAM_SERVICE. Call it again for a second
#                                sshd (save the variables first).
#                              LB_SSHD_RECORDER_STANDIN=1 when recorder/lockbox-record
#                                is not built: a shell stand-in runs sessions
#                                UNRECORDED (tests needing the recorder skip)
#   lb_sshd_operator_shell USER  the recorder as USER's login shell
#   lb_ssh USER [ARGS...]      ssh to the last started sshd as USER; ARGS go after
#                              the destination (options, then a command)
#   lb_ssh_opts                the options lb_ssh uses, one per line (for -o use
#                              with lockboxctl connect -- ...)
#
# Needs: lib.sh's lb_tmpdir, lb_defer; the broker socket in LB_BROKER_SOCK for
# modes full and pam. Creates the lockbox-keys and lockbox-rec system users
# when missing (removed at exit), and /run/sshd.

LB_SSHD_BIN=${LB_SSHD_BIN:-/usr/sbin/sshd}

lb_sshd_require() {
    if [ "${LOCKBOX_TEST_UNIT_ONLY:-0}" = 1 ]; then
        echo "SKIP: integration test (LOCKBOX_TEST_UNIT_ONLY=1)"
        exit 77
    fi
    if grep -q '^#define LB_SANITIZERS 1' "$top_builddir/config.h" 2>/dev/null; then
        echo "SKIP: sanitizer build: the system's sshd cannot load an ASan-built pam_lockbox.so"
        exit 77
    fi
    [ -x "$LB_SSHD_BIN" ] || { echo "SKIP: no $LB_SSHD_BIN"; exit 77; }
}

# Create a system user if missing; remove it at exit if we made it.
lb_sshd_system_user() {
    local name=$1
    if ! getent passwd "$name" >/dev/null; then
        useradd -r -M -d /nonexistent -s /usr/sbin/nologin \
            $(getent group "${LB_SOCKET_GROUP:-lockbox-clients}" >/dev/null && echo -G "${LB_SOCKET_GROUP:-lockbox-clients}") "$name"
        lb_defer "userdel '$name'"
    fi
}

# Copy a built program (libtool puts the real one in .libs when it links
# shared libraries) into dir, root:root 0755.
lb_sshd_install_prog() {
    local src=$1 dir=$2 name
    name=$(basename "$src")
    if [ -x "$(dirname "$src")/.libs/$name" ] && [ "$(head -c2 "$src")" = "#!" ]; then
        src="$(dirname "$src")/.libs/$name"
    fi
    install -o root -g root -m 0755 "$src" "$dir/$name"
}

lb_start_sshd() {
    local name=$1; shift
    local mode=${LB_SSHD_LOCKBOX:-full} pammod=1
    local dir libexec conf hostconf pamfile link port pid module line recorder

    case "$mode" in full|pam|none) ;; *) lb_fail "LB_SSHD_LOCKBOX=$mode";; esac
    if [ "$mode" != none ] && [ -z "${LB_BROKER_SOCK:-}" ]; then
        lb_fail "lb_start_sshd $name: start the broker first (LB_BROKER_SOCK)"
    fi

    # sshd wants the keys command and every directory above it root-owned and
    # not group/world writable: /tmp (1777) will not do, /run will.
    dir=$(mktemp -d "/run/lbx-test-sshd-$name.XXXXXX")
    chmod 0755 "$dir"
    lb_defer "rm -rf '$dir'"
    libexec=$dir/libexec
    install -d -o root -g root -m 0755 "$libexec"

    lb_sshd_system_user lockbox-keys
    lb_sshd_system_user lockbox-rec
    getent group lockbox-operators >/dev/null || { groupadd -r lockbox-operators; lb_defer "groupdel lockbox-operators"; }
    install -d -m 0755 /run/sshd

    ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_ed25519_key" </dev/null

    lb_sshd_install_prog "$top_builddir/sshd-helper/lockbox-keys" "$libexec"
    # for tests that run it as an operator: the build tree may not be
    # reachable by other users (a checkout under /root)
    lb_sshd_install_prog "$top_builddir/lockboxctl" "$libexec"
    recorder=$libexec/lockbox-record
    if [ -n "${LB_SSHD_SHARED_LIBEXEC:-}" ]; then
        # a second sshd in the same test: one recorder (the managed accounts'
        # login shell) and one lockbox.conf for both
        libexec=$LB_SSHD_SHARED_LIBEXEC
        recorder=$libexec/lockbox-record
        hostconf=$libexec/lockbox.conf
        lb_sshd_install_prog "$top_builddir/sshd-helper/lockbox-keys" "$libexec"
        # its PAM service is an ssh login path too
        sed -i "s/^ssh_services = .*/&, lbx-test-sshd-$name/" "$hostconf"
    else
    # the test build of the recorder: it also takes lockbox.conf from beside
    # itself (the installed one reads /etc/lockbox/lockbox.conf only)
    if [ -x "$top_builddir/recorder/lockbox-record-test" ]; then
        lb_sshd_install_prog "$top_builddir/recorder/lockbox-record-test" "$libexec"
        mv "$libexec/lockbox-record-test" "$recorder"
        # the recorder starts privileged and drops to lockbox-rec (DESIGN §6)
        chmod 4755 "$recorder"
    else
        # Not built (yet): a stand-in that runs the session unrecorded, so the
        # access checks can run. Tests that need recording check
        # LB_SSHD_RECORDER_STANDIN and skip.
        LB_SSHD_RECORDER_STANDIN=1
        cat >"$recorder" <<'SH'
#!/bin/sh
# test stand-in for lockbox-record (not built): runs the session UNRECORDED
if [ "$1" = -c ] && [ -z "$SSH_ORIGINAL_COMMAND" ] && [ "${2%% *}" != "$0" ]; then exec /bin/sh -c "$2"; fi
if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"; fi
exec /bin/sh -i
SH
        chmod 0755 "$recorder"
    fi

    hostconf=$libexec/lockbox.conf
    install -d -o root -g root -m 0755 "$dir/spool"
    {
        echo "# lockbox.conf for test sshd $name"
        if [ -n "${LB_BROKER_SOCK:-}" ]; then echo "broker = unix:$LB_BROKER_SOCK"; fi
        echo "timeout_ms = 3000"
        echo "recorder = $recorder"
        # the PAM module writes session records here, the recorder reads them
        echo "state_dir = $dir/state"
        echo "spool_dir = $dir/spool"
        # this sshd's PAM service (below): pam_lockbox refuses managed accounts elsewhere
        echo "ssh_services = lbx-test-sshd-$name"
        printf '%s\n' "${LB_SSHD_HOSTCONF_EXTRA:-}"
    } >"$hostconf"
    chmod 0644 "$hostconf"
    LB_SSHD_SHARED_LIBEXEC=$libexec
    fi
    # managed accounts log in with the recorder as their shell (pam_lockbox
    # refuses them otherwise): every member of the operators group now
    for line in $(getent group lockbox-operators | cut -d: -f4 | tr , ' '); do
        lb_sshd_operator_shell "$line"
    done

    conf=$dir/sshd_config
    port=$(lb_free_port)
    {
        echo "Port $port"
        echo "ListenAddress 127.0.0.1"
        echo "HostKey $dir/ssh_host_ed25519_key"
        echo "PidFile $dir/sshd.pid"
        echo "UsePAM yes"
        echo "AuthorizedKeysFile .ssh/authorized_keys"
        echo "PasswordAuthentication no"
        echo "KbdInteractiveAuthentication no"
        echo "PrintMotd no"
        echo "PrintLastLog no"
        echo "LogLevel VERBOSE"
        echo "Subsystem sftp /usr/lib/openssh/sftp-server"
        for line in "$@"; do echo "$line"; done
        if [ "$mode" = full ]; then
            # the block of conf/sshd_config.d/lockbox.conf, with the test's paths
            sed -e "s#/usr/libexec/lockbox/lockbox-keys#$libexec/lockbox-keys --config $hostconf#" \
                -e "s#/usr/libexec/lockbox/lockbox-record#$recorder#" \
                -e '/^#/d' -e '/^ *#/d' -e '/^$/d' \
                "$top_srcdir/conf/sshd_config.d/lockbox.conf"
        fi
    } >"$conf"

    # The PAM service: Debian's /etc/pam.d/sshd, with pam_lockbox from the build
    # tree after pam_loginuid (the audit session id must be set first).
    module=$top_builddir/pam_lockbox/.libs/pam_lockbox.so
    [ "$mode" = none ] || [ "${LB_SSHD_PAM_MODULE:-1}" = 0 ] && pammod=0
    if [ "$pammod" = 1 ] && [ ! -f "$module" ]; then
        lb_fail "pam_lockbox.so not built ($module)"
    fi
    LB_SSHD_PAM_SERVICE=lbx-test-sshd-$name
    pamfile=/etc/pam.d/$LB_SSHD_PAM_SERVICE
    [ -e "$pamfile" ] && lb_fail "$pamfile exists already (another test running?)"
    lb_defer "rm -f '$pamfile'"
    {
        echo "# test PAM service for lb_start_sshd $name (removed at exit)"
        echo "@include common-auth"
        echo "account    required     pam_nologin.so"
        [ "$pammod" = 1 ] && echo "account    required     $module config=$hostconf"
        echo "@include common-account"
        echo "session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close"
        echo "session    required     pam_loginuid.so"
        [ "$pammod" = 1 ] && echo "session    required     $module config=$hostconf"
        echo "session    optional     pam_keyinit.so force revoke"
        echo "@include common-session"
        echo "session    required     pam_limits.so"
        echo "session    required     pam_env.so ${LB_SSHD_PAM_ENV_ARGS:-}"
        echo "session [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so open"
        echo "@include common-password"
    } >"$pamfile"

    # sshd takes its PAM service name from argv[0]
    link=$dir/$LB_SSHD_PAM_SERVICE
    ln -s "$LB_SSHD_BIN" "$link"

    "$link" -t -f "$conf" || lb_fail "sshd -t rejected $conf"
    "$link" -D -e -f "$conf" 2>>"$dir/sshd.log" &
    pid=$!
    lb_defer "lb_stop_pid $pid"
    lb_wait_for 100 lb_sshd_listening "$port" || { cat "$dir/sshd.log" >&2; lb_fail "sshd $name did not start"; }

    LB_SSHD_PORT=$port LB_SSHD_PID=$pid LB_SSHD_DIR=$dir LB_SSHD_CONFIG=$conf
    LB_SSHD_LOG=$dir/sshd.log LB_SSHD_LIBEXEC=$libexec LB_SSHD_HOSTCONF=$hostconf
    export LB_SSHD_PORT LB_SSHD_PID LB_SSHD_DIR LB_SSHD_CONFIG LB_SSHD_LOG LB_SSHD_LIBEXEC \
        LB_SSHD_HOSTCONF LB_SSHD_PAM_SERVICE
}

# Give a managed account the recorder as its login shell (what an admin does
# with `usermod -s /usr/libexec/lockbox/lockbox-record`). After lb_start_sshd.
lb_sshd_operator_shell() {
    local was
    was=$(getent passwd "$1" | cut -d: -f7)
    usermod -s "$LB_SSHD_SHARED_LIBEXEC/lockbox-record" "$1"
    # an account the test did not make gets its shell back
    lb_defer "usermod -s '${was:-/bin/bash}' '$1'"
}

lb_sshd_listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

lb_ssh_opts() {
    printf '%s\n' -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o ConnectTimeout=10 -o ServerAliveInterval=5 -p "$LB_SSHD_PORT"
}

lb_ssh() {
    local user=$1; shift
    local opts
    mapfile -t opts < <(lb_ssh_opts)
    ssh -F /dev/null "${opts[@]}" -l "$user" 127.0.0.1 "$@"
}

# ---- requests and keys at the test broker (curl over LB_BROKER_SOCK) -------
#   lb_api_as USER METHOD PATH [JSON]   prints the answer; non-zero unless 2xx
#   lb_req_new OPERATOR HOST USER [DURATION_S]   prints the new request's id
#   lb_req_approve APPROVER ID / lb_req_revoke APPROVER ID / lb_req_deny APPROVER ID
#   lb_req_key OPERATOR ID KEYFILE      makes KEYFILE(.pub) and registers it
lb_api_as() {
    local user=$1 method=$2 path=$3 json=${4:-} out code
    out=$(cd / && runuser -u "$user" -- curl -sS --max-time 10 --unix-socket "$LB_BROKER_SOCK" \
        -X "$method" -H 'Content-Type: application/json' ${json:+--data-binary "$json"} \
        -w '\n%{http_code}' "http://lockbox$path") || return 1
    code=${out##*$'\n'}
    printf '%s\n' "${out%$'\n'*}"
    [ "${code:0:1}" = 2 ]
}
lb_req_new() {
    local op=$1 host=$2 user=$3 dur=${4:-3600}
    lb_api_as "$op" POST /v1/requests \
        "{\"hosts\":[\"$host\"],\"user\":\"$user\",\"reason\":\"test\",\"ticket\":\"T-1\",\"duration_s\":$dur}" |
        jq -er .id
}
lb_req_approve() { lb_api_as "$1" POST "/v1/requests/$2/approve" '{"comment":"ok"}' >/dev/null; }
lb_req_deny() { lb_api_as "$1" POST "/v1/requests/$2/deny" '{"reason":"no"}' >/dev/null; }
lb_req_revoke() { lb_api_as "$1" POST "/v1/requests/$2/revoke" '{"reason":"enough"}' >/dev/null; }
lb_req_key() {
    local op=$1 id=$2 file=$3
    rm -f "$file" "$file.pub"
    ssh-keygen -q -t ed25519 -N '' -C "test" -f "$file" </dev/null
    lb_api_as "$op" POST "/v1/requests/$id/keys" "$(jq -cn --arg k "$(cat "$file.pub")" '{public_key:$k}')" >/dev/null
}
