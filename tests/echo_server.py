"""An HTTP server on loopback that answers every request with what it received.

The live stack lets http nodes reach one loopback port (``echo_port``); tests share one
server there (the ``echo`` fixture of tests/conftest.py), each starting with no requests
recorded and, if it asks, a script of statuses to answer.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class EchoServer:
    """Answers ``{"method", "path", "headers", "body", "call"}`` (JSON; ``call`` counts from
    1) and keeps each request; the status is the next of ``statuses``, else 200."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self, *, statuses: list[int] | None = None) -> None:
        """Forget the requests so far; answer ``statuses`` next."""
        with self._lock:
            self.requests.clear()
            self.statuses[:] = statuses or []

    def start(self) -> EchoServer:
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": raw.decode("utf-8", "replace"),
                }
                with echo._lock:
                    echo.requests.append(request)
                    request["call"] = len(echo.requests)
                    status = echo.statuses.pop(0) if echo.statuses else 200
                body = json.dumps(request).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's)
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
