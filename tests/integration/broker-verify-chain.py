#!/usr/bin/env python3
# Independent check of the broker's audit chain (docs/API.md "Audit"):
# hash = hex(SHA-256(prev + "\n" + canonical)), canonical = the event without
# prev and hash, compact with sorted keys, UTF-8 as is. Reads GET /v1/audit
# answers (JSON) on stdin; prints "OK <n>" or the first problem and exits 1.
import hashlib
import json
import sys

events = json.load(sys.stdin)["events"]
prev = "0" * 64
for i, ev in enumerate(events, start=1):
    if ev.get("seq") != i:
        print(f"gap: expected seq {i}, found {ev.get('seq')}")
        sys.exit(1)
    if ev.get("prev") != prev:
        print(f"break at seq {i}: prev does not match")
        sys.exit(1)
    body = {k: v for k, v in ev.items() if k not in ("prev", "hash")}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    h = hashlib.sha256((prev + "\n" + canon).encode()).hexdigest()
    if h != ev.get("hash"):
        print(f"break at seq {i}: hash does not match")
        sys.exit(1)
    prev = h
print(f"OK {len(events)}")
