#!/usr/bin/env python3
# Writes the seed corpora of tests/fuzz/corpus/<harness>/: a few realistic
# inputs per harness, in the formats of docs/API.md and docs/EVIDENCE.md and
# the unit tests. Run from anywhere; rewrites the seed-* files only.
import base64, hashlib, json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEY1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMEOl5iMblBfhFYRC7WyTMr7xet5Iaeyez6YRphvL+pr"
ZERO = "0" * 64


def put(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain(objs):
    """Records with seq and hash, as lockbox-record writes them."""
    prev, lines = ZERO, []
    for i, o in enumerate(objs):
        o = dict(o, seq=i + 1)
        h = hashlib.sha256((prev + "\n" + canon(o)).encode()).hexdigest()
        o["hash"] = h
        prev = h
        lines.append(canon(o))
    return lines


def b64(b):
    return base64.b64encode(b).decode()


start = {"t": 0, "kind": "start", "session": "s-1", "request": "r-1", "operator": "alice",
         "user": "vendor", "host": "web1", "time": "2026-11-22T10:00:00.250Z",
         "not_after": "2026-11-22T12:00:00Z", "mode": "interactive", "cols": 80, "rows": 24,
         "term": "xterm-256color", "command": None}
session = [
    start,
    {"t": 100, "kind": "out", "stream": "tty", "data": b64(b"vendor@web1:~$ "), "len": 15},
    {"t": 900, "kind": "in", "stream": "tty", "data": b64(b"ls -l\r"), "len": 6},
    {"t": 950, "kind": "cmd", "argv": [b64(b"/bin/ls"), b64(b"-l")], "argv_text": "/bin/ls -l",
     "exe": "/usr/bin/ls", "cwd": "/home/vendor", "pid": 1234, "ppid": 1200, "uid": 1001,
     "source": "audit"},
    {"t": 1000, "kind": "out", "stream": "tty",
     "data": b64(b"\x1b[1;34mtotal 0\x1b[0m\r\n\xe2\x94\x80\xc3"), "len": 24},
    {"t": 1001, "kind": "out", "stream": "tty", "data": b64(b"\xa9\x1b]0;title\x07ok\r\n"), "len": 16},
    {"t": 1500, "kind": "in", "stream": "tty", "masked": True, "len": 9},
    {"t": 1600, "kind": "resize", "cols": 120, "rows": 40},
    {"t": 1700, "kind": "warn", "text": "access ends in 10 minutes"},
    {"t": 2000, "kind": "end", "reason": "exit", "status": 0, "time": "2026-11-22T10:00:02.250Z"},
]
lines = chain(session)
spool = "".join(l + "\n" for l in lines)

# ---- replay: records, spool and export files, sanitizer, asciicast ----
put("fuzz_records", "session", spool)
put("fuzz_records", "reordered", "".join(l + "\n" for l in reversed(lines)))
put("fuzz_records", "gap-dup", "".join(l + "\n" for l in lines[:3] + lines[4:] + lines[1:2]))
put("fuzz_records", "command", "".join(l + "\n" for l in chain([
    dict(start, mode="command", command="uname -a"),
    {"t": 5, "kind": "out", "stream": "stdout", "data": b64(b"Linux web1\n"), "len": 11},
    {"t": 6, "kind": "out", "stream": "stderr", "data": b64(b"\xff\xfe"), "len": 2},
    {"t": 7, "kind": "end", "reason": "exit", "status": 0, "truncated": ["stdout"]}])))

put("fuzz_replay_source", "spool", b"\x01" + spool.encode())
put("fuzz_replay_source", "spool-other-session",
    b"\x01" + "".join(l + "\n" for l in chain([dict(start, session="s-2")])).encode())


def export_entry(fields):
    out = b""
    for k, v in fields:
        if isinstance(v, str):
            v = v.encode()
        if b"\n" in v or k == "LOCKBOX_RECORDS":
            out += k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
        else:
            out += k.encode() + b"=" + v + b"\n"
    return out + b"\n"


MID_START, MID_IO, MID_END = ("2fb1b94404e04226bd17aa5adfaa9a65", "5c67643dd735480685e8055ae4b6ac81",
                              "c76eb49925e541db92b0019982f1e195")


def entry(uid, mid, recs, exe="/usr/libexec/lockbox/lockbox-record"):
    return export_entry([("__CURSOR", "s=1;i=1"), ("__REALTIME_TIMESTAMP", "1795341600000000"),
                         ("_UID", str(uid)), ("_EXE", exe), ("MESSAGE_ID", mid),
                         ("MESSAGE", "lockbox: session s-1"), ("LOCKBOX_SESSION", "s-1"),
                         ("LOCKBOX_RECORDS", "".join(l + "\n" for l in recs))])


exp = entry(0, MID_START, lines[:1]) + entry(0, MID_IO, lines[1:9]) + entry(0, MID_END, lines[9:])
put("fuzz_replay_source", "export", b"\x00" + exp)
put("fuzz_replay_source", "export-text-records", b"\x00" + export_entry([
    ("_UID", "0"), ("MESSAGE_ID", MID_START), ("LOCKBOX_SESSION", "s-1"),
    ("LOCKBOX_RECORDS", lines[0])]))
put("fuzz_sanitize", "prompt", b"\x00vendor@web1:~$ ls\r\n\x1b[1;34mdir\x1b[0m\r\n")
put("fuzz_sanitize", "vim", b"\x00\x1b[?1049h\x1b[?25l\x1b[1;1H\x1b[2J\x1b(B\x1b[m~\r\n\x1b[?2004h\x1b[?1000;1006h")
put("fuzz_sanitize", "osc-dcs", b"\x03\x05\x10\x20\x1b]52;c;aGVsbG8=\x07\x1bP$qm\x1b\\\xc2\x9d0;t\xc2\x9c\x1b[6n\x1b[c\x1bZ")
put("fuzz_sanitize", "utf8-c1", "\x00héllo ─ \u009b31m \u0085 日本語".encode() + b"\xc2")
put("fuzz_sanitize", "esc-c0", b"\x00\x1b\x08[\x1b[1\n;2H\x1b(\x0bB\x1b#8")

put("fuzz_asciicast", "text", b"\x00hello \xe2\x94\x80 world\r\n\x1b[0m")
put("fuzz_asciicast", "carry", b"\x01abc\xe6\x97\xa5\xe6\x97")
put("fuzz_asciicast", "bytes", b"\x00\xff\xfe\x80\xc0\xaf\xed\xa0\x80\"\\\x7f")

# ---- broker answers (host side) ----
access_allow = {"allow": True, "request": "r-1a2b3c4d5e6f", "operator": "alice", "host": "web1",
                "user": "vendor", "not_after": "2026-11-22T12:05:00Z", "remaining_s": 7199}
access_deny = {"allow": False, "host": "web1", "user": "vendor",
               "reason": "no approved request for vendor on web1",
               "hint": "ask for access: lockboxctl request --host web1 --user vendor --reason TEXT --ticket T"}
keys = {"keys": [{"key": "k-1a2b3c4d5e6f", "request": "r-1a2b3c4d5e6f", "public_key": KEY1,
                  "fingerprint": "SHA256:placeholder", "not_after": "2026-11-22T12:05:00Z",
                  "remaining_s": 7000}]}
sess = {"session": "s-0123456789abcdef", "request": "r-1a2b3c4d5e6f", "operator": "alice",
        "host": "web1", "user": "vendor", "state": "open", "allow": True,
        "not_after": "2026-11-22T12:05:00Z", "remaining_s": 6900, "opened_at": "2026-11-22T10:05:00Z",
        "ended_at": None, "end_reason": None, "reason": None}
put("fuzz_broker_answer", "access-allow", b"\x00" + json.dumps(access_allow).encode())
put("fuzz_broker_answer", "access-deny", b"\x00" + json.dumps(access_deny).encode())
put("fuzz_broker_answer", "access-refused-esc", b"\x00" + json.dumps(
    dict(access_deny, reason="revoked \u001b]0;pwned\u0007", hint="\u009b2J")).encode())
put("fuzz_broker_answer", "keys", b"\x01" + json.dumps(keys).encode())
put("fuzz_broker_answer", "session", b"\x02" + json.dumps(sess).encode())
put("fuzz_broker_answer", "session-ended", b"\x02" + json.dumps(
    dict(sess, state="ended", allow=False, reason="revoked: done", not_after=None, remaining_s=None)).encode())

# ---- SSH_AUTH_INFO_0 and keys ----
put("fuzz_authinfo", "authinfo", "publickey " + KEY1 + "\n")
put("fuzz_authinfo", "authinfo-two", "password\npublickey " + KEY1 + "\nkeyboard-interactive\n")
put("fuzz_authinfo", "key-comment", KEY1 + " alice@laptop")
put("fuzz_authinfo", "rsa", "publickey ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 x\n")
put("fuzz_authinfo", "sk", "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t")

# ---- configuration ----
put("fuzz_conf", "lockbox.conf", b"\x00" + b"""# /etc/lockbox/lockbox.conf
broker = unix:/run/lockbox/lockboxd.sock
host_name = web1
operator_group = lockbox-operators
operators = vendor, vendor2
timeout_ms = 5000
recorder = /usr/libexec/lockbox/lockbox-record
spool_dir = /var/lib/lockbox/spool
state_dir = "/run/lockbox"
record_user = lockbox-rec
no_key_login = deny
allow_sftp = no
output_cap = 16777216
debug = yes
""")
put("fuzz_conf", "lockbox-https.conf", b"\x00broker = https://broker.example:8443\ntoken_file = /etc/lockbox/host.token\nca_file = /etc/lockbox/ca.pem\n")
put("fuzz_conf", "pam-args", b"\x01config=/etc/lockbox/lockbox.conf\x00debug\x00broker=unix:/run/x.sock\x00timeout_ms=100\x00host_name=web1\x00allow_sftp=yes")
put("fuzz_conf", "lockboxd.conf", b"\x02" + b"""# /etc/lockbox/lockboxd.conf
database = /var/lib/lockbox/lockboxd.db
socket = /run/lockbox/lockboxd.sock
listen = 127.0.0.1:8443
tls_cert = /etc/lockbox/tls.crt
tls_key = /etc/lockbox/tls.key
pending_ttl = 4d
default_duration = 4h
max_duration = 8h
min_duration = 1m
approvals_required = 1
operator_group = lockbox-operators
approver_group = lockbox-approvers
auditor_group = lockbox-auditors
approvers = ci-approver
host_users = root, lockbox, lockbox-keys, lockbox-rec
webhooks = https://hooks.example/lockbox
notify_command = /usr/local/bin/notify
max_connections = 256
max_per_ip = 32
connection_timeout = 30
threads = 4
notify_backoff_max = 1h
""")
put("fuzz_conf", "lockboxd-long.conf", b"\x02pending_ttl = 106751991167d\nmax_duration = 213503982334601s\ndefault_duration = 1h\n")

# ---- the broker API ----
def route(caller, method, path, query="", body=b""):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    return bytes([caller, method]) + path.encode() + b"\n" + query.encode() + b"\n" + body


OP, APPR, AUD, HOST, HOST2, ADMIN, NOBODY = range(7)
GET, POST = 0, 1
put("fuzz_broker_route", "create", route(OP, POST, "/v1/requests", "", {
    "hosts": ["web1"], "user": "vendor", "reason": "disk full on /var", "ticket": "INC-1042",
    "duration_s": 7200, "approvals_required": 1}))
put("fuzz_broker_route", "list", route(AUD, GET, "/v1/requests", "state=approved&operator=alice&host=web1&limit=10"))
put("fuzz_broker_route", "get", route(APPR, GET, "/v1/requests/r-000000000002"))
put("fuzz_broker_route", "approve", route(APPR, POST, "/v1/requests/r-000000000002/approve", "", {"comment": "ok"}))
put("fuzz_broker_route", "deny", route(APPR, POST, "/v1/requests/r-000000000002/deny", "", {"reason": "no"}))
put("fuzz_broker_route", "revoke", route(ADMIN, POST, "/v1/requests/r-000000000001/revoke", "", {"reason": "done"}))
put("fuzz_broker_route", "withdraw", route(OP, POST, "/v1/requests/r-000000000002/withdraw", "", {}))
put("fuzz_broker_route", "complete", route(OP, POST, "/v1/requests/r-000000000001/complete"))
put("fuzz_broker_route", "keys-register", route(OP, POST, "/v1/requests/r-000000000001/keys", "",
                                                {"public_key": KEY1 + " alice@laptop"}))
put("fuzz_broker_route", "access", route(HOST, GET, "/v1/access", "host=web1&user=vendor"))
put("fuzz_broker_route", "access-bound", route(HOST2, GET, "/v1/access", "host=web1&user=vendor"))
put("fuzz_broker_route", "keys", route(HOST, GET, "/v1/keys", "host=web1&user=vendor&fingerprint=SHA256%3Aabc"))
put("fuzz_broker_route", "keys-all", route(HOST, GET, "/v1/keys", "host=web1&user=vendor"))
put("fuzz_broker_route", "session-open", route(HOST, POST, "/v1/sessions", "", {
    "host": "web1", "user": "vendor", "public_key": KEY1, "remote": "127.0.0.1", "tty": "ssh",
    "pid": 4242, "audit_session": 7}))
put("fuzz_broker_route", "session-get", route(AUD, GET, "/v1/sessions/s-0123456789abcdef"))
put("fuzz_broker_route", "session-end", route(HOST, POST, "/v1/sessions/s-0123456789abcdef/end", "", {"reason": "exit"}))
put("fuzz_broker_route", "audit", route(AUD, GET, "/v1/audit", "since=0&limit=100&request=r-000000000001"))
put("fuzz_broker_route", "tokens", route(ADMIN, POST, "/v1/tokens", "", {"principal": "web1", "role": "host", "host": "web1"}))
put("fuzz_broker_route", "token-list", route(ADMIN, GET, "/v1/tokens"))
put("fuzz_broker_route", "token-revoke", route(ADMIN, POST, "/v1/tokens/t-000000000001/revoke"))
put("fuzz_broker_route", "health", route(NOBODY, GET, "/v1/health"))
put("fuzz_broker_route", "unknown-field", route(OP, POST, "/v1/requests", "", b'{"h\xc3\xa9\xc3\xa9\xc3\xa9":1}'))
put("fuzz_broker_route", "bad-query", route(HOST, GET, "/v1/access", "host=web1&user=vendor&x=1"))

req = {"id": "r-1a2b3c4d5e6f", "state": "approved", "operator": "alice", "hosts": ["web1"],
       "user": "vendor", "reason": "disk full on /var", "ticket": "INC-1042", "duration_s": 7200,
       "approvals_required": 1, "approvers": ["bob", "carol"],
       "approvals": [{"by": "bob", "at": "2026-11-22T10:05:00Z", "comment": "ok"}],
       "created_at": "2026-11-22T10:00:00Z", "pending_expires_at": "2026-11-26T10:00:00Z",
       "approved_at": "2026-11-22T10:05:00Z", "not_after": "2026-11-22T12:05:00Z",
       "remaining_s": 7199, "ended_at": None, "ended_by": None, "end_reason": None}
put("fuzz_request_json", "approved", json.dumps(req))
put("fuzz_request_json", "pending", json.dumps(dict(req, state="pending", approvals=[], approved_at=None,
                                                    not_after=None, remaining_s=None)))
put("fuzz_request_json", "revoked", json.dumps(dict(req, state="revoked", ended_at="2026-11-22T11:00:00Z",
                                                    ended_by="bob", end_reason="done")))

# ---- lockboxctl views ----
put("fuzz_cli_answer", "table", b"\x00" + json.dumps({"requests": [req, dict(req, id="r-2", state="pending")]}).encode())
put("fuzz_cli_answer", "show", b"\x01" + json.dumps(dict(req, reason="fix \u202etxt.exe \u001b[2J")).encode())
put("fuzz_cli_answer", "created", b"\x02" + json.dumps(dict(req, state="pending")).encode())
put("fuzz_cli_answer", "after", b"\x03" + json.dumps(req).encode())
put("fuzz_cli_answer", "when", b"\x04" + json.dumps(req).encode())


def audit_trail():
    prev, evs = ZERO, []
    for i, (typ, actor) in enumerate([("Create", "alice"), ("Approve", "bob")]):
        e = {"seq": i + 1, "time": "2026-11-22T10:00:00Z", "type": typ, "request": "r-1",
             "session": None, "actor": actor, "role": "operator", "from": "unix:uid=1001",
             "detail": {}}
        h = hashlib.sha256((prev + "\n" + canon(e)).encode()).hexdigest()
        e["prev"], e["hash"] = prev, h
        prev = h
        evs.append(e)
    return {"events": evs, "head": {"seq": len(evs), "hash": prev}}


put("fuzz_cli_answer", "audit", b"\x05" + json.dumps(audit_trail()).encode())

# ---- recorder ----
T = "audit(1763805000.123:4242): "
put("fuzz_audit_cmd", "exec", "\n".join([
    "S" + T + "arch=c000003e syscall=59 success=yes exit=0 a0=55d0c1a2b3c0 a1=55d0c1a2b4d0 "
    "a2=55d0c1a2b5e0 a3=8 items=2 ppid=1200 pid=1234 auid=1001 uid=1001 gid=1001 euid=1001 "
    "suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=pts1 ses=7 comm=\"ls\" "
    "exe=\"/usr/bin/ls\" subj=unconfined key=\"lockbox-exec\"",
    "E" + T + "argc=4 a0=\"ls\" a1=\"-l\" a2=2F746D702F6120622063 a3=\"\"",
    "C" + T + "cwd=2F686F6D652F7665 6E646F72",
    "P" + T + "item=0 name=\"/usr/bin/ls\" inode=1234 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL",
    "T" + T + "proctitle=6C73002D6C",
    "O" + T]) + "\n")
put("fuzz_audit_cmd", "split-arg", "\n".join([
    "S" + T + "syscall=59 success=yes ppid=1 pid=2 uid=0 ses=7 exe=\"/bin/sh\"",
    "E" + T + "argc=2 a0=\"sh\" a1_len=8 a1[0]=41424344 a1[1]=45464748",
    "O" + T, "S" + "audit(1763805000.124:4243): syscall=59 success=yes ses=8 exe=\"/bin/x\"",
    "O" + "audit(1763805000.124:4243): "]) + "\n")
put("fuzz_rec_session", "record", json.dumps({
    "session": "s-1", "request": "r-1", "operator": "alice", "user": "vendor", "host": "web1",
    "not_after": "2026-11-22T12:05:00Z", "remaining_s": 7199, "mono_ms": 123456789,
    "audit_session": 7, "sshd_pid": 4242, "created_at": "2026-11-22T10:05:01Z"}))
put("fuzz_rec_session", "io", b"\x5a\x07vendor@web1:~$ ls -l\r\n\x1b[0m\xe2\x94\x80\xff\x00")
put("fuzz_rec_session", "sftp", b"\x00\x10/usr/lib/openssh/sftp-server -l INFO")

# ---- common ----
for n, v in [("duration", "1h30m"), ("duration-days", "4d"), ("time", "2026-11-22T10:00:00.250Z"),
             ("time-offset", "2026-11-22T10:00:00+00:00"), ("int", "18446744073709551615"),
             ("bool", "yes"), ("utf8", "h\u00e9llo \u202e \u009b \U0001f600"),
             ("base64", "AAAAC3NzaC1lZDI1NTE5AAAAIMEOl5iMblBfhFYRC7WyTMr7xet5Iaeyez6YRphvL+pr"),
             ("audit-value", "/tmp/a b\"c'=d")]:
    put("fuzz_util", n, v)
put("fuzz_util", "int64", struct.pack("<q", 1795341600))
