"""fakehttp.py - what the fakes of AWS endpoints (fake-*.py) share: the
state folder through which a test drives and watches a fake, and a quiet
HTTP/1.1 handler that answers with a whole body."""
import os
from http.server import BaseHTTPRequestHandler


def reader(state):
    """read(NAME, DEFAULT): the stripped text of STATE/NAME, or DEFAULT."""
    def read(name, default=None):
        try:
            with open(os.path.join(state, name)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return default
    return read


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, status, data, ctype):
        if isinstance(data, str):
            data = data.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
