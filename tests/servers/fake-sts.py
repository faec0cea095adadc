#!/usr/bin/env python3
"""fake-sts.py - STS AssumeRoleWithWebIdentity, and nothing else.

usage: fake-sts.py PORT STATE_DIR

Takes the action as a form POST (or a query string), as STS does, and
checks it: Action=AssumeRoleWithWebIdentity, Version=2011-06-15, a
RoleSessionName, no Authorization header (the call is not signed: the
token is the proof), WebIdentityToken equal to STATE_DIR/token and
RoleArn equal to STATE_DIR/role. A bad token gets 400
InvalidIdentityToken, another role 403 AccessDenied, as from STS. The
answer carries the keys in STATE_DIR/keys ("AKID SECRET"), a session
token and an Expiration STATE_DIR/ttl seconds ahead (default 3600). Each
call appends "STATUS RoleSessionName" to STATE_DIR/log.
"""
import os
import sys
import time
from http.server import ThreadingHTTPServer

import fakehttp
from fakehttp import reader
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

PORT, STATE = int(sys.argv[1]), sys.argv[2]
NS = "https://sts.amazonaws.com/doc/2011-06-15/"
read = reader(STATE)


class Handler(fakehttp.Handler):
    def reply(self, status, xml, session=""):
        data = xml.encode()
        with open(os.path.join(STATE, "log"), "a") as f:
            f.write(f"{status} {session}\n")
        self.send_body(status, data, "text/xml")

    def error(self, status, code, message, session=""):
        self.reply(status, f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type>'
                           f"<Code>{code}</Code><Message>{escape(message)}</Message>"
                           "</Error><RequestId>fake</RequestId></ErrorResponse>", session)

    def handle_action(self, form):
        one = lambda k: (form.get(k) or [""])[0]
        session = one("RoleSessionName")
        if one("Action") != "AssumeRoleWithWebIdentity" or one("Version") != "2011-06-15":
            return self.error(400, "InvalidAction", "unknown action", session)
        if "Authorization" in self.headers:
            return self.error(400, "InvalidRequest", "AssumeRoleWithWebIdentity is not signed", session)
        if not session:
            return self.error(400, "ValidationError", "RoleSessionName is required", session)
        if one("WebIdentityToken") != read("token"):
            return self.error(400, "InvalidIdentityToken", "Couldn't verify the token", session)
        if one("RoleArn") != read("role"):
            return self.error(403, "AccessDenied",
                              "Not authorized to perform sts:AssumeRoleWithWebIdentity", session)
        akid, secret = (read("keys") or "S3RVER S3RVER").split()
        ttl = int(read("ttl", "3600"))
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ttl))
        self.reply(200, f'<AssumeRoleWithWebIdentityResponse xmlns="{NS}">'
                        "<AssumeRoleWithWebIdentityResult>"
                        f"<SubjectFromWebIdentityToken>system:serviceaccount:x:y</SubjectFromWebIdentityToken>"
                        f"<AssumedRoleUser><Arn>{escape(one('RoleArn'))}/{escape(session)}</Arn>"
                        "<AssumedRoleId>AROAFAKE:x</AssumedRoleId></AssumedRoleUser>"
                        f"<Credentials><SessionToken>sts-session-token</SessionToken>"
                        f"<SecretAccessKey>{secret}</SecretAccessKey>"
                        f"<Expiration>{exp}</Expiration>"
                        f"<AccessKeyId>{akid}</AccessKeyId></Credentials>"
                        "<Audience>sts.amazonaws.com</Audience>"
                        "</AssumeRoleWithWebIdentityResult>"
                        "<ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>"
                        "</AssumeRoleWithWebIdentityResponse>", session)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        if urlsplit(self.path).path != "/":
            return self.error(404, "NotFound", "no such path")
        self.handle_action(parse_qs(body))

    def do_GET(self):
        if urlsplit(self.path).path != "/":
            return self.error(404, "NotFound", "no such path")
        self.handle_action(parse_qs(urlsplit(self.path).query))


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    srv.daemon_threads = True
    print("ready", flush=True)
    srv.serve_forever()
