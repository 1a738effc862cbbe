#!/usr/bin/env python3
# Drive a program through a PTY like a person at a terminal, for the recorder
# tests:   record-drive.py STEPS_JSON TRANSCRIPT -- ARGV...
# STEPS_JSON is a list of steps:
#   ["send", "text"]            type text (\n is Enter); ["sendhex", "00ff"]
#   ["expect", "regex", secs]   wait for regex in what was shown since the last expect
#   ["winsize", cols, rows]     resize the terminal (the program gets SIGWINCH)
#   ["sleep", secs]
#   ["mark", "path"]            write the pid of the program to path
#   ["eof", secs]               wait until the program closes the terminal
# Writes everything shown to TRANSCRIPT; exit status: the program's, 124 when
# an expect or eof timed out (the program is then killed).
import fcntl, json, os, pty, re, select, signal, struct, sys, termios, time

steps = json.loads(sys.argv[1])
transcript = sys.argv[2]
argv = sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
seen = b""
mark = 0
eof = False

def pump(timeout):
    global seen, eof
    r, _, _ = select.select([fd], [], [], timeout)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            eof = True
        seen += data

def fail(why):
    sys.stderr.write("record-drive: %s\n" % why)
    open(transcript, "wb").write(seen)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    sys.exit(124)

for st in steps:
    op = st[0]
    if op == "send":
        os.write(fd, st[1].encode())
    elif op == "sendhex":
        os.write(fd, bytes.fromhex(st[1]))
    elif op == "expect":
        pat = re.compile(st[1].encode())
        end = time.time() + st[2]
        while not pat.search(seen, mark):
            if eof or time.time() > end:
                fail("did not see %r" % st[1])
            pump(0.1)
        mark = pat.search(seen, mark).end()
    elif op == "winsize":
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", st[2], st[1], 0, 0))
        os.kill(pid, signal.SIGWINCH)
    elif op == "sleep":
        end = time.time() + st[1]
        while time.time() < end and not eof:
            pump(0.05)
    elif op == "mark":
        open(st[1], "w").write(str(pid))
    elif op == "eof":
        end = time.time() + st[1]
        while not eof:
            if time.time() > end:
                fail("the program did not end")
            pump(0.1)
        open(transcript + ".eof", "w").write("%.3f\n" % time.time())
open(transcript, "wb").write(seen)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
