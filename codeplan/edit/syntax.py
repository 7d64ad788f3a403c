"""Syntax and shape checks for a file with an editor's answer spliced in.

An answer is only accepted when the whole file still parses and the answer is a block of
the kind that was asked for (a function stays one function, a statement block defines
nothing).  The checks live apart from the splicing so that the class-sketch merge can
reuse the parsing helpers; tree-sitter finds errors in every supported language, and
libcst is asked as well for Python because tree-sitter accepts some code that Python
rejects.  Problems are worded for the editor, which retries with them.
"""

from __future__ import annotations

import re
from functools import cache

import libcst
from tree_sitter import Language, Node, Parser, Tree

from codeplan.graph.generic import LANGUAGE_SPECS
from codeplan.graph.model import Block, BlockKind
from codeplan.graph.python import parse_python

DEF_KINDS = {
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
    expected = DEF_KINDS.get(block.kind)
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


def bare_name(block: Block) -> str:
    """The block's name as written: the graph numbers repeated names (`v#2`, overloads)."""
    return block.name.split("#", 1)[0]
