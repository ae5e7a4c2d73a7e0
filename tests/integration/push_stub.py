#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A stand-in for 'envdrift serve' that push_http.sh points 'collect --push' at,
# to see what the agent sends and how it takes answers a real server gives
# only when things go wrong:
#   push_stub.py PORTFILE LOG MODE [UPSTREAM]
# MODE 503: every POST answered 503; 400: answered 400 with a JSON error;
# drop-first: POSTs are forwarded to UPSTREAM (http://127.0.0.1:PORT), but the
# first one's answer is lost (the connection is closed once the server has
# stored it), as when a network drops the answer. Writes its port to PORTFILE
# and one JSON line per request to LOG: the path, the Content-Encoding,
# whether an Authorization header came, and the body's "format" once gunzipped.
import gzip, http.client, http.server, json, sys, urllib.parse

portfile, log, mode = sys.argv[1:4]
upstream = sys.argv[4] if len(sys.argv) > 4 else None
seen = 0


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        global seen
        seen += 1
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        rec = {"path": self.path, "encoding": self.headers.get("Content-Encoding"),
               "auth": self.headers.get("Authorization") is not None, "format": None}
        try:
            rec["format"] = json.loads(gzip.decompress(body))["format"]
        except Exception as e:  # noqa: BLE001 - recorded, the test asserts on it
            rec["format"] = "unreadable: %s" % e
        with open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if mode in ("503", "400"):
            code = int(mode)
            out = json.dumps({"error": "stub says %d" % code, "status": code}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        u = urllib.parse.urlparse(upstream)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        hdrs["Host"] = "%s:%d" % (u.hostname, u.port)
        c.request("POST", self.path, body=body, headers=hdrs)
        r = c.getresponse()
        out = r.read()
        if seen == 1:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send_response(r.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os  # noqa: E402
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
