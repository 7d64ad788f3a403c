"""A real local HTTP server speaking the few GitHub REST endpoints `codeplan pr` uses.

    with FakeGitHub(token="ghp-test", prefix="/api/v3") as hub:
        ... GitHubClient(hub.api_url, "ghp-test") ...
        assert [r.method for r in hub.requests] == ["GET", "POST"]

It keeps pull requests (so a second run finds the open one), their labels, requested
reviewers and comments, and records every request.  A wrong token gets GitHub's 401 (whose
message echoes the token, to prove the client blanks it out); an unknown route a 404; a
second open PR from the same head a 422, as GitHub does.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from local_server import LocalServer


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass
class Pull:
    number: int
    head: str
    base: str
    title: str
    body: str
    draft: bool
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    team_reviewers: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


class FakeGitHub(LocalServer):
    def __init__(self, token: str, prefix: str = "", owner: str = "octo", repo: str = "shop"):
        self.token, self.prefix, self.slug = token, prefix.rstrip("/"), f"{owner}/{repo}"
        self.requests: list[Recorded] = []
        self.pulls: dict[int, Pull] = {}
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    @property
    def api_url(self) -> str:
        return f"{self.origin}{self.prefix}"

    def calls(self) -> list[tuple[str, str]]:
        """(method, path relative to the API root) of every request, in order."""
        return [(r.method, r.path.removeprefix(self.prefix)) for r in self.requests]

    def html_url(self, number: int) -> str:
        return f"https://github.example/{self.slug}/pull/{number}"

    def as_json(self, pull: Pull) -> dict[str, Any]:
        return {
            "number": pull.number,
            "html_url": self.html_url(pull.number),
            "state": pull.state,
            "draft": pull.draft,
            "title": pull.title,
            "body": pull.body,
            "head": {"ref": pull.head, "label": f"{self.slug.split('/')[0]}:{pull.head}"},
            "base": {"ref": pull.base},
        }

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        """(status, JSON) for a request whose token is right; `path` is below the prefix."""
        repo = f"/repos/{self.slug}"
        owner = self.slug.split("/")[0]
        if method == "GET" and path == f"{repo}/pulls":
            head = query.get("head", "")
            found = [
                self.as_json(p)
                for p in self.pulls.values()
                if f"{owner}:{p.head}" == head and p.state == query.get("state", "open")
            ]
            return 200, found
        if method == "POST" and path == f"{repo}/pulls":
            if any(p.head == body["head"] and p.state == "open" for p in self.pulls.values()):
                error = {"message": f"A pull request already exists for {owner}:{body['head']}."}
                return 422, {"message": "Validation Failed", "errors": [error]}
            number = len(self.pulls) + 1
            self.pulls[number] = Pull(
                number, body["head"], body["base"], body["title"], body["body"], body["draft"]
            )
            return 201, self.as_json(self.pulls[number])
        match = re.fullmatch(rf"{repo}/(pulls|issues)/(\d+)(/[a-z_]+)?", path)
        pull = self.pulls.get(int(match.group(2))) if match else None
        if match is None or pull is None:
            return 404, {"message": "Not Found"}
        where = (method, match.group(1), match.group(3))
        if where == ("PATCH", "pulls", None):
            for key in ("title", "body", "base", "state"):
                if key in body:
                    setattr(pull, key, body[key])
            return 200, self.as_json(pull)
        if where == ("POST", "issues", "/labels"):
            pull.labels += [n for n in body["labels"] if n not in pull.labels]
            return 200, [{"name": n} for n in pull.labels]
        if where == ("POST", "pulls", "/requested_reviewers"):
            pull.reviewers += body.get("reviewers", [])
            pull.team_reviewers += body.get("team_reviewers", [])
            return 201, self.as_json(pull)
        if where == ("POST", "issues", "/comments"):
            pull.comments.append(body["body"])
            return 201, {"id": len(pull.comments), "body": body["body"]}
        return 404, {"message": "Not Found"}


def _handler(hub: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            body = json.loads(raw) if raw else None
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            headers = {name.lower(): value for name, value in self.headers.items()}
            with hub._lock:
                hub.requests.append(Recorded(method, url.path, query, headers, body))
                given = headers.get("authorization", "")
                if given != f"Bearer {hub.token}":
                    status, payload = 401, {"message": f"Bad credentials: {given}"}
                elif not url.path.startswith(hub.prefix + "/"):
                    status, payload = 404, {"message": "Not Found"}
                else:
                    path = url.path[len(hub.prefix) :]
                    status, payload = hub.answer(method, path, query, body)
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
