#!/usr/bin/env python3
# Drive an interactive program through a PTY, as a person at a terminal would:
#   sshd-pty.py PROMPT_REGEX COMMAND_LINE EXPECT_REGEX -- ARGV...
# waits for PROMPT_REGEX, types COMMAND_LINE, waits for EXPECT_REGEX, types
# "exit", waits for the end. Prints everything seen; exits with the program's
# status, or 124 when something did not show up in time.
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time

prompt, line, expect = sys.argv[1], sys.argv[2], sys.argv[3]
argv = sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
# a terminal has a size: 24 rows, 80 columns
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

seen = b""

def wait_for(regex, timeout):
    global seen
    end = time.time() + timeout
    pat = re.compile(regex.encode())
    while time.time() < end:
        if pat.search(seen):
            return True
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return bool(pat.search(seen))
            if not data:
                return bool(pat.search(seen))
            seen += data
    return False

def finish(code):
    sys.stdout.write(seen.decode("utf-8", "replace"))
    sys.exit(code)

if not wait_for(prompt, 20):
    os.kill(pid, 15)
    finish(124)
mark = len(seen)
os.write(fd, line.encode() + b"\n")
if not wait_for(expect, 20):
    os.kill(pid, 15)
    finish(124)
os.write(fd, b"exit\n")
wait_for(r"\Z\A", 10)  # read until EOF or 10 s
_, status = os.waitpid(pid, 0)
finish(os.waitstatus_to_exitcode(status) if status else 0)
