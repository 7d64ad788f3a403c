"""Text and indentation helpers for fitting an editor's answer into a file.

Editors lose or change indentation: a reply may come back flush left, with only its first
line's indentation stripped, or with the file's CRLF newlines turned into LF.  These helpers
normalise such text and guess the answer's intended margin, so that both `apply_answer`
and the class-sketch merge read an answer the same way.  They know nothing of syntax: a
guess that turns out wrong is caught later by the parse check, which is why `candidates`
offers several readings rather than one.
"""

from __future__ import annotations

import re
from itertools import pairwise

_OPENERS = (":", "{")
_CLOSERS = (")", "]", "}")


def file_newline(file: bytes) -> str:
    crlf = file.count(b"\r\n")
    return "\r\n" if crlf > file.count(b"\n") - crlf else "\n"


def clean_lines(text: str) -> list[str]:
    """Lines with "\\n" newlines, whitespace-only lines emptied, outer blank lines dropped."""
    lines = [line if line.strip() else "" for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_lines(lines: list[str], indent: str) -> str:
    return "\n".join(indent + line if line else "" for line in lines)


def shift_left(lines: list[str], prefix: str) -> list[str]:
    """Remove `prefix` from the lines that start with it (the exact inverse of indenting,
    unlike a dedent that stops at a string literal's flush-left line)."""
    return [line[len(prefix) :] if line.startswith(prefix) else line for line in lines]


def reindent(answer: str, indent: str) -> str:
    """The answer dedented as a whole, then indented by `indent`.

    When the first line is less indented than all the others, its indentation was most
    likely stripped off (a `.strip()`ped reply): the margin is then inferred from the
    others, a closing bracket or the line after a decorator standing at the first line's
    level, and the body of a block opener one indentation step deeper.
    """
    lines = clean_lines(answer)
    if not lines:
        return ""
    rest = [line for line in lines[1:] if line]
    rest_margin = _common_prefix([leading_ws(line) for line in rest]) if rest else ""
    if rest and len(leading_ws(lines[0])) < len(rest_margin):
        siblings = any(
            leading_ws(line) == rest_margin and line.lstrip().startswith(_CLOSERS) for line in rest
        )
        if siblings or not _code(lines[0]).endswith(_OPENERS):
            cut = len(rest_margin)
        else:
            cut = max(0, len(rest_margin) - _step(rest, rest_margin))
        lines = [lines[0].lstrip(" \t")] + [line[cut:] for line in lines[1:]]
    else:
        margin = _common_prefix([leading_ws(line) for line in lines if line])
        lines = [line[len(margin) :] for line in lines]
    return indent_lines(lines, indent)


def _plain_reindent(answer: str, indent: str) -> str:
    lines = clean_lines(answer)
    margin = _common_prefix([leading_ws(line) for line in lines if line])
    return indent_lines([line[len(margin) :] for line in lines], indent)


def candidates(answer: str, indent: str) -> list[str]:
    """Readings of the answer at `indent`, likeliest first: verbatim when it already starts
    there, then re-indented, then plainly dedented (for hanging signatures)."""
    lines = clean_lines(answer)
    found = ["\n".join(lines)] if lines and leading_ws(lines[0]) == indent else []
    for text in (reindent(answer, indent), _plain_reindent(answer, indent)):
        if text not in found:
            found.append(text)
    return found


def same_text(a: str, b: str) -> bool:
    return [line.rstrip() for line in clean_lines(a)] == [line.rstrip() for line in clean_lines(b)]


def _common_prefix(values: list[str]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    size = 0
    while size < len(low) and low[size] == high[size]:
        size += 1
    return low[:size]


def _code(line: str) -> str:
    return re.sub(r"\s+(#|//).*$", "", line).rstrip()


def _step(rest: list[str], margin: str) -> int:
    steps = [
        len(leading_ws(b)) - len(leading_ws(a))
        for a, b in pairwise(rest)
        if _code(a).endswith(_OPENERS) and len(leading_ws(b)) > len(leading_ws(a))
    ]
    return min(steps) if steps else (1 if "\t" in margin else 4)
