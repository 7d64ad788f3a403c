"""The diff a commit-message prompt shows the model, trimmed to a character budget.

A unified git diff is parsed into its files (`parse_diff`); `trimmed_diff` keeps every
file's header but leaves out lock, generated and binary contents and minified hunks (a
note says what was left out), and shares the room left fairly, so one large file cannot
crowd the others out of the prompt.  Kept apart from codeplan/deliver/messages.py because
it is plain text work on diffs, with no git, templates or model involved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DIFF_BUDGET", "LOCK_NAMES", "FileDiff", "parse_diff", "trimmed_diff"]

DIFF_BUDGET = 12_000  # characters of diff shown to the model
LOCK_NAMES = frozenset(
    {"poetry.lock", "uv.lock", "package-lock.json", "yarn.lock", "Pipfile.lock",
     "pnpm-lock.yaml", "npm-shrinkwrap.json", "go.sum"}
)  # fmt: skip
_GENERATED = re.compile(
    r"(\.min\.(js|css)|\.map|_pb2(_grpc)?\.pyi?|\.pb\.go|\.snap)$|(^|/)(__snapshots__|dist)/"
)
_GENERATED_MARK = re.compile(r"@generated|DO NOT EDIT|auto-?generated", re.IGNORECASE)
_LONG_LINE = 400  # a hunk with longer lines is minified or data, not something to read


@dataclass(frozen=True)
class FileDiff:
    path: str
    header: tuple[str, ...]  # "diff --git", mode, rename and ---/+++ lines ("index" dropped)
    hunks: tuple[tuple[str, ...], ...]  # each: its "@@" line, then its lines
    added: int
    removed: int
    binary: bool

    @property
    def hidden(self) -> str | None:
        """Why the contents are not worth showing, if they are not."""
        name = self.path.rsplit("/", 1)[-1]
        if self.binary:
            return "binary file"
        if name in LOCK_NAMES or name.endswith(".lock"):
            return "lock file"
        head = [line for hunk in self.hunks[:1] for line in hunk[1:8]]
        if _GENERATED.search(self.path) or any(_GENERATED_MARK.search(line) for line in head):
            return "generated file"
        return None


def parse_diff(text: str) -> list[FileDiff]:
    """The files of a unified git diff (`git diff`, `git show --format=`)."""
    sections: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("diff --git "):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
    return [_file_diff(section) for section in sections]


def _file_diff(lines: list[str]) -> FileDiff:
    start = next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines))
    header = [line for line in lines[:start] if not line.startswith("index ")]
    hunks: list[list[str]] = []
    for line in lines[start:]:
        if line.startswith("@@"):
            hunks.append([line])
        elif hunks:
            hunks[-1].append(line)
    body = lines[start:]
    return FileDiff(
        path=_path(header),
        header=tuple(header),
        hunks=tuple(tuple(hunk) for hunk in hunks),
        added=sum(1 for line in body if line.startswith("+")),
        removed=sum(1 for line in body if line.startswith("-")),
        binary=any(line.startswith(("Binary files ", "GIT binary patch")) for line in lines),
    )


def _path(header: list[str]) -> str:
    for marker in ("+++ b/", "--- a/", "rename to ", "copy to "):
        for line in header:
            if line.startswith(marker):
                return line[len(marker) :].strip()
    # no ---/+++ (mode change, binary): "diff --git a/p b/p" with p twice
    names = header[0][len("diff --git ") :]
    half = (len(names) - 1) // 2
    return names[half + 1 :].removeprefix("b/") if half > 0 else names


def trimmed_diff(diff_text: str, budget_chars: int = DIFF_BUDGET) -> str:
    """`diff_text` cut to about `budget_chars`: every file's header is kept, lock, generated
    and binary contents and minified hunks are left out (a note says so), and the room
    left is shared evenly, so one large file cannot crowd the others out."""
    files = parse_diff(diff_text)
    heads: list[list[str]] = []
    bodies: list[list[tuple[str, ...]]] = []
    for file in files:
        head = list(file.header)
        if file.hidden:
            head.append(f"[{file.hidden}: +{file.added} -{file.removed} lines not shown]")
        heads.append(head)
        bodies.append([] if file.hidden else [_readable(hunk) for hunk in file.hunks])
    room = budget_chars - sum(len(line) + 1 for head in heads for line in head)
    sizes = [sum(_size(hunk) for hunk in body) for body in bodies]
    out: list[str] = []
    for head, body, share in zip(heads, bodies, _fair_shares(sizes, max(room, 0)), strict=True):
        out += head
        hunk_shares = _fair_shares([_size(hunk) for hunk in body], share)
        for hunk, hunk_share in zip(body, hunk_shares, strict=True):
            out += _cut(hunk, hunk_share)
    return "\n".join(out) + ("\n" if out else "")


def _readable(hunk: tuple[str, ...]) -> tuple[str, ...]:
    if any(len(line) > _LONG_LINE for line in hunk[1:]):
        return (hunk[0], f"[minified or very long lines: {len(hunk) - 1} lines not shown]")
    return hunk


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _fair_shares(sizes: Sequence[int], budget: int) -> list[int]:
    """Water-filling: the small get all they need, the large split what is left evenly."""
    shares = [0] * len(sizes)
    left = budget
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    for rank, index in enumerate(order):
        shares[index] = min(sizes[index], left // (len(sizes) - rank))
        left -= shares[index]
    return shares


def _cut(hunk: tuple[str, ...], share: int) -> list[str]:
    """The hunk within `share` characters: whole if it fits, else its "@@" line and the
    changed lines (context goes first), then a note of what was cut."""
    if _size(hunk) <= share:
        return list(hunk)
    changed = [line for line in hunk[1:] if line.startswith(("+", "-"))]
    kept: list[str] = [hunk[0]]
    used = len(hunk[0]) + 1
    for line in changed:
        if used + len(line) + 1 > share:
            break
        kept.append(line)
        used += len(line) + 1
    kept.append(f"[... {len(hunk) - len(kept)} more lines]")
    return kept
