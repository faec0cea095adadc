#!/usr/bin/env python3
"""fake-imds.py - the EC2 instance metadata service, IMDSv2 only.

usage: fake-imds.py PORT STATE_DIR

PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1 to
21600) hands out a fresh random token; a PUT without that header is
refused (400), as the real service does. Every GET must carry a token it
handed out in X-aws-ec2-metadata-token, else 401 (an instance that
requires IMDSv2). GET /latest/meta-data/iam/security-credentials/ lists
the role in STATE_DIR/role (404 when that file is absent: no role
attached); .../<role> answers the keys in STATE_DIR/keys ("AKID SECRET"),
a session token and an Expiration STATE_DIR/ttl seconds ahead (default
21600). Each request appends "METHOD PATH STATUS" to STATE_DIR/log.
"""
import json
import os
import secrets
import sys
import time
from http.server import ThreadingHTTPServer

import fakehttp
from fakehttp import reader

PORT, STATE = int(sys.argv[1]), sys.argv[2]
TOKENS = {}  # token -> expiry
CREDS = "/latest/meta-data/iam/security-credentials/"
read = reader(STATE)


class Handler(fakehttp.Handler):
    def reply(self, status, text, ctype="text/plain"):
        data = text.encode()
        with open(os.path.join(STATE, "log"), "a") as f:
            f.write(f"{self.command} {self.path} {status}\n")
        self.send_body(status, data, ctype)

    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        if self.path != "/latest/api/token":
            return self.reply(404, "not found")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, "bad or missing token TTL")
        token = secrets.token_urlsafe(32)
        TOKENS[token] = time.time() + int(ttl)
        self.reply(200, token)

    def do_GET(self):
        token = self.headers.get("X-aws-ec2-metadata-token")
        if token is None or TOKENS.get(token, 0) < time.time():
            return self.reply(401, "")
        role = read("role")
        if self.path == CREDS:
            return self.reply(200, role) if role else self.reply(404, "not found")
        if not role or self.path != CREDS + role:
            return self.reply(404, "not found")
        akid, secret = (read("keys") or "S3RVER S3RVER").split()
        ttl = int(read("ttl", "21600"))
        now = time.time()
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + ttl))
        doc = {"Code": "Success",
               "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
               "Type": "AWS-HMAC", "AccessKeyId": akid, "SecretAccessKey": secret,
               "Token": "imds-session-token", "Expiration": exp}
        self.reply(200, json.dumps(doc), "application/json")


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    srv.daemon_threads = True
    print("ready", flush=True)
    srv.serve_forever()
