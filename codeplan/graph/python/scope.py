"""Scopes under extraction, and the substitution that keeps inferred types body-free.

Other files consult a function's returned expressions and the values of the fields it
assigns; those are rewritten here so that they never mention the function's plain local
variables, which is what lets a body-only edit leave the file's interface unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codeplan.graph.python.exprs import UNKNOWN, Expr

_MAX_SUBSTITUTIONS = 4


@dataclass(slots=True)
class Scope:
    id: str
    kind: str  # module | class | function
    parent: str | None
    class_id: str | None = None  # for a method's scope: its class
    bindings: dict[str, list[list[Any]]] = field(default_factory=dict)
    interface: list[list[Any]] = field(default_factory=list)

    def bind(self, name: str, kind: str, target: str | None, values: list[Expr]) -> None:
        entry = [kind, target, values]
        self.bindings.setdefault(name, []).append(entry)
        if self.kind == "function" and kind != "assign":
            # what other files may consult in a function scope (plain locals excluded)
            self.interface.append([name, *entry])

    def local_assigned(self) -> set[str]:
        if self.kind != "function":
            return set()
        return {
            name
            for name, entries in self.bindings.items()
            if all(e[0] in ("assign", "param") for e in entries)
        }


def has_typed_value(scope: Scope, name: str) -> bool:
    """A local whose value points at something resolvable still matters (e.g. `w = make()`
    then `w(...)` is a call of what make returns) — keep references through it."""
    return any(
        v != UNKNOWN and v[0] != "?" for entry in scope.bindings.get(name, []) for v in entry[2]
    )


def contains_unknown(expr: Expr) -> bool:
    return expr == UNKNOWN or any(
        isinstance(part, list) and contains_unknown(part) for part in expr
    )


def substitute_all(exprs: list[Expr], scope: Scope, local: set[str]) -> list[Expr]:
    found: list[Expr] = []
    for expr in exprs:
        for sub in _substitute(expr, scope, local, depth=0):
            if contains_unknown(sub):
                continue
            if sub not in found and len(found) < _MAX_SUBSTITUTIONS:
                found.append(sub)
    return found


def _substitute(expr: Expr, scope: Scope, local: set[str], depth: int) -> list[Expr]:
    """Replace local variables by the expressions assigned to them (bounded).  What cannot
    be substituted becomes unknown, so the result never depends on the function's body."""
    head = expr[0]
    if head == "n" and any(b[0] == "assign" for b in scope.bindings.get(expr[1], ())):
        if expr[1] not in local or depth >= 3:
            return [UNKNOWN]
        values = [v for b in scope.bindings[expr[1]] if b[0] == "assign" for v in b[2]]
        return [s for v in values for s in _substitute(v, scope, local, depth + 1)][
            :_MAX_SUBSTITUTIONS
        ]
    if head in ("a", "c", "i", "el", "it", "ix"):
        return [[head, s, *expr[2:]] for s in _substitute(expr[1], scope, local, depth)]
    if head == "u":
        either = _substitute(expr[1], scope, local, depth)
        return either + _substitute(expr[2], scope, local, depth)
    if head == "tup":
        elements = [_substitute(e, scope, local, depth) for e in expr[1]]
        return [["tup", [found[0] if found else UNKNOWN for found in elements]]]
    return [expr]


def is_instance_receiver(scope: Scope, name: str, class_id: str) -> bool:
    for kind, _, values in scope.bindings.get(name, []):
        if kind == "param" and ["i", ["b", class_id]] in values:
            return True
    return False
