#!/usr/bin/env python3
"""fake-aws.py - the AWS endpoints that have no local server to run.

usage: fake-aws.py PORT STATE_DIR

Serves the ECS container credentials endpoint at /creds: it requires the
Authorization header to equal the content of STATE_DIR/token (when that
file exists), answers with the keys in STATE_DIR/keys ("AKID SECRET"), a
session token, and an Expiration STATE_DIR/ttl seconds ahead (default 3600),
and appends one line per fetch to STATE_DIR/fetches.

Serves Secrets Manager's GetSecretValue at POST /: it checks the
X-Amz-Target, that the request is SigV4-signed for the secretsmanager
service, and answers with STATE_DIR/secrets/<SecretId> as SecretString
(400 ResourceNotFoundException when there is no such file), appending
the id to STATE_DIR/secret-fetches. Nothing else: real servers (s3rver,
RabbitMQ, PostgreSQL) do the rest.
"""
import json
import os
import sys
import time
from http.server import ThreadingHTTPServer

import fakehttp
from fakehttp import reader

PORT, STATE = int(sys.argv[1]), sys.argv[2]
read = reader(STATE)


class Handler(fakehttp.Handler):
    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_body(status, data, "application/json")

    def do_GET(self):
        if self.path != "/creds":
            return self.reply(404, {"message": "not found"})
        token = read("token")
        if token is not None and self.headers.get("Authorization") != token:
            return self.reply(401, {"message": "bad authorization token"})
        akid, secret = (read("keys") or "S3RVER S3RVER").split()
        ttl = int(read("ttl", "3600"))
        with open(os.path.join(STATE, "fetches"), "a") as f:
            f.write(f"{time.time()}\n")
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ttl))
        self.reply(200, {"RoleArn": "arn:aws:iam::000000000000:role/duckmig",
                         "AccessKeyId": akid, "SecretAccessKey": secret,
                         "Token": "session-token-for-tests", "Expiration": exp})


    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        if self.headers.get("X-Amz-Target") != "secretsmanager.GetSecretValue":
            return self.reply(400, {"__type": "UnknownOperationException"})
        auth = self.headers.get("Authorization", "")
        if "/secretsmanager/aws4_request" not in auth or "Signature=" not in auth:
            return self.reply(403, {"__type": "AccessDeniedException", "Message": "not signed"})
        sid = body.get("SecretId", "")
        path = os.path.join(STATE, "secrets", os.path.basename(sid))
        if not sid or not os.path.exists(path):
            return self.reply(400, {"__type": "ResourceNotFoundException",
                                    "Message": "Secrets Manager can't find the specified secret."})
        with open(os.path.join(STATE, "secret-fetches"), "a") as f:
            f.write(sid + "\n")
        with open(path) as f:
            value = f.read()
        self.reply(200, {"ARN": "arn:aws:secretsmanager:us-east-1:0:secret:" + sid,
                         "Name": sid, "VersionId": "v1", "SecretString": value,
                         "VersionStages": ["AWSCURRENT"]})


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    srv.daemon_threads = True
    print("ready", flush=True)
    srv.serve_forever()
