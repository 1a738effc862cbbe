#!/usr/bin/env python3
# Checks of lockbox-record's evidence for the integration tests.
#   record-check.py spool FILE
#       verify seq continuity and the hash chain; print a JSON summary
#   record-check.py journal SESSION SPOOL
#       the session's journald entries (journalctl -a -o json): dedupe by seq,
#       check that they hold exactly the spool's lines; print a JSON summary
#   record-check.py between FILE START END [STREAM]
#       concatenated "out" bytes (stream tty by default), the part between the
#       first START and the next END; prints its sha256 and length
import base64, hashlib, json, subprocess, sys
from collections import Counter

def lines_of(path):
    data = open(path, "rb").read()
    assert data.endswith(b"\n"), "spool does not end with a newline"
    return data.split(b"\n")[:-1]

def verify(lines):
    prev = "0" * 64
    for i, line in enumerate(lines, 1):
        obj = json.loads(line)
        if obj["seq"] != i:
            raise SystemExit("gap or reorder: line %d has seq %d" % (i, obj["seq"]))
        h = obj["hash"]
        canon = line.replace(b',"hash":"%s"' % h.encode(), b"", 1)
        canon = canon.replace(b'{"hash":"%s",' % h.encode(), b"{", 1)
        want = hashlib.sha256(prev.encode() + b"\n" + canon).hexdigest()
        if want != h:
            raise SystemExit("hash chain broken at seq %d" % i)
        prev = h
    return [json.loads(l) for l in lines]

def summary(recs):
    kinds = Counter(r["kind"] for r in recs)
    cmds = [r for r in recs if r["kind"] == "cmd"]
    end = [r for r in recs if r["kind"] == "end"]
    return {
        "n": len(recs), "kinds": dict(kinds),
        # input typed with echo off: "echo": false (older recorders: "masked")
        "masked": sum(1 for r in recs if r.get("masked") or r.get("echo") is False),
        "cmd_sources": dict(Counter(r["source"] for r in cmds)),
        "argv": [[base64.b64decode(a).decode("utf-8", "replace") for a in r["argv"]] for r in cmds],
        "end": end[-1] if end else None,
        "start": recs[0] if recs else None,
        "warn": [r["text"] for r in recs if r["kind"] == "warn"],
        "resize": [[r["cols"], r["rows"]] for r in recs if r["kind"] == "resize"],
        "streams": dict(Counter(r.get("stream") for r in recs if r["kind"] in ("in", "out"))),
    }

def out_bytes(recs, stream, kind="out"):
    return b"".join(base64.b64decode(r["data"]) for r in recs
                    if r["kind"] == kind and r.get("stream") == stream and "data" in r)

def field(e, name):
    v = e.get(name)
    if isinstance(v, list) and v and isinstance(v[0], list):
        v = v[0]  # several values: the first
    if isinstance(v, list):
        return bytes(v)
    return v.encode() if isinstance(v, str) else v

cmd = sys.argv[1]
if cmd == "spool":
    print(json.dumps(summary(verify(lines_of(sys.argv[2])))))
elif cmd == "journal":
    session, spool = sys.argv[2], sys.argv[3]
    out = subprocess.run(["journalctl", "--no-pager", "-a", "-o", "json",
                          "LOCKBOX_SESSION=" + session, "SYSLOG_IDENTIFIER=lockbox-record"], check=True, capture_output=True).stdout
    got, resent, entries, kinds = {}, 0, 0, Counter()
    for l in out.splitlines():
        e = json.loads(l)
        recs = field(e, "LOCKBOX_RECORDS")
        if recs is None:
            raise SystemExit("an entry without LOCKBOX_RECORDS")
        entries += 1
        kinds[field(e, "LOCKBOX_KIND").decode()] += 1
        if field(e, "LOCKBOX_RESENT") == b"1":
            resent += 1
        first = int(field(e, "LOCKBOX_SEQ_FIRST"))
        last = int(field(e, "LOCKBOX_SEQ_LAST"))
        ls = recs.split(b"\n")[:-1]
        if len(ls) != last - first + 1:
            raise SystemExit("entry %d-%d holds %d records" % (first, last, len(ls)))
        for s, line in zip(range(first, last + 1), ls):
            if s in got and got[s] != line:
                raise SystemExit("seq %d differs between entries" % s)
            got[s] = line
    spool_lines = lines_of(spool)
    verify(spool_lines)
    missing = [i for i in range(1, len(spool_lines) + 1) if i not in got]
    differ = [i for i in got if i > len(spool_lines) or got[i] != spool_lines[i - 1]]
    print(json.dumps({"entries": entries, "records": len(got), "spool": len(spool_lines),
                      "missing": missing[:20], "n_missing": len(missing),
                      "differ": differ[:20], "resent_entries": resent, "kinds": dict(kinds)}))
elif cmd == "between":
    recs = verify(lines_of(sys.argv[2]))
    data = out_bytes(recs, sys.argv[5] if len(sys.argv) > 5 else "tty")
    a = data.find(sys.argv[3].encode())
    if a < 0:
        raise SystemExit("start marker not found")
    a += len(sys.argv[3])
    b = data.find(sys.argv[4].encode(), a)
    if b < 0:
        raise SystemExit("end marker not found")
    print(hashlib.sha256(data[a:b]).hexdigest(), b - a)
elif cmd == "stream":
    recs = verify(lines_of(sys.argv[2]))
    sys.stdout.buffer.write(out_bytes(recs, sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "out"))
