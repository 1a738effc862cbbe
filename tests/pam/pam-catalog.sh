#!/bin/bash
# Every host MESSAGE_ID of docs/EVIDENCE.md §4 has an entry in
# conf/catalog/lockbox-host.catalog, the catalog compiles, and every
# pam_lockbox id is one the module actually sends.
set -euo pipefail
cat="$top_srcdir/conf/catalog/lockbox-host.catalog"
ids=$(sed -n '/^MESSAGE_IDs of pam_lockbox and lockbox-keys/,/^MESSAGE_IDs of lockboxd/p' \
      "$top_srcdir/docs/EVIDENCE.md" | grep -oE '`[0-9a-f]{32}`' | tr -d '`')
[ "$(wc -l <<<"$ids")" = 10 ] || { echo "FAIL: expected 10 host ids in EVIDENCE.md, got: $ids"; exit 1; }
for id in $ids; do
    grep -qx -- "-- $id" "$cat" || { echo "FAIL: $id not in the catalog"; exit 1; }
done
echo "ok - 9 host MESSAGE_IDs catalogued"
n=$(grep -c '^-- [0-9a-f]\{32\}$' "$cat")
[ "$n" = 10 ] || { echo "FAIL: $n entries in the catalog, expected 10"; exit 1; }
for id in $(grep -oE '"[0-9a-f]{32}"' "$top_srcdir/pam_lockbox/pam_lockbox.h" | tr -d '"'); do
    grep -qx -- "-- $id" "$cat" || { echo "FAIL: module id $id not catalogued"; exit 1; }
    grep -q "$id" <<<"$ids" || { echo "FAIL: module id $id not in EVIDENCE.md"; exit 1; }
done
echo "ok - the module's ids are the documented ones"
if command -v journalctl >/dev/null; then
    d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
    mkdir -p "$d/usr/lib/systemd/catalog"
    cp "$cat" "$d/usr/lib/systemd/catalog/"
    journalctl --root="$d" --update-catalog
    got=$(journalctl --root="$d" --list-catalog | grep -c lockbox)
    [ "$got" = 10 ] || { echo "FAIL: journalctl compiled $got entries"; exit 1; }
    echo "ok - journalctl --update-catalog takes it"
fi
