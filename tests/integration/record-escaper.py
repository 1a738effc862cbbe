# A process that tries to outlive its session (record-escape.sh,
# record-deadline.sh): it ignores HUP/TERM/INT/QUIT and, in a tight loop,
# forks and lets its parent exit (re-parenting), setsid()s and forks again
# (double fork). Its heartbeat is the mtime of ~/escape-TAG.beat.
import os, signal, sys
tag = sys.argv[1]
for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
fd = os.open("/dev/null", os.O_RDWR)
for k in (0, 1, 2):
    os.dup2(fd, k)
beat = os.path.expanduser("~/escape-%s.beat" % tag)
open(beat, "w").close()
while True:
    try:
        os.utime(beat)
        if os.fork():
            os._exit(0)          # the parent leaves: the child is re-parented
        os.setsid()
        if os.fork():
            os._exit(0)          # double fork
    except OSError:
        pass
