"""Escape analysis for body changes (MMB): can a caller observe the difference?

Conservative but not paranoid: the change escapes when what the function returns, yields
or raises changed, when it mutates a parameter differently (`data.pop(...)`, `x.attr = …`,
`items[i] = …`), when it writes different global state, or when its I/O calls changed.
A change that leaves all of these alone is an internal refactor and does not propagate.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from codeplan.graph.python import parse_python
from codeplan.graph.python.exprs import text

_MUTATORS = frozenset(
    {
        "append", "extend", "insert", "remove", "pop", "popitem", "clear", "update",
        "setdefault", "add", "discard", "sort", "reverse", "write", "close",
    }
)  # fmt: skip
_IO_CALLS = frozenset({"print", "open", "input", "write", "writelines", "send", "sendall"})
_NESTED_SCOPES = ("function_definition", "class_definition", "lambda")


@dataclass(frozen=True)
class Observable:
    """What callers of one function can see of its body."""

    returns: frozenset[str]
    yields: frozenset[str]
    raises: frozenset[str]
    mutations: frozenset[str]
    global_writes: frozenset[str]
    io_calls: frozenset[str]


@dataclass(frozen=True)
class EscapeVerdict:
    escapes: bool
    reason: str
    aspects: tuple[str, ...] = ()  # what changed: "returns", "raises", "mutations", ...


def body_change_escapes(old_source: str, new_source: str) -> EscapeVerdict:
    """Compare what callers can observe of two versions of one function."""
    before, after = observable(old_source), observable(new_source)
    changed = [
        (aspect, label)
        for aspect, label, old_part, new_part in (
            ("returns", "returned value", before.returns, after.returns),
            ("yields", "yielded value", before.yields, after.yields),
            ("raises", "raised exceptions", before.raises, after.raises),
            ("mutations", "mutation of a parameter", before.mutations, after.mutations),
            ("globals", "global state written", before.global_writes, after.global_writes),
            ("io", "I/O", before.io_calls, after.io_calls),
        )
        if old_part != new_part
    ]
    if changed:
        reason = "; ".join(f"{label} changed" for _, label in changed)
        return EscapeVerdict(True, reason, tuple(aspect for aspect, _ in changed))
    return EscapeVerdict(
        False, "internal change: returns, raises, yields, parameter mutations and I/O unchanged"
    )


def observable(source: str) -> Observable:
    tree = parse_python(_dedent(source).encode())
    function = _first_function(tree.root_node)
    if function is None:
        return Observable(*(frozenset[str]() for _ in range(6)))
    parameters = _parameter_names(function)
    found: dict[str, set[str]] = {k: set() for k in ("r", "y", "x", "m", "g", "io")}
    declared_global: set[str] = set()
    assigned: dict[str, list[str]] = {}  # local name -> the expressions assigned to it
    body = function.child_by_field_name("body")
    # in source order, so `global x` is seen before the writes it declares
    stack = list(reversed(body.named_children)) if body is not None else []
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in _NESTED_SCOPES:
            continue
        if kind == "return_statement":
            found["r"].add(_returned(node, assigned))
        elif kind == "yield":
            found["y"].add(_normal(node))
        elif kind == "raise_statement":
            found["x"].add(_normal(node))
        elif kind in ("global_statement", "nonlocal_statement"):
            declared_global.update(text(n) for n in node.named_children)
        elif kind in ("assignment", "augmented_assignment"):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            _record_write(left, parameters, declared_global, found)
            if left is not None and left.type == "identifier" and right is not None:
                assigned.setdefault(text(left), []).append(
                    _normal(right) if kind == "assignment" else "<augmented>"
                )
        elif kind == "call":
            _record_call(node, parameters, found)
        stack.extend(reversed(node.named_children))
    return Observable(
        frozenset(found["r"]),
        frozenset(found["y"]),
        frozenset(found["x"]),
        frozenset(found["m"]),
        frozenset(found["g"]),
        frozenset(found["io"]),
    )


def _returned(node: Node, assigned: dict[str, list[str]]) -> str:
    """`return total` where `total = a * b` is the only assignment reads `return a * b`,
    so naming an intermediate result is not a change callers can see."""
    values = node.named_children
    if len(values) == 1 and values[0].type == "identifier":
        sources = assigned.get(text(values[0]), [])
        if len(sources) == 1:
            return f"return {sources[0]}"
    return _normal(node)


def _record_write(
    target: Node | None, parameters: set[str], declared_global: set[str], found: dict[str, set[str]]
) -> None:
    if target is None:
        return
    if target.type == "identifier" and text(target) in declared_global:
        found["g"].add(text(target))
    elif target.type in ("attribute", "subscript"):
        # a parameter's state, or the object's own (callers observe it through the object)
        if _root_name(target) in parameters | {"self", "cls"}:
            found["m"].add(_normal(target))
    elif target.type in ("pattern_list", "tuple_pattern"):
        for child in target.named_children:
            _record_write(child, parameters, declared_global, found)


def _record_call(node: Node, parameters: set[str], found: dict[str, set[str]]) -> None:
    function = node.child_by_field_name("function")
    if function is None:
        return
    if function.type == "identifier" and text(function) in _IO_CALLS:
        found["io"].add(_normal(node))
    elif function.type == "attribute":
        attribute = function.child_by_field_name("attribute")
        name = text(attribute) if attribute is not None else ""
        root = _root_name(function)
        if name in _MUTATORS and root in parameters | {"self", "cls"}:
            found["m"].add(_normal(node))
        elif name in _IO_CALLS:
            found["io"].add(_normal(node))


def _root_name(node: Node) -> str:
    while node.type in ("attribute", "subscript", "call"):
        inner = node.child_by_field_name(
            "object"
            if node.type == "attribute"
            else "value"
            if node.type == "subscript"
            else "function"
        )
        if inner is None:
            return ""
        node = inner
    return text(node) if node.type == "identifier" else ""


def _parameter_names(function: Node) -> set[str]:
    parameters = function.child_by_field_name("parameters")
    names = set()
    for node in parameters.named_children if parameters is not None else ():
        name = node if node.type == "identifier" else node.child_by_field_name("name")
        if name is None and node.named_children:
            name = node.named_children[0]
        if name is not None and name.type == "identifier":
            names.add(text(name))
    return names


def _first_function(node: Node) -> Node | None:
    for child in node.named_children:
        if child.type == "function_definition":
            return child
        if child.type == "decorated_definition":
            return child.child_by_field_name("definition")
    return None


def _dedent(source: str) -> str:
    lines = source.splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(line[cut:] for line in lines) + "\n"


def _normal(node: Node) -> str:
    return " ".join(text(node).split())
