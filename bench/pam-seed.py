#!/usr/bin/env python3
# Seed a lockboxd through its API (bench/pam-account.sh): N requests by the
# calling operator, spread over many hosts and accounts, with a share on the
# benchmark's own host/account so the access lookup has neighbours to skip.
#   pam-seed.py SOCKET N HOST USER
import http.client
import json
import socket
import sys
import time


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("lockbox", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


sock, n, host, user = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
conn = UnixConn(sock)
t0 = time.monotonic()
for i in range(n):
    if i % 100 == 0:
        h, u = host, user             # 1 % on the measured host and account
    else:
        h, u = "host%d" % (i % 997), "acct%d" % (i % 13)
    body = json.dumps({"hosts": [h], "user": u, "reason": "bench %d" % i,
                       "ticket": "B-%d" % i, "duration_s": 3600})
    for attempt in range(3):
        try:
            conn.request("POST", "/v1/requests", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            break
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            conn = UnixConn(sock)
    if r.status != 201:
        sys.exit("seed: %d %s" % (r.status, data[:200]))
    if (i + 1) % 10000 == 0:
        print("seeded %d requests (%.0f/s)" % (i + 1, (i + 1) / (time.monotonic() - t0)),
              flush=True)
print("seeded %d requests in %.1f s" % (n, time.monotonic() - t0))
