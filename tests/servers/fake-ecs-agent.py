#!/usr/bin/env python3
"""fake-ecs-agent.py - the ECS agent's task scale-in protection endpoint.

usage: fake-ecs-agent.py PORT STATE_DIR

The one piece of the ECS agent duckmig calls: PUT
/task-protection/v1/state with {"ProtectionEnabled": bool,
"ExpiresInMinutes": n}. Each accepted request's body is appended, one
JSON line, to STATE_DIR/protection. While STATE_DIR/fail exists the
agent answers 500 with the agent's error shape (and records nothing),
as when the ECS API behind it refuses. Anything else is 404 / 400.
"""
import json
import os
import sys
import time
from http.server import ThreadingHTTPServer

import fakehttp

PORT, STATE = int(sys.argv[1]), sys.argv[2]
TASK = "arn:aws:ecs:us-east-1:000000000000:task/duckmig/0123456789abcdef"


class Handler(fakehttp.Handler):
    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_body(status, data, "application/json")

    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.path != "/task-protection/v1/state":
            return self.reply(404, {"error": {"Code": "NotFound"}})
        try:
            body = json.loads(raw)
        except ValueError:
            return self.reply(400, {"error": {"Code": "InvalidParameterException",
                                              "Message": "not JSON"}})
        if (self.headers.get("Content-Type") != "application/json"
                or not isinstance(body.get("ProtectionEnabled"), bool)):
            return self.reply(400, {"error": {"Code": "InvalidParameterException",
                                              "Message": "ProtectionEnabled is required"}})
        if os.path.exists(os.path.join(STATE, "fail")):
            return self.reply(500, {"error": {"Arn": TASK, "Code": "ServerException",
                                              "Message": "the ECS API is unavailable"}})
        with open(os.path.join(STATE, "protection"), "a") as f:
            f.write(json.dumps(body, sort_keys=True) + "\n")
        on = body["ProtectionEnabled"]
        minutes = body.get("ExpiresInMinutes", 120)
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(time.time() + 60 * minutes)) if on else None
        self.reply(200, {"protection": {"ExpirationDate": exp,
                                        "ProtectionEnabled": on, "TaskArn": TASK}})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print("ready", flush=True)
    server.serve_forever()
