#!/bin/bash
# pam_lockbox.so exports pam_sm_* and nothing else (its version script), and
# does not leave libcurl's global state to be torn down under the host program.
set -euo pipefail
so="$top_builddir/pam_lockbox/.libs/pam_lockbox.so"
[ -f "$so" ] || { echo "FAIL: $so missing"; exit 1; }
command -v nm >/dev/null || { echo "SKIP: nm not installed"; exit 77; }

defined=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TtDdBbRrVvWwi]$/ {print $3}' | sed 's/@.*//' | sort -u)
echo "exported: $(echo $defined)"
others=$(grep -v '^pam_sm_' <<<"$defined" || true)
[ -z "$others" ] || { echo "FAIL: exports more than pam_sm_*: $others"; exit 1; }
for f in pam_sm_acct_mgmt pam_sm_open_session pam_sm_close_session; do
    grep -qx "$f" <<<"$defined" || { echo "FAIL: $f not exported"; exit 1; }
done
echo "ok - only pam_sm_* exported"

# never curl_global_cleanup in a module (it would pull the rug from under
# anything else in sshd that uses libcurl)
if nm -D --undefined-only "$so" | grep -qw curl_global_cleanup; then
    echo "FAIL: the module calls curl_global_cleanup"; exit 1
fi
echo "ok - no curl_global_cleanup"
# every network call sets CURLOPT_NOSIGNAL (common/http.c)
grep -q 'CURLOPT_NOSIGNAL, 1L' "$top_srcdir/common/http.c" || { echo "FAIL: no CURLOPT_NOSIGNAL"; exit 1; }
echo "ok - CURLOPT_NOSIGNAL"
# no secure_getenv/getenv in the module's own code: behaviour never comes
# from the user's environment
if grep -nE '\b(secure_)?getenv\(' "$top_srcdir"/pam_lockbox/*.c; then
    echo "FAIL: the module reads the process environment"; exit 1
fi
echo "ok - no getenv in pam_lockbox/"
