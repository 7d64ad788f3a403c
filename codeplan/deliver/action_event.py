"""What the GitHub Action is asked to do: whether an event should start a run, and its task.

The rules (mirrored by the `if:` of the example workflows, which saves starting a job, but
this is where they are enforced, because a workflow's condition is easy to loosen by mistake):

* `issues` / `labeled` with the trigger label: the task is the issue's title and body, so
  the issue's *author* must be trusted; an outsider's issue needs a maintainer's comment.
* `issue_comment` / `created` starting with `/codeplan`: the task is the rest of the
  comment, or the issue's (or pull request's) title and body when nothing follows; the
  *commenter* must be trusted, and by commenting vouches for the issue's text.
* any other event (workflow_dispatch, schedule...) acts only with a `task` input: whoever
  can edit the workflow is trusted already.

Trusted means an `author_association` of OWNER, MEMBER or COLLABORATOR; everyone else
(CONTRIBUTOR, FIRST_TIMER, NONE, bots...) is ignored, since the task steers an LLM that
pushes code to this repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRUSTED = ("OWNER", "MEMBER", "COLLABORATOR")
COMMAND = "/codeplan"
_COMMAND = re.compile(re.escape(COMMAND) + r"(?=\s|$)(?P<rest>.*)\Z", re.S)


@dataclass(frozen=True)
class Trigger:
    """Run `task`; comment back on `issue` (None: nowhere to comment)."""

    task: str
    issue: int | None
    why: str


@dataclass(frozen=True)
class Ignored:
    why: str


def load_event(path: str | None) -> dict[str, Any]:
    """The event payload GitHub wrote to GITHUB_EVENT_PATH ({} when there is none)."""
    if not path or not Path(path).is_file():
        return {}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def decide(
    event_name: str, event: Mapping[str, Any], task_input: str, label: str
) -> Trigger | Ignored:
    issue = _mapping(event.get("issue"))
    number = issue.get("number") if isinstance(issue.get("number"), int) else None
    if event_name == "issues":
        return _labelled(event, issue, number, task_input, label)
    if event_name == "issue_comment":
        return _commented(event, issue, number, task_input)
    if task_input.strip():
        return Trigger(task_input.strip(), number, f"the task input ({event_name or 'no event'})")
    return Ignored(f"a {event_name or 'missing'} event without a task input")


def _labelled(
    event: Mapping[str, Any],
    issue: Mapping[str, Any],
    number: int | None,
    task_input: str,
    label: str,
) -> Trigger | Ignored:
    added = str(_mapping(event.get("label")).get("name", ""))
    if event.get("action") != "labeled" or added.casefold() != label.casefold():
        return Ignored(f"issue event {event.get('action')!r} is not the label {label!r} added")
    who = _author(issue)
    association = str(issue.get("author_association", "NONE"))
    if association not in TRUSTED:
        return Ignored(
            f"issue #{number} was written by {who} ({association}), who is not an owner, "
            f"member or collaborator; a maintainer can comment `{COMMAND}` on it instead"
        )
    task = task_input.strip() or _issue_text(issue)
    if not task:
        return Ignored(f"issue #{number} has no text to use as the task")
    return Trigger(task, number, f"label {label!r} on issue #{number} by {who}")


def _commented(
    event: Mapping[str, Any], issue: Mapping[str, Any], number: int | None, task_input: str
) -> Trigger | Ignored:
    comment = _mapping(event.get("comment"))
    if event.get("action") != "created":
        return Ignored(f"comment event {event.get('action')!r} (only new comments count)")
    matched = _COMMAND.match(str(comment.get("body") or "").strip())
    if matched is None:
        return Ignored(f"the comment does not start with {COMMAND}")
    who = _author(comment)
    association = str(comment.get("author_association", "NONE"))
    if association not in TRUSTED:
        return Ignored(
            f"{COMMAND} by {who} ({association}), who is not an owner, member or collaborator"
        )
    task = task_input.strip() or matched.group("rest").strip() or _issue_text(issue)
    if not task:
        return Ignored(f"{COMMAND} with no task, on an issue without text")
    return Trigger(task, number, f"{COMMAND} by {who} on #{number}")


def _issue_text(issue: Mapping[str, Any]) -> str:
    title = str(issue.get("title") or "").strip()
    body = str(issue.get("body") or "").strip()
    return f"{title}\n\n{body}".strip()


def _author(item: Mapping[str, Any]) -> str:
    return str(_mapping(item.get("user")).get("login") or "someone")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
