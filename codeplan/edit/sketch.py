"""Class sketches: a method shown in its class, the other members' bodies folded to `...`.

The sketch gives the editor the class's shape (fields, signatures, docstrings' first lines)
without its bulk.  An outline is the same view of a class too long to send whole, with
every member folded.  An editor may answer with the sketch (or outline) edited rather than
with the block alone; `Sketch.merge` then maps the answer back onto the file member by
member (see edit/merge.py), so the bytes of everything the answer did not change stay
exactly as they were.  Python only: the folding marker `...` is Python syntax.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from codeplan.edit.apply import MergePlan, Rejected, Splice, edit_region
from codeplan.edit.indent import file_newline
from codeplan.edit.syntax import unwrap
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind, content_hash
from codeplan.graph.python import parse_python

DEFINITIONS = ("function_definition", "class_definition")


@dataclass(frozen=True)
class SketchMember:
    qualname: str
    kind: BlockKind
    folded: bool
    text: str  # as shown in the sketch, from the start of its first line
    region: tuple[int, int]  # the member's bytes in the file, from the start of its line


@dataclass(frozen=True)
class Sketch:
    text: str  # starts with the class's first line at its original indentation
    class_qualname: str
    target_qualname: str  # the class's own qualname for an outline
    members: tuple[SketchMember, ...]
    region: tuple[int, int]  # the class's bytes in the file, from the start of its line
    source_hash: str  # of those bytes, to refuse merging into another version of the file

    @property
    def is_outline(self) -> bool:
        """Every member folded: the class itself is the block being edited."""
        return self.target_qualname == self.class_qualname

    def made_from(self, file: bytes) -> bool:
        """Whether `file` still holds the class this sketch was made from, byte for byte."""
        return content_hash(file[self.region[0] : self.region[1]]) == self.source_hash

    def merge(self, file: bytes, answer: str) -> MergePlan | Rejected | None:
        """The answer as a whole-class edit of this sketch; None when it is not one."""
        # imported here: merge.py builds on this module's folding helpers
        from codeplan.edit.merge import merge_sketch

        return merge_sketch(self, file, answer)


def make_sketch(file: bytes, graph: CodeGraph, block: Block) -> Sketch | None:
    """The sketch of the class whose direct member `block` is; None for any other block."""
    if block.language != "python" or block.parent is None:
        return None
    owner = graph.get(block.parent)
    if owner is None or owner.kind is not BlockKind.CLASS:
        return None
    members = _direct_members(graph.children(owner.id))
    if block.id not in {member.id for member in members}:
        return None  # e.g. `self.x = ...` inside `__init__`: a statement, not a member
    return _folded(file, owner, members, block)


def can_outline(block: Block) -> bool:
    return block.language == "python" and block.kind is BlockKind.CLASS


def make_outline(file: bytes, graph: CodeGraph, block: Block) -> Sketch | None:
    """The class `block` with every member's body folded, for a class too long to send
    whole; None for any other block."""
    if not can_outline(block):
        return None
    return _folded(file, block, _direct_members(graph.children(block.id)), None)


def _folded(file: bytes, owner: Block, members: list[Block], target: Block | None) -> Sketch:
    """The class `owner` with every member but `target` (all of them when None) folded."""
    root = parse_python(file).root_node
    newline = file_newline(file)
    folds: list[Splice] = []
    shown: list[SketchMember] = []
    for member in members:
        kept = target is not None and member.id == target.id
        fold = None if kept else _fold(file, root, member, newline)
        region = edit_region(file, member)
        folds += [fold] if fold else []
        text = _render(file, region, [fold] if fold else [])
        shown.append(SketchMember(member.qualname, member.kind, fold is not None, text, region))
    region = edit_region(file, owner)
    return Sketch(
        text=_render(file, region, folds),
        class_qualname=owner.qualname,
        target_qualname=(target or owner).qualname,
        members=tuple(shown),
        region=region,
        source_hash=content_hash(file[region[0] : region[1]]),
    )


def _direct_members(children: list[Block]) -> list[Block]:
    members: list[Block] = []
    for child in sorted(children, key=lambda b: (b.start_byte, -b.end_byte)):
        if not members or child.start_byte >= members[-1].end_byte:
            members.append(child)
    return members


def definition_node(root: Node, start: int, end: int) -> Node | None:
    """The function or class definition spanning [start, end), decorators unwrapped."""
    node = root.descendant_for_byte_range(start, end)
    node = unwrap(node) if node is not None else None
    return node if node is not None and node.type in DEFINITIONS else None


def _fold(file: bytes, root: Node, member: Block, newline: str) -> Splice | None:
    node = definition_node(root, member.start_byte, member.end_byte)
    body = node.child_by_field_name("body") if node is not None else None
    if body is None:
        return None
    indent = file[file.rfind(b"\n", 0, body.start_byte) + 1 : body.start_byte]
    statements = [c for c in body.named_children if c.type != "comment"]
    docstring = docstring_summary(statements[0]) if statements and not indent.strip() else None
    folded = "..." if docstring is None else docstring + newline + indent.decode() + "..."
    if folded.encode() == file[body.start_byte : body.end_byte]:
        return None
    return body.start_byte, body.end_byte, folded


def docstring_summary(statement: Node) -> str | None:
    """The docstring's first line, still a valid string literal."""
    if statement.type != "expression_statement" or statement.named_child_count != 1:
        return None
    string = statement.named_children[0]
    text = (string.text or b"").decode("utf-8")
    if string.type != "string" or "\n" not in text:
        return text if string.type == "string" else None
    start, end = string.children[0], string.children[-1]
    opening, closing = (start.text or b"").decode(), (end.text or b"").decode()
    content = text[len(opening) : len(text) - len(closing)]
    summary = next((line.strip() for line in content.splitlines() if line.strip()), "")
    if summary.endswith(("\\", closing[-1:])):
        summary += " "  # the closing quotes must not merge with the text
    return opening + summary + closing


def _render(file: bytes, region: tuple[int, int], folds: list[Splice]) -> str:
    out, position = [], region[0]
    for start, end, text in sorted(folds):
        out += [file[position:start], text.encode()]
        position = end
    return b"".join([*out, file[position : region[1]]]).decode("utf-8")
