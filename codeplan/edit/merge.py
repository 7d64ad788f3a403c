"""Merging a whole-class answer to a sketch (or an outline) back into the file.

Each class-body statement of the answer is matched by name to a sketched member: an
unchanged member keeps its bytes, a folded member still folded in the answer gets only its
new signature and decorators over its original body, any other changed member is replaced
by the answer's text, new members are inserted, and dropped members are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from codeplan.edit.apply import MergePlan, Rejected, Splice
from codeplan.edit.indent import (
    candidates,
    clean_lines,
    indent_lines,
    leading_ws,
    same_text,
    shift_left,
)
from codeplan.edit.sketch import (
    DEFINITIONS,
    Sketch,
    SketchMember,
    definition_node,
    docstring_summary,
)
from codeplan.edit.syntax import describe_error, first_error, unwrap
from codeplan.graph.python import parse_python


def merge_sketch(sketch: Sketch, file: bytes, answer: str) -> MergePlan | Rejected | None:
    """The answer as a whole-class edit of `sketch`; None when it is not one (then it is
    the block alone), but never for an outline, whose folded text must not land verbatim."""
    if not sketch.made_from(file):
        raise ValueError(f"the sketch of {sketch.class_qualname} was made from another file")
    class_name = _short(sketch.class_qualname)
    if not sketch.is_outline and _short(sketch.target_qualname) == class_name:
        return None  # a nested class of the same name: the answer is the block itself
    indent = leading_ws(sketch.text)
    shape = _parse_answer(answer, indent, class_name)
    if shape is None and sketch.is_outline:
        return Rejected(
            f"answer the whole outline of class `{class_name}`, edited, under the same name; "
            "leave each member's body `...` unless you change it"
        )
    if shape is None:
        return None
    if shape.error is not None:
        return Rejected(f"the answer does not parse: {shape.error}")
    sketched = _shape("\n".join(shift_left(sketch.text.split("\n"), indent)).encode(), class_name)
    if sketched is None:
        raise ValueError(f"the sketch of {sketch.class_qualname} does not parse")
    return _plan(sketch, file, shape, sketched)


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
    if inner.type in DEFINITIONS:
        name = inner.child_by_field_name("name")
        body = inner.child_by_field_name("body")
        statements = [c for c in body.named_children if c.type != "comment"] if body else []
        folded = bool(statements) and len(statements) <= 2 and _is_ellipsis(statements[-1])
        if len(statements) == 2:
            folded = folded and docstring_summary(statements[0]) is not None
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
    # an outline's class is the block itself: there is no smaller answer to suggest
    instead = "" if sketch.is_outline else " or answer only the block"
    if [_dedented(p.text) for p in kept] != [_dedented(p.text) for p in unknown]:
        view = "outlined" if sketch.is_outline else "sketched,"
        return Rejected(
            "the answer changes class-level code that is not a member (a docstring, a "
            f"statement); keep it as {view}{instead}"
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
        return Rejected(f"the answer dropped {', '.join(dropped)}; keep all members{instead}")
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
        node = definition_node(root, sketch.region[0] + len(indent), sketch.region[1])
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
        node = definition_node(root, member.region[0] + len(indent), member.region[1])
        if node is not None:
            body = file[_colon(node) : member.region[1]].decode().replace("\r\n", "\n")
            return _moved(part, part.header, indent) + body
    return _moved(part, part.text, indent)


def _insertions(sketch: Sketch, answer: _Shape, new: list[_Part]) -> list[Splice]:
    """New members go right after the target, or at the class's end when the answer put
    them after every sketched member or the sketch is an outline (there is no target)."""
    target = next((m for m in sketch.members if m.qualname == sketch.target_qualname), None)
    model = target or (sketch.members[0] if sketch.members else None)
    fresh = {id(p) for p in new}
    known = [i for i, p in enumerate(answer.parts) if p.kind != "other" and id(p) not in fresh]
    last_known = max(known, default=-1)
    at: dict[int, list[str]] = {}
    for index, part in enumerate(answer.parts):
        if id(part) not in fresh:
            continue
        position = sketch.region[1]
        if target is not None and index <= last_known:
            position = target.region[1]
        # a class with no member yet: the answer's own indentation inside the class
        indent = leading_ws(model.text) if model else leading_ws(sketch.text) + part.indent
        gap = "\n" if part.kind == "field" else "\n\n"
        at.setdefault(position, []).append(gap + _moved(part, part.text, indent))
    return [(position, position, "".join(texts)) for position, texts in at.items()]
