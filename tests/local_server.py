"""A threaded HTTP server on 127.0.0.1 (a free port) for the tests' fake services: the
OpenAI-compatible endpoint and GitHub.  A context manager: serving inside the block."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TypeVar

Server = TypeVar("Server", bound="LocalServer")


class LocalServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # a short poll interval makes shutdown quick
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self: Server) -> Server:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.closing()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def closing(self) -> None:
        """Called first on exit (e.g. to cut short requests still waiting)."""
