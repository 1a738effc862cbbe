#!/bin/bash
# Helpers for the broker API and lockboxctl tests (api-*.sh, cli-*.sh).
# Source after lib.sh and lib-broker.sh. Calls go to a real lockboxd with
# curl (raw HTTP, to see statuses and bodies exactly) or lockboxctl.
#
#   api USER METHOD PATH [BODY]    HTTP over the unix socket as local USER
#                                  (runuser; "root" calls directly). BODY is
#                                  a JSON text or @FILE. Sets API_STATUS, API_BODY.
#   api_tls TOKENFILE METHOD PATH [BODY]
#                                  the same over https://127.0.0.1:$LB_TLS_PORT with
#                                  --cacert $LB_TLS_CA and the bearer token in
#                                  TOKENFILE ("" or "-": no token; "bad": a made-up one)
#   want CODE [ERROR [DETAIL...]]  assert the last answer: status, "error",
#                                  and that "detail" contains each DETAIL
#                                  (case-insensitive). Uses $WHAT in messages.
#   jb FILTER                      jq -r FILTER on the last answer's body
#   ctl USER ARGS...               lockboxctl (build tree) as USER on the unix
#                                  socket; sets CTL_RC, CTL_OUT, CTL_ERR
#   no_esc TEXT NAME               fail if TEXT holds a raw ESC, BEL, CSI or CR byte

LOCKBOXCTL=${LOCKBOXCTL:-$top_builddir/lockboxctl}

api() {
    local user=$1 method=$2 path=$3 body=${4-} out
    local -a cmd=(curl -sS --max-time 20 --unix-socket "$LB_BROKER_SOCK" -X "$method"
                  -H 'Content-Type: application/json' -w '\n%{http_code}')
    [ -n "$body" ] && cmd+=(--data-binary "$body")
    cmd+=("http://localhost$path")
    if [ "$user" = root ]; then
        out=$("${cmd[@]}") || lb_fail "${WHAT:-api}: curl failed ($method $path)"
    else
        out=$(cd / && runuser -u "$user" -- "${cmd[@]}") || lb_fail "${WHAT:-api}: curl failed ($method $path as $user)"
    fi
    API_STATUS=${out##*$'\n'}
    API_BODY=${out%$'\n'*}
    [ "$API_BODY" != "$out" ] || API_BODY=
}

api_tls() {
    local tokenfile=$1 method=$2 path=$3 body=${4-} out
    local -a cmd=(curl -sS --max-time 20 --cacert "$LB_TLS_CA" -X "$method"
                  -H 'Content-Type: application/json' -w '\n%{http_code}')
    case "$tokenfile" in
        ""|-) ;;
        bad) cmd+=(-H "Authorization: Bearer lbt_0000000000000000000000000000000000000000") ;;
        *) cmd+=(-H "Authorization: Bearer $(head -n1 "$tokenfile")") ;;
    esac
    [ -n "$body" ] && cmd+=(--data-binary "$body")
    cmd+=("https://127.0.0.1:$LB_TLS_PORT$path")
    out=$("${cmd[@]}") || lb_fail "${WHAT:-api_tls}: curl failed ($method $path)"
    API_STATUS=${out##*$'\n'}
    API_BODY=${out%$'\n'*}
    [ "$API_BODY" != "$out" ] || API_BODY=
}

jb() { jq -r "$1" <<<"$API_BODY"; }

want() {
    local code=$1 err=${2-} d
    [ "$API_STATUS" = "$code" ] ||
        lb_fail "${WHAT:-?}: HTTP $API_STATUS, wanted $code: $API_BODY"
    if [ -n "$err" ]; then
        [ "$(jb .error)" = "$err" ] || lb_fail "${WHAT:-?}: error '$(jb .error)', wanted '$err': $API_BODY"
        shift 2
        for d in "$@"; do
            jb .detail | grep -qiF -- "$d" ||
                lb_fail "${WHAT:-?}: detail does not mention '$d': $API_BODY"
        done
    fi
    lb_pass "${WHAT:-?} -> $code${err:+ $err}"
}

ctl() {
    local user=$1; shift
    local o e
    o=$(mktemp "$LB_TMP/ctl-out.XXXXXX"); e=$(mktemp "$LB_TMP/ctl-err.XXXXXX")
    chmod 666 "$o" "$e"
    CTL_RC=0
    if [ "$user" = root ]; then
        "$LOCKBOXCTL" --broker "unix:$LB_BROKER_SOCK" "$@" >"$o" 2>"$e" || CTL_RC=$?
    else
        (cd / && runuser -u "$user" -- "$LOCKBOXCTL" --broker "unix:$LB_BROKER_SOCK" "$@") \
            >"$o" 2>"$e" || CTL_RC=$?
    fi
    CTL_OUT=$(cat "$o"); CTL_ERR=$(cat "$e")
    rm -f "$o" "$e"
}

# ctl_want RC USER ARGS... : run and assert the exit status
ctl_want() {
    local rc=$1; shift
    ctl "$@"
    [ "$CTL_RC" = "$rc" ] ||
        lb_fail "${WHAT:-lockboxctl}: exit $CTL_RC, wanted $rc; stdout: $CTL_OUT; stderr: $CTL_ERR"
    no_esc "$CTL_OUT$CTL_ERR" "${WHAT:-lockboxctl} output"
    lb_pass "${WHAT:-lockboxctl} -> exit $rc"
}

no_esc() {
    if printf '%s' "$1" | LC_ALL=C grep -q $'[\x1b\x07\r]\|\xc2\x9b'; then
        lb_fail "$2: a raw control byte reached the terminal: $(printf '%s' "$1" | od -c | head -5)"
    fi
}

# A JSON string literal of $1 (any bytes that are valid UTF-8).
json_str() { jq -Rn --arg s "$1" '$s'; }
