#!/usr/bin/env python3
# A FAKE broker, for what a real lockboxd never does: hang, answer garbage,
# lie. Every row a real broker can answer (approved, pending, denied, ...) is
# tested against the real lockboxd instead (tests/pam/pam-broker.sh).
#
#   fake-broker.py SOCKET MODE LOGFILE
#
# Listens on the unix socket SOCKET, appends "METHOD PATH" of every request to
# LOGFILE, and answers by MODE:
#   hang       read the request, never answer (the module's deadline must hold)
#   trickle    send one header byte per second, forever
#   garbage    200 with a body that is not JSON
#   html       500 with an HTML body
#   zero       {"allow": true, ...} with remaining_s 0            (a lie)
#   missing    {"allow": true} with no request/not_after/remaining (a lie)
#   negative   {"allow": true, ...} with remaining_s -5            (a lie)
#   wronguser  a well-formed allow for another account            (a lie)
#   wronghost  a well-formed allow for another host               (a lie)
#   badid      a well-formed allow whose request id has an escape (a lie)
#   huge       a 4 MiB body (over the client's cap)
#   close      accept and close without a word
#   escape     allow:false whose reason and hint carry terminal escapes
#   sessionok     POST /v1/sessions: a well-formed open session for $FAKE_USER
#   sessionother  POST /v1/sessions: an open session for another account (a lie)
#   sessionzero   POST /v1/sessions: allow:true with remaining_s 0 (a lie)
# (the session modes answer POST /v1/sessions/ID/end with an ended session)
import json
import os
import socket
import sys
import threading
import time

sock_path, mode, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
USER = os.environ.get("FAKE_USER", "lbxvendor")


def allow(**over):
    a = {"allow": True, "request": "r-0123456789ab", "operator": "alice",
         "host": "web1", "user": USER,
         "not_after": "2099-01-01T00:00:00Z", "remaining_s": 3600}
    a.update(over)
    return a


ANSWERS = {
    "zero": allow(remaining_s=0),
    "missing": {"allow": True},
    "negative": allow(remaining_s=-5),
    "wronguser": allow(user="someoneelse"),
    "wronghost": allow(host="web2"),
    "badid": allow(request="r-\x1b[31mred"),
    "escape": {"allow": False, "host": "web1", "user": USER,
               "reason": "request r-1 was \x1b]52;c;ZXZpbA==\x07revoked\x1b[2J",
               "hint": "ask \x1b[31mnicely\x1b[0m"},
}


def session(**over):
    s = {"session": "s-0123456789abcdef", "request": "r-0123456789ab",
         "operator": "alice", "host": "web1", "user": USER, "state": "open",
         "allow": True, "not_after": "2099-01-01T00:00:00Z", "remaining_s": 3600,
         "opened_at": "2026-11-22T10:00:00Z", "ended_at": None,
         "end_reason": None, "reason": None}
    s.update(over)
    return s


SESSIONS = {
    "sessionok": session(),
    "sessionother": session(user="someoneelse"),
    "sessionzero": session(remaining_s=0),
}


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for h in lines[1:]:
        k, _, v = h.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines[0]


def respond(conn, status, body, ctype="application/json"):
    if isinstance(body, str):
        body = body.encode()
    conn.sendall(b"HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n" % (status, ctype.encode(), len(body)) + body)


def handle(conn):
    try:
        line = read_request(conn)
        if line is None:
            return
        with open(log_path, "a") as f:
            f.write(" ".join(line.split(" ")[:2]) + "\n")
        if mode == "hang":
            time.sleep(3600)
        elif mode == "trickle":
            for b in b"HTTP/1.1 200 OK\r\n" * 1000:
                conn.sendall(bytes([b]))
                time.sleep(1)
        elif mode == "garbage":
            respond(conn, 200, "this is not json {{{", "text/plain")
        elif mode == "html":
            respond(conn, 500, "<html><body>oops</body></html>", "text/html")
        elif mode == "huge":
            respond(conn, 200, '{"allow": true, "pad": "' + "x" * (4 << 20) + '"}')
        elif mode == "close":
            pass
        elif mode in SESSIONS:
            if line.startswith("POST /v1/sessions/") and "/end" in line:
                respond(conn, 200, json.dumps(session(state="ended", allow=False,
                                                      reason="ended")))
            elif line.startswith("POST /v1/sessions "):
                respond(conn, 201, json.dumps(SESSIONS[mode]))
            else:
                respond(conn, 404, '{"error":"not_found","detail":"fake"}')
        else:
            respond(conn, 200, json.dumps(ANSWERS[mode]))
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        conn.close()


def main():
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sock_path)
    os.chmod(sock_path, 0o666)
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


main()
