#!/usr/bin/env python3
# Helper of bench/record-throughput.sh: runs a relay under a PTY (the
# operator's terminal) and measures it.
#   record-bench.py throughput SIZE ARGV...   read until SIZE bytes arrived:
#       prints "seconds bytes sha256" of what the terminal received
#   record-bench.py latency N ARGV...         type N single bytes into an
#       echoing shell (one at a time) and time each echo; prints p50 p99 ms
import hashlib, os, pty, select, sys, time, tty

def spawn(argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    return pid, fd

def reap(pid, fd):
    try:
        os.close(fd)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass

mode = sys.argv[1]
if mode == "throughput":
    size = int(sys.argv[2])
    argv = sys.argv[3:]
    t0 = time.monotonic()
    pid, fd = spawn(argv)
    h = hashlib.sha256()
    got = 0
    # The payload has no newline and no '\r': everything received is payload
    # except what the shell prints around it; the script wraps it in markers.
    buf = bytearray()
    start = b"\x02BENCH-START\x03"
    end = b"\x02BENCH-END\x03"
    state = 0
    tail = b""
    while True:
        r, _, _ = select.select([fd], [], [], 60)
        if not r:
            sys.exit("timeout")
        try:
            d = os.read(fd, 1 << 20)
        except OSError:
            d = b""
        if not d:
            break
        if state == 0:
            buf += d
            i = buf.find(start)
            if i < 0:
                continue
            d = bytes(buf[i + len(start):])
            state = 1
        if state == 1:
            data = tail + d
            j = data.find(end)
            if j >= 0:
                h.update(data[:j])
                got += j
                t1 = time.monotonic()
                state = 2
                break
            keep = len(end) - 1
            h.update(data[:-keep] if len(data) > keep else b"")
            got += max(0, len(data) - keep)
            tail = data[-keep:] if len(data) > keep else data
    if state != 2:
        sys.exit("payload end not seen (got %d bytes)" % got)
    print("%.3f %d %s" % (t1 - t0, got, h.hexdigest()))
    # let the relay finish on its own (the recorder flushes its evidence)
    while True:
        r, _, _ = select.select([fd], [], [], 300)
        if not r:
            break
        try:
            if not os.read(fd, 1 << 20):
                break
        except OSError:
            break
    reap(pid, fd)
elif mode == "latency":
    n = int(sys.argv[2])
    argv = sys.argv[3:]
    pid, fd = spawn(argv)
    seen = b""
    end = time.monotonic() + 30
    while b"READY>" not in seen:
        if time.monotonic() > end:
            sys.exit("no prompt")
        r, _, _ = select.select([fd], [], [], 1)
        if r:
            seen += os.read(fd, 65536)
    time.sleep(0.3)
    while select.select([fd], [], [], 0.1)[0]:
        os.read(fd, 65536)
    lat = []
    for i in range(n):
        c = b"abcdefghijklmnopqrstuvwxyz"[i % 26:i % 26 + 1]
        t0 = time.perf_counter()
        os.write(fd, c)
        got = b""
        while c not in got:
            r, _, _ = select.select([fd], [], [], 5)
            if not r:
                sys.exit("echo lost")
            got += os.read(fd, 65536)
        lat.append((time.perf_counter() - t0) * 1000)
        if i % 60 == 59:
            os.write(fd, b"\x15")  # ^U: clear the line
            time.sleep(0.005)
            while select.select([fd], [], [], 0.02)[0]:
                os.read(fd, 65536)
        time.sleep(0.002)
    os.write(fd, b"\x15exit\n")
    lat.sort()
    print("%.3f %.3f" % (lat[len(lat) // 2], lat[int(len(lat) * 0.99)]))
    reap(pid, fd)
