#!/usr/bin/python3
# A hostile local client of the broker's unix socket (api-limits.sh runs it
# as one ordinary user): it keeps COUNT connections open for SECONDS, each
# sending its request headers a byte a second and never finishing them, and
# opens a new one whenever the broker closes one. It prints, as JSON, what
# the broker did: how many were answered at once with a 429, dropped with no
# answer, or let in and later cut (and how long those lived).
import json, os, selectors, socket, sys, time

path, count, seconds, ready = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
HEAD = b"GET /v1/health HTTP/1.1\r\nHost: lockbox\r\n"
TRICKLE = b"X-Slow: " + b"a" * 4096

sel = selectors.DefaultSelector()
start = time.monotonic()
stats = {"opened": 0, "refused_429": 0, "refused_json": 0, "dropped": 0, "cut": 0,
         "connect_failed": 0, "held_max": 0, "cut_lifetimes": [], "held_at_end": 0,
         "held_old_at_end": 0}
conns = {}  # sock -> dict(t0, sent, data)


def open_one():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except OSError:  # on a unix socket EAGAIN too: the backlog is full
        stats["connect_failed"] += 1
        s.close()
        return
    try:
        s.send(HEAD)
    except OSError:
        pass
    conns[s] = {"t0": time.monotonic(), "sent": 0, "data": b""}
    sel.register(s, selectors.EVENT_READ)
    stats["opened"] += 1


def finish(s, how):
    c = conns.pop(s)
    sel.unregister(s)
    s.close()
    life = time.monotonic() - c["t0"]
    if c["data"].startswith(b"HTTP/1.1 429"):
        stats["refused_429"] += 1
        if b'"error":"too_many"' in c["data"]:
            stats["refused_json"] += 1
    elif not c["data"] and life < 0.5:
        stats["dropped"] += 1
    else:
        stats["cut"] += 1
        stats["cut_lifetimes"].append(round(life, 2))


while len(conns) < count:
    open_one()
with open(ready, "w") as f:
    f.write("ready\n")
last_tick = time.monotonic()
while time.monotonic() - start < seconds:
    for key, _ in sel.select(timeout=0.1):
        s = key.fileobj
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if d:
            conns[s]["data"] += d
            if not d.endswith(b"\n"):
                continue
        finish(s, "closed")
    now = time.monotonic()
    if now - last_tick >= 1.0:
        last_tick = now
        for s, c in list(conns.items()):
            if c["sent"] < len(TRICKLE) and not c["data"]:
                try:
                    s.send(TRICKLE[c["sent"]:c["sent"] + 1])
                    c["sent"] += 1
                except OSError:
                    pass
    # let in (not waiting in the listen backlog of a busy machine): no answer
    # after 2 s
    held = sum(1 for c in conns.values() if not c["data"] and now - c["t0"] > 2)
    stats["held_max"] = max(stats["held_max"], held)
    # reconnect at a steady pace (300 a second), not in a busy loop
    for _ in range(30):
        if len(conns) >= count:
            break
        open_one()
    time.sleep(0.1)
now = time.monotonic()
stats["held_at_end"] = sum(1 for c in conns.values() if not c["data"])
# opened more than 14 s before the end and still open: never cut
stats["held_old_at_end"] = sum(1 for c in conns.values() if not c["data"] and now - c["t0"] > 14)
for s, c in conns.items():
    if not c["data"] and now - c["t0"] > 14:
        print("never cut: opened at %.2f s, %d bytes sent" % (c["t0"] - start, c["sent"]), file=sys.stderr)
stats["cut_max"] = max(stats["cut_lifetimes"]) if stats["cut_lifetimes"] else None
del stats["cut_lifetimes"]
print(json.dumps(stats))
