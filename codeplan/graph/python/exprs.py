"""A tiny, JSON-friendly expression language for Python references and inferred types.

Extraction turns tree-sitter nodes into these lists; resolution evaluates them.  Lists
(not tuples) because they round-trip through JSON unchanged.

    ["n", name]            a name
    ["a", expr, attr]      attribute access
    ["c", expr]            the result of calling expr
    ["s", class_id]        super() inside a method of class_id
    ["b", block_id]        a block itself (a class or function object)
    ["i", expr]            an instance of the class that expr denotes (annotations)
    ["dt", "pkg.Foo"]      an instance of the class a docstring names (doctypes.py): seen
                           from the scope, else as an absolute path in the repository
    ["u", expr, expr]      either value (`a or b`, `a if c else b`)
    ["el", expr]           a container whose elements are expr (`list[Foo]`)
    ["it", expr]           an element of the container expr (`for x in expr`, `expr[i]`)
    ["tup", [expr, ...]]   a tuple of known length (`tuple[A, B]`, `return a, b`)
    ["ix", expr, i]        the i-th element of a tuple (`a, b = expr`)
    ["x"]                  nothing to infer (an unknown element inside a tuple)
    ["?"]                  unknown
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tree_sitter import Node

from codeplan.graph.python.fields import Field

Expr = list[Any]
UNKNOWN: Expr = ["?"]
NOTHING: Expr = ["x"]
_TUPLES = {"tuple", "Tuple", "typing.Tuple"}

DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")  # `a`, `a.b.c`: use fullmatch
_UNION_WRAPPERS = {"Optional", "Union", "typing.Optional", "typing.Union", "Annotated"}
_CLASS_WRAPPERS = {"type", "Type", "typing.Type"}
_CONTAINERS = {
    f"{prefix}{name}"
    for prefix in ("", "typing.", "collections.abc.", "t.")
    for name in (
        "list",
        "List",
        "set",
        "Set",
        "frozenset",
        "FrozenSet",
        "tuple",
        "Tuple",
        "Sequence",
        "MutableSequence",
        "Iterable",
        "Iterator",
        "Collection",
        "AbstractSet",
        "MutableSet",
        "Generator",
        "AsyncIterator",
        "AsyncIterable",
        "deque",
    )
}


class _Reading(threading.local):
    def __init__(self) -> None:
        # set here, not as a class attribute: a compiled (mypyc) class has no class-level
        # defaults for its instances, and every thread runs this on its first read
        self.source: str | bytes | None = None


_reading = _Reading()


@contextmanager
def reading(source: bytes) -> Iterator[None]:
    """While this thread extracts one file, `text` slices the file's source rather than
    ask each node for its bytes, which tree-sitter copies out slowly (a twentieth of
    extraction).  An ASCII source is sliced decoded, since its byte offsets are str
    offsets.  Every node `text` sees meanwhile must come from this source's tree."""
    previous = _reading.source
    _reading.source = source.decode("ascii") if source.isascii() else source
    try:
        yield
    finally:
        _reading.source = previous


def text(node: Node) -> str:
    source = _reading.source
    if source is None:
        raw = node.text  # a property that copies the bytes out on every read: read it once
        return raw.decode("utf-8", "replace") if raw is not None else ""
    piece = source[node.start_byte : node.end_byte]
    return piece.decode("utf-8", "replace") if isinstance(piece, bytes) else piece


def dotted_expr(dotted: str) -> Expr:
    parts = dotted.split(".")
    expr: Expr = ["n", parts[0]]
    for part in parts[1:]:
        expr = ["a", expr, part]
    return expr


def expr_dotted(expr: Expr) -> str | None:
    """`a.b.c` for a pure name/attribute chain, else None."""
    if expr[0] == "n":
        return str(expr[1])
    if expr[0] == "a":
        base = expr_dotted(expr[1])
        return None if base is None else f"{base}.{expr[2]}"
    return None


_MAX_DEPTH = 64  # deeper chains (generated code) are not worth resolving


def expr_of(node: Node | None, enclosing_class: str | None, depth: int = 0) -> Expr:
    """The expression a reference node denotes (only what resolution can use)."""
    if node is None or depth > _MAX_DEPTH:
        return UNKNOWN
    kind = node.type
    if kind == "identifier":
        return ["n", text(node)]
    if kind == "attribute":
        obj = node.child_by_field_id(Field.OBJECT)
        attr = node.child_by_field_id(Field.ATTRIBUTE)
        if attr is None:
            return UNKNOWN
        return ["a", expr_of(obj, enclosing_class, depth + 1), text(attr)]
    if kind == "call":
        function = node.child_by_field_id(Field.FUNCTION)
        if (
            function is not None
            and function.type == "identifier"
            and text(function) == "super"
            and enclosing_class is not None
        ):
            return ["s", enclosing_class]
        return ["c", expr_of(function, enclosing_class, depth + 1)]
    if kind in ("parenthesized_expression", "await"):
        inner = node.named_children
        return expr_of(inner[0], enclosing_class, depth + 1) if inner else UNKNOWN
    if kind == "named_expression":
        return expr_of(node.child_by_field_id(Field.VALUE), enclosing_class, depth + 1)
    if kind == "boolean_operator":
        left = expr_of(node.child_by_field_id(Field.LEFT), enclosing_class, depth + 1)
        right = expr_of(node.child_by_field_id(Field.RIGHT), enclosing_class, depth + 1)
        return _either(left, right)
    if kind == "conditional_expression":
        branches = node.named_children
        if len(branches) >= 3:
            return _either(
                expr_of(branches[0], enclosing_class, depth + 1),
                expr_of(branches[2], enclosing_class, depth + 1),
            )
    if kind == "subscript":
        return ["it", expr_of(node.child_by_field_id(Field.VALUE), enclosing_class, depth + 1)]
    return UNKNOWN


def _either(left: Expr, right: Expr) -> Expr:
    if left == UNKNOWN:
        return right
    if right == UNKNOWN:
        return left
    return ["u", left, right]


def annotation_types(node: Node | None) -> list[Expr]:
    """The classes an annotation may denote, as instance expressions (`["i", X]`).

    `Foo`, `mod.Foo`, `"Foo"`, `Optional[Foo]`, `Foo | None`, `Union[A, B]` are understood;
    containers (`list[Foo]`) say nothing about the value itself and yield nothing.
    """
    if node is None:
        return []
    kind = node.type
    if kind == "type":
        inner = node.named_children
        return annotation_types(inner[0]) if inner else []
    if kind in ("identifier", "attribute"):
        expr = expr_of(node, None)
        dotted = expr_dotted(expr)
        if dotted in ("None", "Any", "typing.Any", "object"):
            return []
        return [["i", expr]]
    if kind == "string":
        return _string_annotation(text(node))
    if kind == "binary_operator":
        left, right = node.child_by_field_id(Field.LEFT), node.child_by_field_id(Field.RIGHT)
        return annotation_types(left) + annotation_types(right)
    if kind in ("subscript", "generic_type"):
        return _subscript_annotation(node)
    if kind == "none":
        return []
    return []


def _subscript_annotation(node: Node) -> list[Expr]:
    if node.type == "generic_type":
        children = node.named_children
        if not children:
            return []
        wrapper = text(children[0])
        args = [c for c in children[1:] if c.type == "type_parameter"]
        arg_nodes = [t for a in args for t in a.named_children]
    else:
        value = node.child_by_field_id(Field.VALUE)
        wrapper = text(value) if value is not None else ""
        arg_nodes = [c for c in node.children_by_field_id(Field.SUBSCRIPT)]
    if wrapper in _UNION_WRAPPERS:
        found: list[Expr] = []
        for arg in arg_nodes[:1] if wrapper == "Annotated" else arg_nodes:
            found.extend(annotation_types(arg))
        return found
    if wrapper in _CLASS_WRAPPERS and arg_nodes:
        # type[Foo] is the class itself, not an instance of it
        return [t[1] for t in annotation_types(arg_nodes[0]) if t[0] == "i"]
    if (
        wrapper in _TUPLES
        and len(arg_nodes) > 1
        and not any(a.type == "ellipsis" for a in arg_nodes)
    ):
        elements = [annotation_types(arg) for arg in arg_nodes]
        return [["tup", [types[0] if types else NOTHING for types in elements]]]
    if wrapper in _CONTAINERS and arg_nodes:
        return [["el", t] for t in annotation_types(arg_nodes[0])]
    return []


def _string_annotation(literal: str) -> list[Expr]:
    body = literal.strip().lstrip("rbuRBU").strip("\"'").strip()
    found: list[Expr] = []
    for part in re.split(r"\s*\|\s*", body):
        match = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", part)
        if match:
            part = match.group(1).strip()
        if DOTTED_NAME.fullmatch(part) and part not in ("None", "Any"):
            found.append(["i", dotted_expr(part)])
    return found
