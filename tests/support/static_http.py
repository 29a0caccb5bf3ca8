"""A small real HTTP server on 127.0.0.1 for tests of URL sources.

Each route (path plus query, exactly as requested) answers with a scripted sequence of replies;
the last reply repeats. So "500 twice, then 200" or "429 with Retry-After, then 200" is one
line of test setup, and the test can read back which paths were requested and how often.
Unknown paths get 404.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str | bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain; charset=utf-8"


class StaticHTTPServer:
    """`with StaticHTTPServer() as server: server.route('/x', Reply(...)); server.url('/x')`."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.user_agents: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        # A short poll interval so that shutting the server down at the end of a test is quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def route(self, path: str, *replies: Reply) -> str:
        """Script the replies to `path` (with its query string); returns its full URL."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self._routes[path] = list(replies)
        return self.url(path)

    def route_file(self, path: str, file: Path, content_type: str) -> str:
        """Serve a fixture file's bytes at `path`; returns its full URL."""
        return self.route(path, Reply(body=file.read_bytes(), content_type=content_type))

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def _next_reply(self, path: str, user_agent: str) -> Reply:
        with self._lock:
            self.hits[path] += 1
            self.user_agents.append(user_agent)
            replies = self._routes.get(path)
            if not replies:
                return Reply(status=404, body=b"not found")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = server._next_reply(self.path, self.headers.get("User-Agent", ""))
                body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet; `hits` records what was asked

        return Handler

    def __enter__(self) -> StaticHTTPServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
