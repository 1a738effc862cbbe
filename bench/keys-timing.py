#!/usr/bin/env python3
# Time N runs of a command: prints "p50_ms p99_ms" (wall clock, ms).
# Usage: keys-timing.py N ARGV...   (stdout/stderr of the command discarded;
# a run that fails aborts: a benchmark of failures means nothing)
import subprocess
import sys
import time

n = int(sys.argv[1])
argv = sys.argv[2:]
times = []
for _ in range(n):
    t = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - t) * 1000)
    if r.returncode != 0:
        sys.exit("run failed (%d): %s" % (r.returncode, " ".join(argv)))
times.sort()
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print("%.2f %.2f" % (p(0.50), p(0.99)))
