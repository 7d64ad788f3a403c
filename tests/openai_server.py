"""A real local HTTP server speaking OpenAI's chat-completions protocol, answering from a script.

    with ScriptedOpenAI([Fail(429, headers={"retry-after": "0.1"}), Reply("```\\nx = 1\\n```")]) as server:
        settings = LLMSettings(base_url=server.base_url, api_key="sk-test")
        ...
        assert len(server.requests) == 2

Each request takes the next item of the script; once it is used up, the `responder` (if any)
makes the item from the request's JSON body.  Without either, the server answers 500.
Items: `Reply` (a completion), `Fail` (an HTTP error), `Hang` (answer late), `Garbage` (any
body).  A responder may also return a plain string, meaning `Reply(that string)`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from local_server import LocalServer


@dataclass(frozen=True)
class Reply:
    """A completion whose message says `content` (None: a null content)."""

    content: str | None
    prompt_tokens: int = 100
    completion_tokens: int = 20
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Fail:
    """An HTTP error: `status`, an OpenAI-style error body unless given, extra headers."""

    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hang:
    """Wait `seconds` (longer than the client's timeout, usually), then send `then`."""

    seconds: float
    then: Reply = Reply("")


@dataclass(frozen=True)
class Garbage:
    """Send `raw_body` as is: invalid JSON, or JSON that is not a completion."""

    raw_body: str
    status: int = 200


Item = Reply | Fail | Hang | Garbage
Responder = Callable[[dict[str, Any]], Item | str]


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any] | None  # None when the body was not a JSON object

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))


class ScriptedOpenAI(LocalServer):
    """A context manager serving the script on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, script: Iterable[Item] = (), responder: Responder | None = None) -> None:
        self._script: deque[Item] = deque(script)
        self._responder = responder
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.requests: list[RecordedRequest] = []
        super().__init__(_handler_class(self))

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def add(self, *items: Item) -> None:
        """Append items to the script (also while serving)."""
        with self._lock:
            self._script.extend(items)

    def closing(self) -> None:
        self._closing.set()  # cuts short any Hang still sleeping

    def _next(self, body: dict[str, Any] | None) -> Item:
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self._responder is not None:
            item = self._responder(body or {})
            return Reply(item) if isinstance(item, str) else item
        return Fail(500, {"error": {"message": "ScriptedOpenAI: the script is used up"}})


def _handler_class(server: ScriptedOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else None
            headers = {name.lower(): value for name, value in self.headers.items()}
            with server._lock:
                server.requests.append(RecordedRequest(self.path, headers, body))
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            self._answer(server._next(body), body or {})

        def _answer(self, item: Item, body: dict[str, Any]) -> None:
            if isinstance(item, Hang):
                server._closing.wait(item.seconds)
                item = item.then
            if isinstance(item, Reply):
                self._send(200, _completion(item, str(body.get("model", "scripted"))))
            elif isinstance(item, Fail):
                error = {"error": {"message": f"scripted HTTP {item.status}", "type": "scripted"}}
                self._send(item.status, item.body if item.body is not None else error, item.headers)
            else:
                self._send_raw(item.status, item.raw_body.encode("utf-8"), {})

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._send_raw(status, json.dumps(payload).encode("utf-8"), headers or {})

        def _send_raw(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up waiting (a Hang); nobody is left to tell

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


def _completion(reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }
