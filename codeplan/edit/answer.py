"""Read a model's answer: the edited block's text, or None for "no change".

Never raises: a garbled answer comes back as text, the safe apply rejects it, and the planner
asks again with that rejection as feedback.  That is one path for every kind of bad answer.
"""

from __future__ import annotations

import re

# "NO CHANGE", "no_change.", "**No change**", "`NO-CHANGE`": the words, alone on their line
_NO_CHANGE = re.compile(r"[\W_]*no[\s_-]*change[\W_]*", re.IGNORECASE)
_OPENING = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[^`]*$")
# reasoning models served locally may prefix their answer with their thoughts
_THINKING = re.compile(r"^\s*<think>.*?</think>", re.DOTALL | re.IGNORECASE)


def parse_answer(text: str) -> str | None:
    """The block's new text from a model's answer, or None when it says the block needs none.

    The answer is the content of its fenced code block (the largest, when there are
    several); without a fence, the answer's text itself.  An answer whose only code is the
    words NO CHANGE, or whose first line says just that and that has no code block after,
    means no change.
    """
    text = _THINKING.sub("", text, count=1)
    blocks = _fenced_blocks(text)
    if blocks:
        largest = max(blocks, key=len)  # max keeps the first of equals
        return None if _says_no_change(largest) else _strip_blank_lines(largest)
    bare = _strip_blank_lines(text)
    first_line = bare.split("\n", 1)[0]
    if _says_no_change(first_line):
        return None
    return bare


def _says_no_change(text: str) -> bool:
    return _NO_CHANGE.fullmatch(text.strip()) is not None


def _fenced_blocks(text: str) -> list[str]:
    """The contents of the ``` or ~~~ fenced blocks; an unclosed last one runs to the end."""
    blocks: list[str] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = _OPENING.match(lines[index].rstrip("\r"))
        index += 1
        if opening is None:
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        content: list[str] = []
        while index < len(lines) and not closing.match(lines[index].rstrip("\r")):
            content.append(lines[index].rstrip("\r"))
            index += 1
        index += 1  # past the closing fence
        blocks.append("\n".join(content))
    return blocks


def _strip_blank_lines(text: str) -> str:
    """`text` without its leading and trailing blank lines (the first line keeps its indent)."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


_TRIAGE_LINE = re.compile(r"^\W*change\W*:(?P<rest>.*)$", re.IGNORECASE | re.MULTILINE)
_NUMBER = re.compile(r"\b\d+\b")
_NONE = re.compile(r"\bnone\b", re.IGNORECASE)


def parse_triage(text: str, count: int) -> frozenset[int] | None:
    """The candidates (numbered from 1) a triage answer says need a change, from its last
    `CHANGE: 1, 3` or `CHANGE: NONE` line; None when the answer has no such line, so the
    caller keeps every candidate rather than guess."""
    text = _THINKING.sub("", text, count=1)
    lines = list(_TRIAGE_LINE.finditer(text))
    if not lines:
        return None
    rest = lines[-1]["rest"]
    numbers = [int(n) for n in _NUMBER.findall(rest)]
    if not numbers:
        return frozenset() if _NONE.search(rest) else None
    return frozenset(n for n in numbers if 1 <= n <= count)
