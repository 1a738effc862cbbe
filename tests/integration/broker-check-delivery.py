#!/usr/bin/env python3
# Compare what a notification target received (one JSON event per line) with
# the broker's audit trail: every event there, and in order per request.
# Usage: broker-check-delivery.py AUDIT_JSON RECEIVED_FILE ; prints a summary.
import json
import sys

audit = json.load(open(sys.argv[1]))["events"]
got = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
want = {e["seq"]: e for e in audit}
seen = {}
for e in got:
    if e["seq"] not in want:
        sys.exit(f"received an event the trail does not have: seq {e['seq']}")
    if e != want[e["seq"]]:
        sys.exit(f"event seq {e['seq']} differs from the trail")
    seen.setdefault(e["seq"], 0)
    seen[e["seq"]] += 1
missing = sorted(set(want) - set(seen))
if missing:
    sys.exit(f"missing events: {missing}")
last = {}
for e in got:
    r = e.get("request") or ""
    if e["seq"] < last.get(r, 0):
        sys.exit(f"out of order for request {r}: seq {e['seq']} after {last[r]}")
    last[r] = max(e["seq"], last.get(r, 0))
dups = sum(n - 1 for n in seen.values())
print(f"{len(want)} events delivered in order per request ({dups} duplicates)")
