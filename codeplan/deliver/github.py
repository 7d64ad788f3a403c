"""The GitHub REST API, only as much as opening a pull request needs.

All of CodePlan's HTTP to GitHub goes through `GitHubClient.request`; it speaks JSON over
the standard library's urllib (no extra dependency), so GitHub Enterprise works by giving
its API root (`https://HOST/api/v3`) as `api_url`.  The token travels only in the
Authorization header and is blanked out of every message an error carries.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codeplan.errors import DeliveryError

DEFAULT_API_URL = "https://api.github.com"
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
_API_VERSION = "2022-11-28"
_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")

# What each refusal usually means, so the user knows what to fix.
_HINTS = {
    401: "the token was rejected; check GITHUB_TOKEN (or GH_TOKEN)",
    403: "the token may lack the permission (pull requests and contents: write), "
    "or a rate limit was hit",
    404: "the repository does not exist at this API URL, or the token cannot see it",
    422: "GitHub refused the request as given",
}


@dataclass(frozen=True)
class GitHubClient:
    api_url: str
    token: str = field(repr=False)
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], api_url: str | None = None) -> GitHubClient:
        """The client for `api_url`, else GITHUB_API_URL, else github.com; the token from
        GITHUB_TOKEN or GH_TOKEN."""
        token = next((env[n] for n in TOKEN_VARIABLES if env.get(n)), "")
        if not token:
            raise DeliveryError(
                "no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token that may push and "
                "open pull requests in the repository"
            )
        url = (api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise DeliveryError(
                f"the GitHub API URL {url!r} is not an http(s) URL "
                "(GitHub Enterprise: https://HOST/api/v3)"
            )
        return cls(url, token)

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """The decoded JSON answer of `method path` (path from the API root, e.g.
        "/repos/o/r/pulls"); a `DeliveryError` for any error answer."""
        url = self.api_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("X-GitHub-Api-Version", _API_VERSION)
        request.add_header("User-Agent", "codeplan")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            raise self._refusal(method, path, error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DeliveryError(
                self._redact(f"cannot reach GitHub at {self.api_url}: {reason}")
            ) from None
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise DeliveryError(
                f"GitHub answered {method} {path} with something that is not JSON "
                f"(is {self.api_url} the API root? GitHub Enterprise: https://HOST/api/v3)"
            ) from None

    # -- the endpoints used -----------------------------------------------------------------

    def find_open_pull(self, repo: str, head: str) -> dict[str, Any] | None:
        """The open pull request from `head` ("owner:branch"), if there is one."""
        found = self.request(
            "GET", f"/repos/{repo}/pulls", query={"head": head, "state": "open", "per_page": "10"}
        )
        pulls = [p for p in found or [] if isinstance(p, dict)]
        return pulls[0] if pulls else None

    def create_pull(
        self, repo: str, *, head: str, base: str, title: str, body: str, draft: bool
    ) -> dict[str, Any]:
        payload = {"head": head, "base": base, "title": title, "body": body, "draft": draft}
        return _object(self.request("POST", f"/repos/{repo}/pulls", payload))

    def update_pull(self, repo: str, number: int, **fields: Any) -> dict[str, Any]:
        return _object(self.request("PATCH", f"/repos/{repo}/pulls/{number}", fields))

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        self.request("POST", f"/repos/{repo}/issues/{number}/labels", {"labels": list(labels)})

    def request_reviewers(self, repo: str, number: int, reviewers: Sequence[str]) -> None:
        """Users by login; teams as "org/team-slug"."""
        users = [r for r in reviewers if "/" not in r]
        teams = [r.split("/", 1)[1] for r in reviewers if "/" in r]
        self.request(
            "POST",
            f"/repos/{repo}/pulls/{number}/requested_reviewers",
            {"reviewers": users, "team_reviewers": teams},
        )

    def comment(self, repo: str, number: int, text: str) -> None:
        self.request("POST", f"/repos/{repo}/issues/{number}/comments", {"body": text})

    # -- errors -----------------------------------------------------------------------------

    def _refusal(self, method: str, path: str, error: urllib.error.HTTPError) -> DeliveryError:
        try:
            detail = json.loads(error.read() or b"{}")
        except (ValueError, OSError):
            detail = {}
        message = str(detail.get("message", "")) if isinstance(detail, dict) else ""
        extra = detail.get("errors", []) if isinstance(detail, dict) else []
        details = [
            str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
            for e in extra if e
        ]  # fmt: skip
        said = "; ".join(part for part in [message, *details] if part) or error.reason
        hint = _HINTS.get(error.code, "")
        text = f"GitHub refused {method} {path} (HTTP {error.code}): {said}"
        return DeliveryError(self._redact(text + (f" ({hint})" if hint else "")))

    def _redact(self, text: str) -> str:
        return text.replace(self.token, "[REDACTED]") if self.token else text


def repo_slug(url: str) -> str | None:
    """The "owner/name" of a GitHub remote URL (https, ssh:// or git@host:owner/name)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("http", "https", "ssh", "git", "git+ssh"):
        path = parts.path
    else:
        scp = _SCP_LIKE.match(url)
        if scp is None or "/" in scp.group("host"):
            return None
        path = scp.group("path")
    segments = [s for s in path.strip("/").removesuffix(".git").split("/") if s]
    return "/".join(segments[-2:]) if len(segments) >= 2 else None


def _object(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict) or not isinstance(answer.get("number"), int):
        raise DeliveryError("GitHub's answer about the pull request has no number")
    return answer
