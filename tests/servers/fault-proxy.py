#!/usr/bin/env python3
"""fault-proxy.py - an HTTP proxy for the storage tests that injects faults.

usage: fault-proxy.py PORT UPSTREAM_PORT LOG FAULTS

Forwards every request to 127.0.0.1:UPSTREAM_PORT unchanged (Host header
included, so SigV4 signatures still verify upstream) and appends
"METHOD PATH STATUS" to LOG. FAULTS is a comma-separated list of
METHOD:STATUS:COUNT: the first COUNT requests with that method get STATUS
(an S3 <Error> body; "reset" closes the connection instead; "200error" is
a 200 whose body is an <Error>, as CompleteMultipartUpload may answer)
without reaching the upstream server. METHOD+TEXT matches only requests
whose path holds TEXT. Example: PUT:503:2,GET:500:1,POST+uploadId:200error:1.
"""
import http.client
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, LOG, FAULTS = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()
faults = []
for spec in filter(None, FAULTS.split(",")):
    method, status, count = spec.split(":")
    faults.append([method, status, int(count)])


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


def take_fault(method, path):
    with lock:
        for f in faults:
            want, _, text = f[0].partition("+")
            if want == method and text in path and f[2] > 0:
                f[2] -= 1
                return f[1]
    return None


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        fault = take_fault(self.command, self.path)
        if fault == "reset":
            log(f"{self.command} {self.path} reset")
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "200error":
            payload = b"<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>"
            log(f"{self.command} {self.path} 200error")
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if fault:
            code = {"503": "SlowDown", "500": "InternalError"}.get(fault, "Injected")
            payload = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>injected by the test</Message></Error>".encode()
            log(f"{self.command} {self.path} {fault}")
            self.send_response(int(fault))
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        up = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=120)
        up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            up.putheader(k, v)
        up.endheaders(body if body else None)
        r = up.getresponse()
        data = r.read()
        log(f"{self.command} {self.path} {r.status}")
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        length = r.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        up.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    socketserver.TCPServer.allow_reuse_address = True
    srv = Server(("127.0.0.1", PORT), Proxy)
    print("ready", flush=True)
    srv.serve_forever()
