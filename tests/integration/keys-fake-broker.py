#!/usr/bin/env python3
# A fake broker on a unix socket for what a real one will not do: hang, answer
# garbage, answer well-formed JSON with hostile contents. Used by
# keys-helper.sh only. Usage: keys-fake-broker.py SOCKET MODE [KEY]
import os
import socket
import sys
import time

path, mode = sys.argv[1], sys.argv[2]
key = sys.argv[3] if len(sys.argv) > 3 else "ssh-ed25519 AAAA"

def answer(body, status="200 OK"):
    return ("HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n%s" % (status, len(body.encode()), body)).encode()

def keys(request, public_key):
    return ('{"keys":[{"key":"k-1","request":%s,"public_key":%s,"fingerprint":"SHA256:x",'
            '"not_after":"2099-01-01T00:00:00Z","remaining_s":3600}]}' % (request, public_key))

bodies = {
    "garbage": answer("this is not json"),
    "array": answer("[1,2,3]"),
    "error500": answer('{"error":"internal","detail":"store"}', "500 Internal Server Error"),
    # a request id that would start a new authorized_keys line
    "newline-id": answer(keys('"r-1\\nssh-ed25519 AAAA"', '"%s"' % key)),
    # options smuggled in front of the key
    "options-key": answer(keys('"r-1"', '"command=\\"/bin/sh\\" %s"' % key)),
    # a good answer: the control for the hostile ones
    "good": answer(keys('"r-good"', '"%s"' % key)),
}

try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o666)
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        c.recv(65536)
    except OSError:
        pass
    if mode == "hang":
        held.append(c)  # never answer, never close
        continue
    c.sendall(bodies[mode])
    c.close()
