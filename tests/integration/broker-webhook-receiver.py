#!/usr/bin/env python3
# A webhook receiver for tests: appends each POSTed body (one JSON event per
# line) to the file given, answers 200. Listens on 127.0.0.1:PORT only.
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, out = int(sys.argv[1]), sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode().strip()
        with open(out, "a") as f:
            f.write(body + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
