"""The HTTP side of greeter: routes, JSON answers and the server loop (configured by environment variables)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from greeter import VERSION, greeting


class Handler(BaseHTTPRequestHandler):
    server_version = f"greeter/{VERSION}"

    def do_GET(self) -> None:
        if self.path == "/":
            self._answer(200, greeting(os.environ.get("APP_ENV", "dev")))
        elif self.path == "/healthz":
            self._answer(200, {"status": "ok"})
        else:
            self._answer(404, {"error": f"no page at {self.path}; try / or /healthz"})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def make_server(host: str = "0.0.0.0", port: int = 8080) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (port 0 picks a free one), not yet serving."""
    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    server = make_server(port=int(os.environ.get("PORT", "8080")))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"greeter {VERSION} listening on port {server.server_address[1]}", flush=True)
    server.serve_forever()
    server.server_close()
