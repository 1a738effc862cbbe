#!/usr/bin/env python3
# Run by the operator inside a recorded session: push a command line into the
# session's terminal input queue with TIOCSTI, as if typed, bypassing the
# recorder's master. Prints "sti-ok" or "sti-err ERRNO".
import fcntl, sys, termios

line = b"touch ~/record-inject.ran\n"
try:
    for b in line:
        fcntl.ioctl(0, termios.TIOCSTI, bytes([b]))
    print("sti-ok", flush=True)
except OSError as e:
    print("sti-err", e.errno, flush=True)
