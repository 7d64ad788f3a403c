"""Commit messages: written by the LLM in the style of the repository's history, or built
deterministically from the plan when there is no model.

The model sees the diff (paths always, contents trimmed to a budget, lock/generated/binary
contents left out) and up to 20 recent human commit messages as style examples, and may be
asked to continue a prefix the user typed.  The history is the cheapest style guide there
is: prefix conventions ("module: ...", "fix(scope): ..."), tense, casing, length.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import git
import jinja2

from codeplan.deliver.difftrim import DIFF_BUDGET, FileDiff, parse_diff, trimmed_diff
from codeplan.plan.model import PlanGraph
from codeplan.resources import data_dir

__all__ = [
    "clean_message",
    "deterministic_message",
    "generate_message",
    "history_aware_prompt",
    "is_bot",
    "plain_prompt",
    "recent_messages",
]

Complete = Callable[[list[dict[str, str]]], str]

SUBJECT_LIMIT = 72
EXAMPLE_LIMIT = 600  # characters per style example: the subject and the start of the body
BODY_LINES = 40  # of a deterministic message
_BOT = re.compile(
    r"\[bot\]|dependabot|renovate|github-actions|pre-commit-ci|codeplan@localhost", re.IGNORECASE
)
_FIELD, _RECORD = "\x1f", "\x1e"
_FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})[\w-]*\s*$")
_LABEL = re.compile(r"^\s*(commit message|message|subject)\s*:\s*", re.IGNORECASE)
_QUOTES = ('"', "'", "`")


def recent_messages(repo: Path, n: int = 20, *, rev: str = "HEAD") -> list[str]:
    """The last `n` commit messages written by people on the first-parent history of `rev`
    (newest first): merges and bots (dependabot, renovate, github-actions, pre-commit-ci,
    any `[bot]`, CodePlan's own step commits) are left out, since they would teach their
    house style instead of the team's."""
    try:
        repository = git.Repo(repo, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return []  # not a repository: no history to learn the style from
    found: list[str] = []
    batch, skip = max(4 * n, 50), 0
    while len(found) < n:
        try:
            text: str = repository.git.log(
                rev, "--first-parent", "--no-merges", f"--max-count={batch}", f"--skip={skip}",
                f"--format=%an{_FIELD}%ae{_FIELD}%cn{_FIELD}%ce{_FIELD}%B{_RECORD}", "--",
            )  # fmt: skip
        except git.GitCommandError:
            return []  # no history (an unborn branch, a root commit's parent): no examples
        records = [r for r in text.split(_RECORD) if r.strip()]
        for record in records:
            *people, message = record.lstrip("\n").split(_FIELD)
            message = message.strip()
            if message and not is_bot(*people) and not message.startswith("Merge "):
                found.append(message)
        if len(records) < batch:
            break
        skip += batch
    return found[:n]


def is_bot(*people: str) -> bool:
    """Whether any of these names or e-mail addresses is a bot's (or CodePlan's own)."""
    return any(_BOT.search(person) for person in people)


def history_aware_prompt(
    diff: str, examples: Sequence[str], prefix: str | None = None, task: str | None = None
) -> list[dict[str, str]]:
    """Chat messages asking for a commit message for `diff` (already trimmed), in the style
    of `examples`, starting with `prefix` when given."""
    shown = [_shorten(e, EXAMPLE_LIMIT) for e in examples]
    fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", diff))])
    prompt = _template().render(
        examples=shown, diff=diff.rstrip("\n"), fence=fence, prefix=prefix or "", task=task or ""
    )
    return [{"role": "user", "content": prompt.strip() + "\n"}]


def plain_prompt(
    diff: str, prefix: str | None = None, task: str | None = None
) -> list[dict[str, str]]:
    """The same request without the history: the baseline the benchmark compares with."""
    return history_aware_prompt(diff, (), prefix, task)


def clean_message(answer: str, prefix: str | None = None) -> str:
    """The model's answer as a commit message: fences, labels and quotes stripped, starting
    with `prefix`, subject within 72 characters, body wrapped at 72."""
    lines = [line for line in answer.strip().splitlines() if not _FENCE_LINE.match(line)]
    text = "\n".join(lines).strip()
    text = _LABEL.sub("", text, count=1)
    if len(text) > 1 and text[0] == text[-1] and text[0] in _QUOTES:
        text = text[1:-1].strip()
    if prefix:
        text = _continue(prefix, text)
    subject, _, body = text.partition("\n")
    subject = _shorten_subject(subject.strip(), len(prefix or ""))
    paragraphs = [p for p in re.split(r"\n\s*\n", body.strip("\n")) if p.strip()]
    wrapped = "\n\n".join(_wrap(p) for p in paragraphs)
    return f"{subject}\n\n{wrapped}" if wrapped else subject


def _continue(prefix: str, text: str) -> str:
    """`text` made to start with `prefix`: as it is when it already does, else joined where
    the model's answer overlaps the prefix's end, else appended to it."""
    if text.lower().startswith(prefix.lower()):
        return prefix + text[len(prefix) :]
    stripped = prefix.rstrip()
    for size in range(min(len(stripped), len(text)), 2, -1):
        tail = stripped[-size:]
        # the overlap must start on a word boundary: "handle" in "fix: handle", not "dle"
        if text.lower().startswith(tail.lower()) and (
            size == len(stripped) or not stripped[-size - 1].isalnum()
        ):
            return stripped[: len(stripped) - size] + text
    if prefix[-1:].isspace() or not text:
        return prefix + text
    joiner = " " if prefix[-1].isalnum() or prefix[-1] in ":,;" else ""
    return prefix + joiner + text


def _shorten_subject(subject: str, keep: int) -> str:
    if len(subject) <= SUBJECT_LIMIT or keep >= SUBJECT_LIMIT:
        return subject
    cut = subject[: SUBJECT_LIMIT + 1].rsplit(" ", 1)[0]
    return (cut if len(cut) > max(keep, SUBJECT_LIMIT // 2) else subject[:SUBJECT_LIMIT]).rstrip(
        " ,;:-"
    )


def _wrap(paragraph: str) -> str:
    """Prose is re-wrapped; lists, indented code and trailers keep their lines."""
    lines = paragraph.splitlines()
    verbatim = any(
        line.startswith((" ", "\t", "-", "*", "+")) or re.match(r"^\d+[.)] |^[\w-]+: ", line)
        for line in lines
    )
    if verbatim:
        return "\n".join(line.rstrip() for line in lines)
    return textwrap.fill(" ".join(line.strip() for line in lines), SUBJECT_LIMIT)


def deterministic_message(task: str, plan: PlanGraph) -> str:
    """Subject from the task; body: the blocks changed, by file, each with why."""
    subject = _task_subject(task)
    why: dict[str, dict[str, str]] = {}
    for edit in sorted(plan.edits.values(), key=lambda e: (e.path, e.qualname, e.id)):
        obligation = plan.obligations.get(edit.obligation_id)
        cause = obligation.causes[0] if obligation is not None and obligation.causes else None
        reason = cause.reason if cause is not None else ""
        why.setdefault(edit.path, {}).setdefault(edit.qualname or "(module)", reason)
    body: list[str] = []
    for path, blocks in why.items():
        body.append(f"{path}:")
        body += [f"- {name}" + (f": {_shorten(r, 90)}" if r else "") for name, r in blocks.items()]
    if len(body) > BODY_LINES:
        rest = sum(len(blocks) for blocks in why.values()) - sum(
            1 for line in body[: BODY_LINES - 1] if line.startswith("- ")
        )
        body = [*body[: BODY_LINES - 1], f"... and {rest} more blocks"]
    return subject + ("\n\n" + "\n".join(body) if body else "")


def files_message(files: Sequence[FileDiff], task: str | None = None) -> str:
    """Without a plan or a model: subject from the task, else "Update <files>"; body: the
    files with their line counts."""
    paths = [f.path for f in files]
    if task:
        subject = _task_subject(task)
    elif len(paths) <= 3:
        subject = _shorten_subject("Update " + ", ".join(paths), 0)
    else:
        subject = f"Update {len(paths)} files"
    body = [f"- {f.path} (+{f.added} -{f.removed})" for f in files[:BODY_LINES]]
    if len(files) > BODY_LINES:
        body.append(f"... and {len(files) - BODY_LINES} more files")
    return subject + ("\n\n" + "\n".join(body) if len(files) > 1 or task else "")


def _task_subject(task: str) -> str:
    first = (task.strip().splitlines() or ["Update"])[0].strip()
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0].rstrip(".")
    return _shorten_subject(sentence[:1].upper() + sentence[1:], 0) or "Update"


def generate_message(
    complete: Complete | None,
    repo_root: Path,
    diff: str,
    *,
    prefix: str | None = None,
    task: str | None = None,
    plan: PlanGraph | None = None,
    examples: Sequence[str] | None = None,
    budget: int = DIFF_BUDGET,
) -> str:
    """The commit message for `diff`: from the model when `complete` is given (`examples`
    default to the repository's recent human messages), else from the plan, else from the
    diff's file list.  An empty answer from the model falls back the same way."""
    if complete is not None:
        if examples is None:
            examples = recent_messages(repo_root)
        answer = complete(history_aware_prompt(trimmed_diff(diff, budget), examples, prefix, task))
        message = clean_message(answer, prefix)
        if message.strip() and message.strip() != (prefix or "").strip():
            return message
    if plan is not None and plan.edits:
        text = deterministic_message(task or "Update the code", plan)
    else:
        text = files_message(parse_diff(diff), task)
    return clean_message(text, prefix) if prefix else text


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("prompts")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # diffs are not HTML
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("commit_message.j2")
