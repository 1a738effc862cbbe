#!/bin/bash
# Broker helpers for integration tests: a real lockboxd on a unix socket in a
# temp dir, and curl calls to it. Source lib.sh first, then this file.
#
#   lb_start_broker [conf lines...]   start lockboxd (stopped at exit); exports
#                                     LB_BROKER_SOCK LB_BROKER_PID LB_BROKER_DB
#                                     LB_BROKER_CONF LB_BROKER_DIR LB_BROKER_LOG
#   lb_restart_broker                 start it again with the same config/db
#   lb_broker_api METHOD PATH [JSON] [USER]
#                                     print the answer body; non-zero unless 2xx
#   lb_broker_status METHOD PATH [JSON] [USER]
#                                     print only the HTTP status code
#   lb_broker_json FIELD              read one field of a JSON object on stdin
#                                     (python3 expression on `j`, e.g. "j['id']")
#   lb_broker_clients_group           make sure the socket's group
#                                     ($LB_SOCKET_GROUP, lockbox-clients) exists
#                                     with the service users lockbox-keys and
#                                     lockbox-rec in it (undone at exit);
#                                     lb_start_broker calls it. lb_add_user puts
#                                     every test user in it.

LB_SOCKET_GROUP=${LB_SOCKET_GROUP:-lockbox-clients}

lb_broker_clients_group() {
    local u
    if ! getent group "$LB_SOCKET_GROUP" >/dev/null; then
        groupadd -r "$LB_SOCKET_GROUP"
        lb_defer "groupdel '$LB_SOCKET_GROUP'"
    fi
    for u in lockbox-keys lockbox-rec; do
        getent passwd "$u" >/dev/null || continue
        id -nG "$u" | tr ' ' '\n' | grep -qx "$LB_SOCKET_GROUP" && continue
        gpasswd -a "$u" "$LB_SOCKET_GROUP" >/dev/null
        lb_defer "gpasswd -d '$u' '$LB_SOCKET_GROUP' >/dev/null 2>&1 || true"
    done
}

lb_broker_launch() {
    "$top_builddir/broker/lockboxd" --foreground --config "$LB_BROKER_CONF" \
        >>"$LB_BROKER_LOG" 2>&1 &
    LB_BROKER_PID=$!
    export LB_BROKER_PID
    lb_defer "lb_stop_pid $LB_BROKER_PID"
    if ! lb_wait_for 150 lb_broker_api GET /v1/health; then
        cat "$LB_BROKER_LOG" >&2 || true
        lb_fail "lockboxd did not answer on $LB_BROKER_SOCK"
    fi
}

lb_start_broker() {
    local line
    lb_broker_clients_group
    LB_BROKER_DIR=$(mktemp -d /tmp/lbx-broker.XXXXXX)
    chmod 755 "$LB_BROKER_DIR"
    lb_defer "rm -rf '$LB_BROKER_DIR'"
    LB_BROKER_SOCK=$LB_BROKER_DIR/lockboxd.sock
    LB_BROKER_DB=$LB_BROKER_DIR/lockboxd.db
    LB_BROKER_CONF=$LB_BROKER_DIR/lockboxd.conf
    LB_BROKER_LOG=$LB_BROKER_DIR/lockboxd.log
    export LB_BROKER_DIR LB_BROKER_SOCK LB_BROKER_DB LB_BROKER_CONF LB_BROKER_LOG
    {
        echo "# written by lb_start_broker"
        echo "database = $LB_BROKER_DB"
        echo "socket = $LB_BROKER_SOCK"
        echo "min_duration = 1s"
        echo "socket_group = $LB_SOCKET_GROUP"
        for line in "$@"; do echo "$line"; done
    } >"$LB_BROKER_CONF"
    lb_broker_launch
}

lb_restart_broker() {
    if [ -n "${LB_BROKER_PID:-}" ] && lb_pid_alive "$LB_BROKER_PID"; then
        lb_stop_pid "$LB_BROKER_PID"
    fi
    lb_broker_launch
}

# Prints "<body>\n<status>" for the call.
lb_broker_call() {
    local method=$1 path=$2 body=${3:-} user=${4:-}
    local -a cmd=(curl -sS --max-time 15 --unix-socket "$LB_BROKER_SOCK" -X "$method"
                  -w '\n%{http_code}')
    if [ -n "$body" ]; then
        cmd+=(-H 'Content-Type: application/json' --data-binary "$body")
    fi
    cmd+=("http://lockbox$path")
    if [ -n "$user" ]; then
        cmd=(runuser -u "$user" -- "${cmd[@]}")
    fi
    "${cmd[@]}" 2>/dev/null
}

lb_broker_api() {
    local out code
    out=$(lb_broker_call "$@") || { echo "curl failed: $*" >&2; return 1; }
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    out=${out%$'\n'}
    if [ -n "$out" ]; then printf '%s\n' "$out"; fi
    [[ $code == 2?? ]]
}

lb_broker_status() {
    local out
    out=$(lb_broker_call "$@") || { echo 000; return 0; }
    echo "${out##*$'\n'}"
}

lb_broker_json() {
    python3 -c 'import json,sys; j=json.load(sys.stdin); v=eval(sys.argv[1]); print(v if not isinstance(v,(dict,list,bool)) and v is not None else json.dumps(v))' "$1"
}
