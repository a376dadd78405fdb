#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Loopback-only HTTP front end for the test OCSP responder: every request is answered by a
# one-shot `openssl ocsp -index ... -reqin ... -respout ...`, so OpenSSL still does all OCSP work.
#
# Why not `openssl ocsp -port`? In OpenSSL 3.0 -port takes only a number and the responder then
# listens on [::]:PORT, i.e. on every interface; the tests must only listen on 127.0.0.1. A
# fresh process per request also re-reads the index and cannot get stuck on one bad client.
#
# Usage: ocsp-responder.py PORT INDEX RSIGNER RKEY CA [NMIN]
# Handles RFC 6960 POST (body = DER request) and GET (path = URL-encoded base64 request).

import base64
import http.server
import os
import subprocess
import sys
import tempfile
import urllib.parse

# OCSPResponse with responseStatus malformedRequest(1) and no body, as `openssl ocsp` sends.
MALFORMED_REQUEST = bytes.fromhex("30030a0101")


class Responder(http.server.BaseHTTPRequestHandler):
    server_version = "openrr-test-ocsp/1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.answer(self.rfile.read(length))

    def do_GET(self):
        encoded = urllib.parse.unquote(self.path.lstrip("/"))
        try:
            request = base64.b64decode(encoded, validate=True)
        except ValueError:
            request = b""
        self.answer(request)

    def answer(self, request):
        cfg = self.server.cfg
        with tempfile.TemporaryDirectory(prefix="ocsp-") as tmp:
            req_file = os.path.join(tmp, "req.der")
            resp_file = os.path.join(tmp, "resp.der")
            with open(req_file, "wb") as f:
                f.write(request)
            # -rother adds the intermediate so that clients can verify the responder's
            # certificate from the response alone (given the root).
            proc = subprocess.run(
                ["openssl", "ocsp", "-index", cfg["index"], "-rsigner", cfg["rsigner"],
                 "-rkey", cfg["rkey"], "-CA", cfg["ca"], "-rother", cfg["ca"],
                 "-nmin", cfg["nmin"], "-reqin", req_file, "-respout", resp_file],
                capture_output=True, check=False)
            if proc.returncode == 0 and os.path.exists(resp_file):
                with open(resp_file, "rb") as f:
                    body = f.read()
            else:
                sys.stderr.write(proc.stderr.decode(errors="replace"))
                body = MALFORMED_REQUEST
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    if len(sys.argv) not in (6, 7):
        sys.stderr.write("usage: ocsp-responder.py PORT INDEX RSIGNER RKEY CA [NMIN]\n")
        sys.exit(2)
    port = int(sys.argv[1])
    cfg = {
        "index": sys.argv[2],
        "rsigner": sys.argv[3],
        "rkey": sys.argv[4],
        "ca": sys.argv[5],
        "nmin": sys.argv[6] if len(sys.argv) == 7 else "5",
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Responder)
    server.cfg = cfg
    sys.stderr.write(f"OCSP responder on http://127.0.0.1:{port} (index {cfg['index']})\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
