#!/bin/bash
# Bypass suite, file transfer: scp (legacy -O, which runs `scp -f/-t` as a
# command, and the sftp-based default) and sftp by every name (the
# subsystem, a path, a path with arguments, behind env/sh/exec, a copy under
# another name), with allow_sftp = no (the default). A file fetched or put
# must be in the evidence (the command and the bytes); sftp must move nothing.
. "$top_srcdir/tests/integration/lib.sh"
lb_require_root
lb_lock
. "$top_srcdir/tests/integration/bypass-lib.sh"
lbb_setup bpfiles
SECRET=$LB_TMP/secret
head -c 600 /dev/urandom | base64 -w 60 >"$SECRET"
chmod 0644 "$SECRET"
SFTPD=/usr/lib/openssh/sftp-server
[ -x "$SFTPD" ] || lb_fail "no $SFTPD"

xfer_opts() { lb_ssh_opts | sed 's/^-p$/-P/'; printf '%s\n' -i "$KEY" -o IdentitiesOnly=yes; }
stream_has() { # spool kind stream file: the file's bytes are in that stream
    python3 - "$@" <<'PY'
import base64, json, sys
spool, kind, stream, path = sys.argv[1:]
data = b"".join(base64.b64decode(r["data"]) for r in map(json.loads, open(spool, "rb"))
                if r["kind"] == kind and r.get("stream") == stream and "data" in r)
sys.exit(0 if open(path, "rb").read() in data else 1)
PY
}

# 1. scp -O: fetch and put run as recorded commands, bytes in the spool
lbr_key
mapfile -t O < <(xfer_opts)
timeout 30 scp -F /dev/null "${O[@]}" -O "lbxrvendor@127.0.0.1:$SECRET" "$LB_TMP/got-O" >/dev/null 2>&1 || true
if [ -s "$LB_TMP/got-O" ]; then
    SPOOL=$(lbb_spool "$R")
    if [ -n "$SPOOL" ] && lbb_ran_recorded "$SECRET" && stream_has "$SPOOL" out stdout "$SECRET"; then
        lb_pass "scp -O fetch: the command and the file's bytes are in the spool"
    else
        lbb_bad "scp -O fetched $SECRET and the spool lacks the command or its bytes ($SPOOL)"
    fi
else
    lb_pass "scp -O fetch: refused"
fi
lbr_key
mapfile -t O < <(xfer_opts)
timeout 30 scp -F /dev/null "${O[@]}" -O "$SECRET" "lbxrvendor@127.0.0.1:$M/put-O" >/dev/null 2>&1 || true
if [ -e "$M/put-O" ]; then
    SPOOL=$(lbb_spool "$R")
    if [ -n "$SPOOL" ] && lbb_ran_recorded "$M/put-O" && stream_has "$SPOOL" in stdin "$SECRET"; then
        lb_pass "scp -O put: the command and the file's bytes are in the spool"
    else
        lbb_bad "scp -O put $M/put-O and the spool lacks the command or its bytes ($SPOOL)"
    fi
else
    lb_pass "scp -O put: refused"
fi

# 2. scp over sftp (OpenSSH's default) and sftp by every name: nothing moves
sftp_try() { # what [sftp options...]
    local what=$1; shift
    rm -f "$LB_TMP/got"
    lbr_key
    mapfile -t O < <(xfer_opts)
    printf 'get %s %s\nput %s %s\n' "$SECRET" "$LB_TMP/got" "$SECRET" "$M/put" |
        timeout 30 sftp -F /dev/null "${O[@]}" -b - "$@" lbxrvendor@127.0.0.1 >"$LB_TMP/sftp.out" 2>&1 || true
    if [ -e "$LB_TMP/got" ] || [ -e "$M/put" ]; then
        lbb_bad "$what: a file moved with allow_sftp = no ($(ls "$LB_TMP/got" "$M/put" 2>/dev/null | tr '\n' ' '))"
    else
        lb_pass "$what: nothing moved ($(grep -v '^Warning' "$LB_TMP/sftp.out" | grep -m1 -i 'not allowed\|refused\|closed\|denied\|fail' || true))"
    fi
    rm -f "$LB_TMP/got" "$M/put"
}
rm -f "$LB_TMP/got-s"
lbr_key
mapfile -t O < <(xfer_opts)
timeout 30 scp -F /dev/null "${O[@]}" "lbxrvendor@127.0.0.1:$SECRET" "$LB_TMP/got-s" >/dev/null 2>&1 || true
if [ -e "$LB_TMP/got-s" ]; then lbb_bad "scp (sftp protocol): fetched"; else lb_pass "scp (sftp protocol): nothing moved"; fi
sftp_try "sftp"
sftp_try "sftp -s sftp" -s sftp
sftp_try "sftp -s $SFTPD" -s "$SFTPD"
sftp_try "sftp -s '$SFTPD -e'" -s "$SFTPD -e"
sftp_try "sftp -s internal-sftp" -s internal-sftp
install -o lbxrvendor -m 0755 "$SFTPD" "$OPHOME/notes"
sftp_try "sftp -s ~/notes (a copy of sftp-server under another name)" -s "$OPHOME/notes"
sftp_try "sftp -s 'exec $SFTPD'" -s "exec $SFTPD"
sftp_try "sftp -s 'env $SFTPD' (issue item 9)" -s "env $SFTPD"
sftp_try "sftp -s 'sh -c $SFTPD' (issue item 9)" -s "/bin/sh -c $SFTPD"
rm -f "$OPHOME/notes"

lbb_done
