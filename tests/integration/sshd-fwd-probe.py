#!/usr/bin/env python3
# Does a forward through ssh reach the target? Connects to 127.0.0.1:PORT,
# directly (an ssh -L listener) or as a SOCKS5 client (ssh -D) asking for
# 127.0.0.1:TARGET, and prints REACHED when the target's first bytes (an SSH
# banner) come back, else NOTHING.  Usage: sshd-fwd-probe.py direct|socks PORT [TARGET]
import socket
import struct
import sys

mode, port = sys.argv[1], int(sys.argv[2])
target = int(sys.argv[3]) if len(sys.argv) > 3 else 0
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if mode == "socks":
        s.sendall(b"\x05\x01\x00")
        if s.recv(2) != b"\x05\x00":
            raise OSError("socks greeting")
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", target))
        rep = s.recv(10)
        if len(rep) < 2 or rep[1] != 0:
            raise OSError("socks connect refused")
    data = s.recv(64)
    print("REACHED" if data.startswith(b"SSH-") else "NOTHING")
except OSError:
    print("NOTHING")
