"""Splicing an editor's answer into a file, or saying why it cannot be.

The planner gives the editor a block's text from the start of its first line and gets back
new text that may be indented differently (flush left, or with only the first line's
indentation stripped).  `apply_answer` re-indents it, splices it over exactly the block's
region and accepts the result only when the whole file still parses and the answer has the
block's shape.  A rejection's reason is addressed to the editor, which retries with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from codeplan.edit.indent import candidates, file_newline, leading_ws, same_text
from codeplan.edit.syntax import (
    DEF_KINDS,
    bare_name,
    category,
    node_name,
    parse,
    region_nodes,
    shape_problem,
    syntax_problem,
)
from codeplan.graph.model import Block

if TYPE_CHECKING:
    from codeplan.edit.sketch import Sketch


@dataclass(frozen=True)
class Applied:
    new_file: bytes
    edited_qualnames: tuple[str, ...]
    # (old qualname, new qualname) for definitions the answer renamed
    renames: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rejected:
    reason: str  # feedback for the editor's retry


@dataclass(frozen=True)
class Unchanged:
    pass


ApplyOutcome: TypeAlias = "Applied | Rejected | Unchanged"

Splice = tuple[int, int, str]  # replace file bytes [start, end) by text ("\n" newlines)


@dataclass(frozen=True)
class MergePlan:
    """How a whole-class answer to a sketch changes the file."""

    splices: tuple[Splice, ...]
    edited_qualnames: tuple[str, ...]
    renames: tuple[tuple[str, str], ...] = ()


# -- regions and text ---------------------------------------------------------------------


def edit_region(file: bytes, block: Block) -> tuple[int, int]:
    """The block's bytes from the start of its first line, so the answer carries its own
    indentation; from the block itself when code precedes it on that line."""
    line_start = file.rfind(b"\n", 0, block.start_byte) + 1
    prefix = file[line_start : block.start_byte]
    return (block.start_byte if prefix.strip() else line_start), block.end_byte


def block_text(file: bytes, block: Block) -> str:
    start, end = edit_region(file, block)
    return file[start:end].decode("utf-8")


# -- applying -------------------------------------------------------------------------------


def delete_block(file: bytes, block: Block) -> Applied | Rejected:
    """`file` with the block's lines removed, and the blank lines before them, so the code
    around keeps its own spacing; rejected when other code shares the block's lines or the
    file would not parse without it."""
    start, end = edit_region(file, block)
    line_end = file.find(b"\n", end)
    end = len(file) if line_end == -1 else line_end + 1
    if start != file.rfind(b"\n", 0, start) + 1 or file[block.end_byte : end].strip():
        return Rejected("other code shares its lines")
    while start > 0:
        previous = file.rfind(b"\n", 0, start - 1) + 1
        if file[previous:start].strip():
            break
        start = previous
    new_file = file[:start] + file[end:]
    problem = syntax_problem(block, file, new_file, (start, start), "deleting it")
    return Rejected(problem) if problem is not None else Applied(new_file, (block.qualname,))


def splice(file: bytes, splices: list[Splice]) -> bytes:
    newline = file_newline(file)
    out, position = [], 0
    for start, end, text in sorted(splices):
        out += [file[position:start], text.replace("\n", newline).encode("utf-8")]
        position = end
    return b"".join([*out, file[position:]])


def apply_answer(
    file: bytes, block: Block, answer: str, *, sketch: Sketch | None = None
) -> ApplyOutcome:
    if not answer.strip():
        return Rejected(
            "the answer is empty; deleting a block is not supported: answer the block's full "
            "new text, or nothing at all to leave it unchanged"
        )
    start, end = edit_region(file, block)
    current = file[start:end].decode("utf-8")
    if same_text(answer, current):
        return Unchanged()
    if sketch is not None:
        merged = sketch.merge(file, answer)
        if merged is not None:
            return _apply_merge(file, block, merged)
    indent = leading_ws(current) if start < block.start_byte else ""
    # a module's region ends with the file's last newline, which the answer has lost
    trailing = current[len(current.rstrip()) :].replace("\r\n", "\n")
    reasons: list[str] = []
    for reading in _readings(file, start, answer):
        for text in candidates(reading, indent):
            if same_text(text, current):
                return Unchanged()
            outcome = _try_candidate(file, block, (start, end), text + trailing)
            if not isinstance(outcome, Rejected):
                return outcome
            reasons.append(outcome.reason)
    return Rejected(reasons[0])


def _readings(file: bytes, start: int, answer: str) -> list[str]:
    """The answer, and first without the code that precedes a block on its line (`export `
    before a function) when the answer repeats it."""
    line_start = file.rfind(b"\n", 0, start) + 1
    prefix = file[line_start:start].decode("utf-8").strip()
    text = answer.lstrip()
    if prefix and text.startswith(prefix):
        return [text[len(prefix) :].lstrip(" \t"), answer]
    return [answer]


def _try_candidate(file: bytes, block: Block, region: tuple[int, int], text: str) -> ApplyOutcome:
    new_file = splice(file, [(region[0], region[1], text)])
    new_region = (region[0], len(new_file) - (len(file) - region[1]))
    problem = syntax_problem(block, file, new_file, new_region)
    if problem is not None:
        return Rejected(problem)
    tree = parse(block.language, block.path, new_file)
    nodes = region_nodes(tree.root_node, *new_region)
    problem = shape_problem(block, nodes)
    if problem is not None:
        return Rejected(problem)
    renames: tuple[tuple[str, str], ...] = ()
    if block.kind in DEF_KINDS:
        new_name = node_name(next(n for n in nodes if category(n) != "statement"))
        if new_name and new_name != bare_name(block):
            renames = ((block.qualname, _renamed(block.qualname, new_name)),)
    return Applied(new_file, (block.qualname,), renames)


def _renamed(qualname: str, name: str) -> str:
    return qualname.rsplit(".", 1)[0] + "." + name if "." in qualname else name


def _apply_merge(file: bytes, block: Block, merged: Rejected | MergePlan) -> ApplyOutcome:
    if isinstance(merged, Rejected):
        return merged
    if not merged.splices:
        return Unchanged()
    new_file = splice(file, list(merged.splices))
    first = min(s[0] for s in merged.splices)
    region = (first, len(new_file) - (len(file) - max(s[1] for s in merged.splices)))
    problem = syntax_problem(block, file, new_file, region, "the merged class")
    if problem is not None:
        return Rejected(problem)
    return Applied(new_file, merged.edited_qualnames, merged.renames)
