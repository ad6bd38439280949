"""A web server on 127.0.0.1 serving test pages, redirects and misbehaviour, for the import tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAGES = Path(__file__).resolve().parent / "data" / "pages"


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    endless: bool = False  # stream bytes without a length until the client hangs up


class PageServer:
    """Use as a context manager; add routes, then fetch url(path). `requests` lists the paths asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.sent: dict[str, int] = {}  # bytes written per path (for an endless one: how far the client read)
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> PageServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def page(self, path: str, file_name: str) -> str:
        """Serve a page from tests/data/pages at path; return its URL."""
        self.routes[path] = Route((PAGES / file_name).read_bytes())
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.routes[path] = Route(status=status, headers={"Location": location})
        return self.url(path)

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        self.requests.append(request.path)
        route = self.routes.get(request.path)
        if route is None:
            request.send_error(404, "Not Found")
            return
        time.sleep(route.delay)
        try:
            request.send_response(route.status)
            request.send_header("Content-Type", route.content_type)
            for key, value in route.headers.items():
                request.send_header(key, value)
            if not route.endless:
                request.send_header("Content-Length", str(len(route.body)))
            request.end_headers()
            if not route.endless:
                request.wfile.write(route.body)
                return
            chunk = b"<p>" + b"x" * 65536 + b"</p>"
            sent = 0
            while sent < 200 * 1024 * 1024:  # a safety stop; the client is expected to hang up long before
                request.wfile.write(chunk)
                sent += len(chunk)
                self.sent[request.path] = sent
        except (BrokenPipeError, ConnectionResetError):
            pass
