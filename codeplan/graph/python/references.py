"""Reference collection: the calls and name/attribute chains an expression mentions."""

from __future__ import annotations

import marshal
from typing import Any

from tree_sitter import Node

from codeplan.graph.python.exprs import UNKNOWN, Expr, expr_of, text
from codeplan.graph.python.fields import Field
from codeplan.graph.python.scope import Scope

_COMPREHENSIONS = (
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "generator_expression",
)


class ReferenceCollector:
    """Records references as `[owner_scope, expr, context, line]` in `self.refs`."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.refs: list[list[Any]] = []  # distinct: see `_record`
        self._first: dict[tuple[str, str | bytes, str], list[Any]] = {}

    def _record(self, owner: str, expr: Expr, context: str, line: int) -> None:
        """Record a reference unless the owner already made it in that context.  A
        repeat resolves the same way (a scope's bindings are the whole file's, wherever
        the reference stands), and resolution keeps only the smallest line of each edge
        it yields, so the first keeps the smaller line and the repeat goes.  Nearly a
        third of Django's references repeat (`self.assertEqual` in a test,
        `models.CharField` in a model): a sixth of its resolution time."""
        # marshal version 0 writes equal values as equal bytes (no references back to
        # shared objects, no interned strings), and is many times faster than repr; a
        # name, the commonest expression, is keyed by its str, never equal to bytes
        key = (owner, expr[1] if expr[0] == "n" else marshal.dumps(expr, 0), context)
        kept = self._first.get(key)
        if kept is None:
            ref = [owner, expr, context, line]
            self._first[key] = ref
            self.refs.append(ref)
        elif line < kept[3]:
            kept[3] = line

    def _record_name(self, owner: str, name: str, context: str, line: int) -> None:
        """`_record` of `["n", name]`, without making the expression for a repeat."""
        kept = self._first.get((owner, name, context))
        if kept is None:
            ref = [owner, ["n", name], context, line]
            self._first[(owner, name, context)] = ref
            self.refs.append(ref)
        elif line < kept[3]:
            kept[3] = line

    def _bind_targets(self, target: Node | None, scope: Scope, values: list[Expr]) -> None:
        if target is None:
            return
        if target.type == "identifier":
            if scope.kind == "module" and any(
                b[1] for b in scope.bindings.get(text(target), ()) if b[0] == "assign"
            ):
                return  # a module variable re-bound by a loop: keep its field
            scope.bind(text(target), "assign", None, values)
        elif target.type in (
            "pattern_list",
            "tuple_pattern",
            "list_pattern",
            "tuple",
            "list",
            "as_pattern_target",
            "list_splat_pattern",
            "parenthesized_expression",
        ):
            children = target.named_children
            if target.type == "as_pattern_target":
                for child in children:
                    self._bind_targets(child, scope, values)
                return
            starred = any(c.type == "list_splat_pattern" for c in children)
            for position, child in enumerate(children):
                # `a, b = pair()`: each name gets its element of the tuple
                element = [UNKNOWN] if starred else [["ix", v, position] for v in values]
                self._bind_targets(child, scope, element)

    # -- expressions ----------------------------------------------------------------------

    def _reference(self, node: Node, scope: Scope, context: str) -> None:
        expr = expr_of(node, scope.class_id)
        if expr != UNKNOWN:
            self._record(scope.id, expr, context, node.start_point[0] + 1)

    def _visit(
        self,
        node: Node | None,
        scope: Scope,
        context: str = "load",
        hidden: frozenset[str] = frozenset(),
    ) -> None:
        """Record the references in an expression: each call, and each maximal name or
        attribute chain (resolution walks the chain and links its intermediate fields)."""
        if node is None:
            return
        kind = node.type
        # the commonest kinds first, without a call: a name is one reference with nothing
        # hanging off it (a fifth of the nodes visited), and a literal holds none
        if kind == "identifier":
            named = text(node)
            if not (hidden and named in hidden):
                self._record_name(scope.id, named, context, node.start_point[0] + 1)
            return
        if kind in _LITERALS:
            return
        if kind == "string":
            # a fifth of the nodes visited, and only an f-string (or a t-string) holds
            # references: read its prefix rather than make a node of each of its parts
            start = node.start_byte
            if self.source[start : start + 2].lower().startswith(_INTERPOLATING_PREFIXES):
                for child in node.named_children:
                    if child.type == "interpolation":
                        self._visit(child, scope, "load", hidden)
            return
        if kind == "call":
            function = node.child_by_field_id(Field.FUNCTION)
            if function is not None and function.type == "identifier":
                # `name(...)`, half the calls: as an identifier above, in context "call"
                called = text(function)
                if not (hidden and called in hidden):
                    self._record_name(scope.id, called, "call", function.start_point[0] + 1)
            else:
                if function is not None and not (hidden and _hidden(function, hidden)):
                    self._reference(function, scope, "call")
                self._visit_inner(function, scope, hidden)
            arguments = node.child_by_field_id(Field.ARGUMENTS)
            for argument in arguments.named_children if arguments is not None else ():
                if argument.type == "keyword_argument":
                    argument = argument.child_by_field_id(Field.VALUE) or argument
                # a bare function passed as an argument is a callback: context "arg"
                self._visit(argument, scope, "arg", hidden)
        elif kind == "attribute":
            if not (hidden and _hidden(node, hidden)):
                self._reference(node, scope, context)
            self._visit_inner(node, scope, hidden)
        elif kind == "keyword_argument":
            self._visit(node.child_by_field_id(Field.VALUE), scope, "load", hidden)
        elif kind == "lambda":
            params = node.child_by_field_id(Field.PARAMETERS)
            names = frozenset(_parameter_names(params))
            self._visit(node.child_by_field_id(Field.BODY), scope, "load", hidden | names)
        elif kind in _COMPREHENSIONS:
            # comprehension variables are bound in the enclosing scope: an approximation
            # (Python gives them their own scope) that lets `[p.name for p in items]` resolve
            for clause in node.named_children:
                if clause.type == "for_in_clause":
                    iterated = expr_of(clause.child_by_field_id(Field.RIGHT), scope.class_id)
                    self._bind_targets(
                        clause.child_by_field_id(Field.LEFT), scope, [["it", iterated]]
                    )
            for child in node.named_children:
                self._visit(child, scope, "load", hidden)
        elif kind == "named_expression":
            name = node.child_by_field_id(Field.NAME)
            value = node.child_by_field_id(Field.VALUE)
            self._bind_targets(name, scope, [expr_of(value, scope.class_id)])
            self._visit(value, scope, "load", hidden)
        elif kind == "concatenated_string":
            for child in node.named_children:
                if child.type == "string":
                    self._visit(child, scope, "load", hidden)
        else:
            keep = kind in _TARGETS or context == "annotation"
            for child in node.named_children:
                self._visit(child, scope, context if keep else "load", hidden)

    def _visit_inner(
        self, node: Node | None, scope: Scope, hidden: frozenset[str] = frozenset()
    ) -> None:
        """Visit what hangs off a reference chain but is not part of it (call arguments,
        subscripts), without recording the chain's own prefixes again."""
        while node is not None:
            kind = node.type  # a new str on every read: read once per link
            if kind == "attribute":
                node = node.child_by_field_id(Field.OBJECT)
            elif kind == "call":
                self._visit(node, scope, "load", hidden)
                return
            elif kind == "parenthesized_expression":
                inner = node.named_children
                node = inner[0] if inner else None
            else:
                if kind != "identifier":
                    self._visit(node, scope, "load", hidden)
                return


_INTERPOLATING_PREFIXES = (b"f", b"rf", b"t", b"rt")
_LITERALS = frozenset(("integer", "float", "true", "false", "none", "comment", "ellipsis"))
_TARGETS = ("pattern_list", "tuple_pattern", "list_pattern", "tuple", "subscript")


def _hidden(node: Node, hidden: frozenset[str]) -> bool:
    while node.type == "attribute":
        obj = node.child_by_field_id(Field.OBJECT)
        if obj is None:
            return False
        node = obj
    return node.type == "identifier" and text(node) in hidden


def _parameter_names(params: Node | None) -> list[str]:
    if params is None:
        return []
    names = []
    for param in params.named_children:
        node: Node | None = param
        if param.type not in ("identifier",):
            node = param.child_by_field_id(Field.NAME) or (
                param.named_children[0] if param.named_children else None
            )
        if node is not None and node.type == "identifier":
            names.append(text(node))
    return names
