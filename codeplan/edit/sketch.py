"""Class sketches: a method shown in its class, the other members' bodies folded to `...`.

The sketch gives the editor the class's shape (fields, signatures, docstrings' first lines)
without its bulk.  An editor may answer with the sketch edited rather than with the block
alone; `Sketch.merge` then maps the answer back onto the file member by member, so the
bytes of everything the answer did not change stay exactly as they were.  Python only: the
folding marker `...` is Python syntax.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from codeplan.edit.apply import MergePlan, Rejected, Splice, edit_region
from codeplan.edit.indent import (
    candidates,
    clean_lines,
    file_newline,
    indent_lines,
    leading_ws,
    same_text,
    shift_left,
)
from codeplan.edit.syntax import describe_error, first_error, unwrap
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind, content_hash
from codeplan.graph.python import parse_python

_DEFINITIONS = ("function_definition", "class_definition")


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
    target_qualname: str
    members: tuple[SketchMember, ...]
    region: tuple[int, int]  # the class's bytes in the file, from the start of its line
    source_hash: str  # of those bytes, to refuse merging into another version of the file

    def merge(self, file: bytes, answer: str) -> MergePlan | Rejected | None:
        """The answer as a whole-class edit of this sketch; None when it is not one."""
        return _merge(self, file, answer)


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
    root = parse_python(file).root_node
    newline = file_newline(file)
    folds: list[Splice] = []
    shown: list[SketchMember] = []
    for member in members:
        fold = None if member.id == block.id else _fold(file, root, member, newline)
        region = edit_region(file, member)
        folds += [fold] if fold else []
        text = _render(file, region, [fold] if fold else [])
        shown.append(SketchMember(member.qualname, member.kind, fold is not None, text, region))
    region = edit_region(file, owner)
    return Sketch(
        text=_render(file, region, folds),
        class_qualname=owner.qualname,
        target_qualname=block.qualname,
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


def _definition(root: Node, start: int, end: int) -> Node | None:
    node = root.descendant_for_byte_range(start, end)
    node = unwrap(node) if node is not None else None
    return node if node is not None and node.type in _DEFINITIONS else None


def _fold(file: bytes, root: Node, member: Block, newline: str) -> Splice | None:
    node = _definition(root, member.start_byte, member.end_byte)
    body = node.child_by_field_name("body") if node is not None else None
    if body is None:
        return None
    indent = file[file.rfind(b"\n", 0, body.start_byte) + 1 : body.start_byte]
    statements = [c for c in body.named_children if c.type != "comment"]
    docstring = _docstring(statements[0]) if statements and not indent.strip() else None
    folded = "..." if docstring is None else docstring + newline + indent.decode() + "..."
    if folded.encode() == file[body.start_byte : body.end_byte]:
        return None
    return body.start_byte, body.end_byte, folded


def _docstring(statement: Node) -> str | None:
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


# -- merging --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """A class-body statement of a parsed sketch or answer, in column-0 space."""

    name: str  # "" for statements that are not members (docstring, `pass`)
    kind: str  # "def", "class", "field" or "other"
    text: str  # from the start of its line
    indent: str
    header: str | None  # a definition's text up to its colon
    folded: bool


@dataclass(frozen=True)
class _Shape:
    header: str
    parts: tuple[_Part, ...]
    error: str | None


def _shape(source: bytes, class_name: str) -> _Shape | None:
    root = parse_python(source).root_node
    statements = [c for c in root.named_children if c.type != "comment"]
    if len(statements) != 1:
        return None
    node = unwrap(statements[0])
    name = node.child_by_field_name("name")
    body = node.child_by_field_name("body")
    if node.type != "class_definition" or name is None or body is None:
        return None
    if (name.text or b"").decode() != class_name:
        return None
    error = first_error(root)
    where = f"line {error.start_point[0] + 1}: {describe_error(error)}" if error else None
    colon = _colon(node)
    header = source[statements[0].start_byte : colon].decode()
    parts = [_part(source, c) for c in body.named_children if c.type != "comment"]
    return _Shape(header, tuple(parts), where)


def _colon(definition: Node) -> int:
    colons = [c.end_byte for c in definition.children if c.type == ":"]
    return colons[-1] if colons else definition.end_byte


def _part(source: bytes, node: Node) -> _Part:
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    text = source[line_start : node.end_byte].decode()
    indent = leading_ws(text)
    inner = unwrap(node)
    if inner.type in _DEFINITIONS:
        name = inner.child_by_field_name("name")
        body = inner.child_by_field_name("body")
        statements = [c for c in body.named_children if c.type != "comment"] if body else []
        folded = bool(statements) and len(statements) <= 2 and _is_ellipsis(statements[-1])
        if len(statements) == 2:
            folded = folded and _docstring(statements[0]) is not None
        header = source[line_start : _colon(inner)].decode()
        kind = "class" if inner.type == "class_definition" else "def"
        return _Part(_text(name), kind, text, indent, header, folded)
    if node.type == "expression_statement" and node.named_children:
        left = node.named_children[0].child_by_field_name("left")
        if node.named_children[0].type == "assignment" and left and left.type == "identifier":
            return _Part(_text(left), "field", text, indent, None, False)
    return _Part("", "other", text, indent, None, False)


def _is_ellipsis(statement: Node) -> bool:
    children = statement.named_children
    return statement.type == "expression_statement" and [c.type for c in children] == ["ellipsis"]


def _text(node: Node | None) -> str:
    return (node.text or b"").decode() if node is not None else ""


def _short(qualname: str) -> str:
    """The member's name: the graph numbers a repeated name (`v#2` for a property setter)."""
    return qualname.rsplit(".", 1)[-1].split("#", 1)[0]


def _dedented(text: str) -> str:
    lines = clean_lines(text)
    return "\n".join(shift_left(lines, leading_ws(lines[0]) if lines else ""))


def _moved(part: _Part, text: str, indent: str) -> str:
    """`text` (part of `part`) re-indented from the part's indentation to `indent`."""
    return indent_lines(shift_left(clean_lines(text), part.indent), indent)


def _parse_answer(answer: str, indent: str, class_name: str) -> _Shape | None:
    shapes = []
    for text in candidates(answer, indent):
        source = "\n".join(shift_left(text.split("\n"), indent)).encode()
        shape = _shape(source, class_name)
        if shape is not None and shape.error is None:
            return shape
        shapes += [shape] if shape is not None else []
    return shapes[0] if shapes else None


def _merge(sketch: Sketch, file: bytes, answer: str) -> MergePlan | Rejected | None:
    start, end = sketch.region
    if content_hash(file[start:end]) != sketch.source_hash:
        raise ValueError(f"the sketch of {sketch.class_qualname} was made from another file")
    class_name = _short(sketch.class_qualname)
    if _short(sketch.target_qualname) == class_name:
        return None  # a nested class of the same name: the answer is the block itself
    indent = leading_ws(sketch.text)
    shape = _parse_answer(answer, indent, class_name)
    if shape is None:
        return None
    if shape.error is not None:
        return Rejected(f"the answer does not parse: {shape.error}")
    sketched = _shape("\n".join(shift_left(sketch.text.split("\n"), indent)).encode(), class_name)
    if sketched is None:
        raise ValueError(f"the sketch of {sketch.class_qualname} does not parse")
    return _plan(sketch, file, shape, sketched)


def _plan(sketch: Sketch, file: bytes, answer: _Shape, sketched: _Shape) -> MergePlan | Rejected:
    shown = _match(list(sketch.members), list(sketched.parts))
    matched = _match(list(sketch.members), list(answer.parts))
    used = {id(p) for p in shown.values()}
    # statements the graph has no block for are compared, not merged
    unknown = [p for p in sketched.parts if id(p) not in used]
    names = {p.name for p in unknown if p.kind != "other"}
    taken = {id(p) for p in matched.values()}
    unmatched = [p for p in answer.parts if id(p) not in taken]
    kept = [p for p in unmatched if p.kind == "other" or p.name in names]
    if [_dedented(p.text) for p in kept] != [_dedented(p.text) for p in unknown]:
        return Rejected(
            "the answer changes class-level code that is not a member (a docstring, a "
            "statement); keep it as sketched, or answer only the block"
        )
    new = [p for p in unmatched if p.kind != "other" and p.name not in names]
    target = sketch.target_qualname
    renames: tuple[tuple[str, str], ...] = ()
    same_kind = [p for p in new if target in shown and p.kind == shown[target].kind]
    if target not in matched and len(same_kind) == 1:  # the answer renamed the target
        matched[target] = same_kind[0]
        new = [p for p in new if p is not same_kind[0]]
        renames = ((target, f"{sketch.class_qualname}.{same_kind[0].name}"),)
    dropped = [f"`{_short(m.qualname)}`" for m in sketch.members if m.qualname not in matched]
    if dropped:
        return Rejected(
            f"the answer dropped {', '.join(dropped)}; keep all members or answer only the block"
        )
    root = parse_python(file).root_node
    splices: list[Splice] = []
    edited: list[str] = []
    for member in sketch.members:
        part, before = matched[member.qualname], shown.get(member.qualname)
        if before is not None and same_text(_dedented(part.text), _dedented(before.text)):
            continue
        if before is not None and part.kind != before.kind:
            return Rejected(
                f"the answer turns `{part.name}` from a {before.kind} into a {part.kind}; "
                "keep each member's kind"
            )
        splices.append((*member.region, _member_text(file, root, member, part)))
        edited.append(member.qualname)
    splices += _insertions(sketch, answer, new)
    edited += [f"{sketch.class_qualname}.{p.name}" for p in new]
    if not same_text(answer.header, sketched.header):
        indent = leading_ws(sketch.text)
        node = _definition(root, sketch.region[0] + len(indent), sketch.region[1])
        if node is not None:
            header = indent_lines(clean_lines(answer.header), indent)
            splices.append((sketch.region[0], _colon(node), header))
            edited.append(sketch.class_qualname)
    return MergePlan(tuple(splices), tuple(edited), renames)


def _match(members: list[SketchMember], parts: list[_Part]) -> dict[str, _Part]:
    """Members to parts of the same name, in order (a property's getter and setter)."""
    matched: dict[str, _Part] = {}
    free = [p for p in parts if p.kind != "other"]
    for member in members:
        found = next((p for p in free if p.name == _short(member.qualname)), None)
        if found is not None:
            matched[member.qualname] = found
            free = [p for p in free if p is not found]
    return matched


def _member_text(file: bytes, root: Node, member: SketchMember, part: _Part) -> str:
    """The part's text for the member's place; only its new signature when both the
    sketch and the answer fold its body."""
    indent = leading_ws(member.text)
    if member.folded and part.folded and part.header is not None:
        node = _definition(root, member.region[0] + len(indent), member.region[1])
        if node is not None:
            body = file[_colon(node) : member.region[1]].decode().replace("\r\n", "\n")
            return _moved(part, part.header, indent) + body
    return _moved(part, part.text, indent)


def _insertions(sketch: Sketch, answer: _Shape, new: list[_Part]) -> list[Splice]:
    """New members go right after the target, or at the class's end when the answer put
    them after every sketched member."""
    target = next(m for m in sketch.members if m.qualname == sketch.target_qualname)
    indent = leading_ws(target.text)
    fresh = {id(p) for p in new}
    known = [i for i, p in enumerate(answer.parts) if p.kind != "other" and id(p) not in fresh]
    last_known = max(known, default=-1)
    at: dict[int, list[str]] = {}
    for index, part in enumerate(answer.parts):
        if id(part) not in fresh:
            continue
        position = sketch.region[1] if index > last_known else target.region[1]
        gap = "\n" if part.kind == "field" else "\n\n"
        at.setdefault(position, []).append(gap + _moved(part, part.text, indent))
    return [(position, position, "".join(texts)) for position, texts in at.items()]
