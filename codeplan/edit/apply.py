"""Splicing an editor's answer into a file, or saying why it cannot be.

The planner gives the editor a block's text from the start of its first line and gets back
new text that may be indented differently (flush left, or with only the first line's
indentation stripped).  `apply_answer` re-indents it, splices it over exactly the block's
region and accepts the result only when the whole file still parses and the answer has the
block's shape.  A rejection's reason is addressed to the editor, which retries with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, TypeAlias

import libcst
from tree_sitter import Language, Node, Parser, Tree

from codeplan.graph.generic import LANGUAGE_SPECS
from codeplan.graph.model import Block, BlockKind
from codeplan.graph.python import parse_python

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


_DEF_KINDS = {
    BlockKind.FUNCTION: "function",
    BlockKind.METHOD: "function",
    BlockKind.CLASS: "class",
}
_CLASS_TYPES = frozenset(
    {
        "class_definition",
        "class_declaration",
        "abstract_class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
        "type_alias_declaration",
    }
)
_FUNCTION_TYPES = frozenset(
    {
        "function_definition",
        "function_declaration",
        "generator_function_declaration",
        "method_definition",
        "method_declaration",
        "constructor_declaration",
        "compact_constructor_declaration",
        "abstract_method_signature",
        "method_signature",
        "function_signature",
    }
)
# Containers a region may cover whole (a class body holding only the edited method).
_TRANSPARENT = frozenset(
    {"module", "program", "block", "class_body", "statement_block", "declaration_list"}
    | {"interface_body", "enum_body", "enum_body_declarations", "annotation_type_body"}
)
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_OPENERS = (":", "{")
_CLOSERS = (")", "]", "}")


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


# -- parsing --------------------------------------------------------------------------------


@cache
def _generic_parser(language: str, extension: str) -> Parser:
    for spec in LANGUAGE_SPECS:
        if spec.language == language:
            grammars = dict(spec.grammars)
            loader = grammars.get(extension, spec.grammars[0][1])
            return Parser(Language(loader()))
    raise ValueError(f"no parser for language {language!r}")


def parse(language: str, path: str, source: bytes) -> Tree:
    if language == "python":
        return parse_python(source)
    extension = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    return _generic_parser(language, extension).parse(source)


def first_error(node: Node, within: tuple[int, int] | None = None) -> Node | None:
    """The first ERROR or MISSING node, in document order (optionally touching `within`)."""
    if within is not None and (node.end_byte < within[0] or node.start_byte > within[1]):
        return None
    if node.is_error or node.is_missing:
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = first_error(child, within)
        if found is not None:
            return found
    return None


def describe_error(node: Node) -> str:
    if node.is_missing:
        return f"missing `{node.type}`"
    text = (node.text or b"").decode("utf-8", "replace").strip().split("\n")[0][:60]
    return f"unexpected `{text}`" if text else "unexpected end of input"


def unwrap(node: Node) -> Node:
    """The definition inside a decorator or an export."""
    for wrapper, field in (
        ("decorated_definition", "definition"),
        ("export_statement", "declaration"),
    ):
        if node.type == wrapper:
            inner = node.child_by_field_name(field)
            return inner if inner is not None else node
    return node


def category(node: Node) -> str:
    node = unwrap(node)
    if node.type in _CLASS_TYPES:
        return "class"
    if node.type in _FUNCTION_TYPES:
        return "function"
    if node.type in ("lexical_declaration", "variable_declaration"):
        for declarator in node.named_children:
            value = declarator.child_by_field_name("value")
            if value is not None and value.type in ("arrow_function", "function_expression"):
                return "function"
    return "statement"


def node_name(node: Node) -> str:
    node = unwrap(node)
    name = node.child_by_field_name("name")
    if name is None and node.named_children:
        name = node.named_children[0].child_by_field_name("name")
    return (name.text or b"").decode("utf-8", "replace") if name is not None else ""


def region_nodes(root: Node, start: int, end: int) -> list[Node]:
    """The outermost named nodes inside [start, end), containers opened, comments skipped."""
    found: list[Node] = []
    for child in root.children:
        if child.end_byte <= start or child.start_byte >= end:
            continue
        if start <= child.start_byte and child.end_byte <= end:
            if child.type in _TRANSPARENT:
                found.extend(region_nodes(child, start, end))
            elif child.is_named and child.type not in _COMMENTS:
                found.append(child)
        else:
            found.extend(region_nodes(child, start, end))
    return found


# -- checks ---------------------------------------------------------------------------------


def syntax_problem(
    block: Block,
    original: bytes,
    new_file: bytes,
    region: tuple[int, int],
    subject: str = "the answer",
) -> str | None:
    """Why `new_file` (the answer spliced at `region`) does not parse, or None.  A file that
    did not parse before is only held to an error-free answer."""
    tree = parse(block.language, block.path, new_file)
    error = first_error(tree.root_node)
    if error is not None:
        if parse(block.language, block.path, original).root_node.has_error:
            error = first_error(tree.root_node, region)
        if error is not None:
            return _located(
                new_file, region, error.start_point[0] + 1, describe_error(error), subject
            )
    if block.language == "python":
        try:
            libcst.parse_module(new_file)
        except libcst.ParserSyntaxError as failure:
            if _libcst_parses(original):
                # the message's position is the offending token's; raw_line may be the next
                at = re.search(r"error at (\d+):\d+", failure.message)
                line = int(at.group(1)) if at else failure.raw_line
                text = new_file.split(b"\n")[line - 1].decode("utf-8", "replace").strip()[:60]
                return _located(new_file, region, line, f"invalid syntax in `{text}`", subject)
    return None


def _libcst_parses(source: bytes) -> bool:
    try:
        libcst.parse_module(source)
    except libcst.ParserSyntaxError:
        return False
    return True


def _located(new_file: bytes, region: tuple[int, int], line: int, what: str, subject: str) -> str:
    first = new_file.count(b"\n", 0, region[0]) + 1
    last = new_file.count(b"\n", 0, region[1]) + 1
    if first <= line <= last:
        return f"{subject} does not parse: line {line - first + 1}: {what}"
    return (
        f"the file no longer parses with {subject} in place: line {line} of the file, "
        f"{'before' if line < first else 'after'} the answer: {what} "
        "(check that brackets and strings are closed)"
    )


def shape_problem(block: Block, nodes: list[Node]) -> str | None:
    """Why the answer's outermost nodes are not a block of this kind, or None."""
    expected = _DEF_KINDS.get(block.kind)
    name = bare_name(block)
    described = f"{block.kind.value} `{name}`"
    if expected is not None:
        defs = [n for n in nodes if category(n) != "statement"]
        if not defs:
            return f"the answer holds no definition; answer the whole {described}"
        names = [node_name(n) for n in defs]
        others = [other for other in names if other != name]
        if len(defs) > 1:
            if name in names:
                listed = ", ".join(f"`{other}`" for other in others)
                return (
                    f"the answer defines {listed} besides `{name}`; answer only the requested block"
                )
            return (
                f"the answer defines {len(defs)} definitions; answer exactly one: the {described}"
            )
        if len(nodes) > 1:
            return (
                f"the answer has statements besides the {described}; "
                "answer only the requested block"
            )
        if category(defs[0]) != expected:
            return (
                f"the answer turns the {described} into a {category(defs[0])}; "
                f"answer one {expected} definition"
            )
        return None
    if block.kind is BlockKind.MODULE:
        return None
    for node in nodes:
        if category(node) != "statement":
            return (
                f"the answer defines {category(node)} `{node_name(node)}`, but the "
                f"{block.kind.value} block may only hold statements; answer the statement alone"
            )
    return None if nodes else f"the answer holds no statement; answer the whole {described}"


# -- applying -------------------------------------------------------------------------------


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
    if block.kind in _DEF_KINDS:
        new_name = node_name(next(n for n in nodes if category(n) != "statement"))
        if new_name and new_name != bare_name(block):
            renames = ((block.qualname, _renamed(block.qualname, new_name)),)
    return Applied(new_file, (block.qualname,), renames)


def bare_name(block: Block) -> str:
    """The block's name as written: the graph numbers repeated names (`v#2`, overloads)."""
    return block.name.split("#", 1)[0]


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
