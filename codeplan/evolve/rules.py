"""Short rules learnt from the experience bank (REACCEPT's optional "learned rules"): how
this repository's tests changed, in its own history, when production code changed in a
given way.  "When a default value changes, tests changed the values they assert (5 of 6
past commits)."

Counted, not generated: each past co-change is labelled on its production side (the
impact classifier's labels: a parameter added or removed, a default changed, what a
function returns or raises changed, a block deleted) and on its test side (what the test's
edit did: the arguments of its calls to the block, the values it asserts, the exceptions
it expects; or a test added or deleted).  A rule is a pair seen in at least `min_support`
commits and in at least half of the commits with that production label.  The test editor
is shown the rules that match the change at hand, beside the worked examples.
"""

from __future__ import annotations

import ast
import copy
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from codeplan.evolve.model import Experience, ProductionChange
from codeplan.graph.model import Block, BlockKind
from codeplan.graph.python import PythonAnalyzer
from codeplan.impact.classify import ESCAPE_LABELS, classify
from codeplan.impact.diff import BlockChange, ChangeKind
from codeplan.impact.erasure import parse_block
from codeplan.impact.escape import body_change_escapes

DELETED = "deleted"
ADDED = "added"
CHANGE_PHRASES = {
    "param-added-required": "a function gains a required parameter",
    "param-added-optional": "a function gains an optional parameter",
    "param-removed": "a parameter is removed",
    "param-renamed": "a parameter is renamed",
    "params-reordered": "parameters are reordered",
    "param-kind-changed": "a parameter changes kind (e.g. becomes keyword-only)",
    "default-changed": "a default value changes",
    "returns-changed": "what a function returns changes",
    "yields-changed": "what a generator yields changes",
    "raises-changed": "the exceptions a function raises change",
    "decorator-added": "a decorator is added",
    "decorator-removed": "a decorator is removed",
    "property-to-method": "a property becomes a method",
    "method-to-property": "a method becomes a property",
    "bases-changed": "a class's bases change",
    DELETED: "a function or class is deleted",
}
EDIT_PHRASES = {
    "call-arguments": "changed the arguments of their calls to it",
    "asserted-values": "changed the values they assert",
    "expected-exceptions": "changed the exceptions they expect",
    DELETED: "were deleted",
    ADDED: "gained new tests",
}
_DEFINITIONS = (BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.CLASS)
_RAISES = ("raises", "assertRaises", "assertRaisesRegex")


@dataclass(frozen=True)
class Rule:
    change: str  # a key of CHANGE_PHRASES
    edit: str  # a key of EDIT_PHRASES
    support: int  # past commits with both
    seen: int  # past commits with the change

    def __str__(self) -> str:
        return (
            f"when {CHANGE_PHRASES[self.change]}, tests {EDIT_PHRASES[self.edit]} "
            f"({self.support} of {self.seen} past commits)"
        )


def learn_rules(
    experiences: Iterable[Experience], *, min_support: int = 2, min_share: float = 0.5
) -> list[Rule]:
    """The rules the experiences support, best supported first."""
    seen: dict[str, set[str]] = {}
    both: dict[tuple[str, str], set[str]] = {}
    for experience in experiences:
        changes = change_kinds(experience.production_before, experience.production_after)
        name = experience.production_qualname.rsplit(".", 1)[-1].split("#", 1)[0]
        edits = edits_of_test(name, experience.test_before, experience.test_after)
        for change in changes:
            seen.setdefault(change, set()).add(experience.commit)
            for edit in edits:
                both.setdefault((change, edit), set()).add(experience.commit)
    rules = [
        Rule(change, edit, len(commits), len(seen[change]))
        for (change, edit), commits in both.items()
        if len(commits) >= min_support and len(commits) >= min_share * len(seen[change])
    ]
    return sorted(rules, key=lambda r: (-r.support, -r.support / r.seen, r.change, r.edit))


def matching(rules: Sequence[Rule], changes: Sequence[ProductionChange]) -> list[Rule]:
    """The rules about the kinds of change among `changes`."""
    kinds = {kind for change in changes for kind in change_kinds(change.before, change.after)}
    return [rule for rule in rules if rule.change in kinds]


def change_kinds(before: str, after: str) -> frozenset[str]:
    """The production side's labels that rules are about."""
    if not after.strip():
        return frozenset({DELETED}) if before.strip() else frozenset()
    old, new = _definition(before), _definition(after)
    if old is None or new is None:
        return frozenset()
    labels = {label.value for label in classify(BlockChange(ChangeKind.MODIFIED, old, new))}
    if old.kind in (BlockKind.FUNCTION, BlockKind.METHOD):
        aspects = body_change_escapes(textwrap.dedent(before), textwrap.dedent(after)).aspects
        labels |= {ESCAPE_LABELS[aspect].value for aspect in aspects}
    return frozenset(labels & CHANGE_PHRASES.keys())


def _definition(text: str) -> Block | None:
    source = textwrap.dedent(text).encode()
    blocks = PythonAnalyzer().extract("block.py", source).blocks
    definitions = [b for b in blocks if b.kind in _DEFINITIONS]
    return min(definitions, key=lambda b: b.start_byte, default=None)  # the outermost


def edits_of_test(name: str, before: str, after: str) -> frozenset[str]:
    """What a test's edit did, as far as rules tell it: to its calls to `name`, to what it
    asserts, to the exceptions it expects; or adding or deleting the test."""
    if not after.strip():
        return frozenset({DELETED})
    if not before.strip():
        return frozenset({ADDED})
    old, new = _parsed(before), _parsed(after)
    if old is None or new is None:
        return frozenset()
    edits = set()
    old_calls, new_calls = _calls_to(old, name), _calls_to(new, name)
    if old_calls and new_calls and old_calls != new_calls:
        edits.add("call-arguments")
    if _asserted(old, name) != _asserted(new, name):
        edits.add("asserted-values")
    if _expected_exceptions(old) != _expected_exceptions(new):
        edits.add("expected-exceptions")
    return frozenset(edits)


def _parsed(text: str) -> ast.AST | None:
    try:
        return parse_block(text)
    except (SyntaxError, ValueError):
        return None


def _callee(call: ast.Call) -> str:
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


def _calls_to(tree: ast.AST, name: str) -> list[str]:
    return sorted(
        ast.dump(ast.Call(ast.Name("_"), node.args, node.keywords))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _callee(node) == name
    )


def _asserted(tree: ast.AST, name: str) -> list[str]:
    """The assertions, with calls to `name` blanked out: new arguments in an asserted call
    are a change of the call, not of what is expected of it."""
    blanked = _BlankCalls(name).visit(copy.deepcopy(tree))
    return [ast.dump(node) for node in ast.walk(blanked) if _asserts(node)]


class _BlankCalls(ast.NodeTransformer):
    def __init__(self, name: str) -> None:
        self.name = name

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if _callee(node) == self.name:
            return ast.Name("_")
        return self.generic_visit(node)


def _asserts(node: ast.AST) -> bool:
    """An assert statement, or a unittest assertion other than an expected exception."""
    if isinstance(node, ast.Assert):
        return True
    if not isinstance(node, ast.Call):
        return False
    callee = _callee(node)
    return callee.startswith("assert") and callee not in _RAISES


def _expected_exceptions(tree: ast.AST) -> list[str]:
    return [
        ast.dump(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _callee(node) in _RAISES and node.args
    ]
