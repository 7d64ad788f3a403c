"""The weakened-test guard: an updated test must not get green by testing less.

An update is rejected when it removes assertions, adds a skip or an xfail, or catches the
failure and ignores it, unless the production change removed the behaviour the test
checked (then asserting less is the point).  Rejections are reported, never kept."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from codeplan.graph.python import parse_python

_ASSERT_CALLS = ("assert", "raises", "warns", "approx", "fail")


@dataclass(frozen=True)
class TestShape:
    """What a test checks, counted syntactically."""

    __test__ = False  # not a pytest test class, despite the name

    asserts: int  # assert statements, self.assert*/assert* calls, pytest.raises/warns
    skips: int  # skip/xfail decorators and calls
    swallowed: int  # except clauses whose body does nothing (pass, ..., continue)


def shape_of(source: str) -> TestShape:
    tree = parse_python(source.encode("utf-8"))
    asserts = skips = swallowed = 0
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type == "assert_statement":
            asserts += 1
        elif node.type == "call":
            name = _callee(node)
            last = name.rsplit(".", 1)[-1].lower()
            if last.startswith(_ASSERT_CALLS) or last in ("assertequal", "assert_called_with"):
                asserts += 1
            if last in ("skip", "xfail", "skipif", "skiptest", "importorskip"):
                skips += 1
        elif node.type == "decorator":
            text = (node.text or b"").decode("utf-8", "replace")
            if any(word in text for word in (".skip", ".xfail", "skipif", "unittest.skip")):
                skips += 1
        elif node.type == "except_clause" and _does_nothing(node):
            swallowed += 1
    return TestShape(asserts, skips, swallowed)


def weakened(before: str, after: str, *, behaviour_removed: bool = False) -> str | None:
    """Why the update weakens the test, as feedback for the editor; None if it does not."""
    old, new = shape_of(before), shape_of(after)
    if new.skips > old.skips:
        return "the update skips or xfails the test; make it pass instead"
    if new.swallowed > old.swallowed:
        return "the update catches the failure and ignores it; assert the new behaviour instead"
    if new.asserts < old.asserts and not behaviour_removed:
        return (
            f"the update checks less ({new.asserts} assertions instead of {old.asserts}); "
            "keep every assertion, changed to the new behaviour"
        )
    if new.asserts == 0 and old.asserts > 0:
        return "the update leaves no assertion"
    return None


def _callee(call: Node) -> str:
    function = call.child_by_field_name("function")
    return (function.text or b"").decode("utf-8", "replace") if function is not None else ""


def _does_nothing(clause: Node) -> bool:
    body = [c for c in clause.children if c.type == "block"]
    if not body:
        return False
    statements = [c for c in body[0].children if c.type not in ("comment",)]
    return bool(statements) and all(
        s.type in ("pass_statement", "continue_statement")
        or (s.type == "expression_statement" and (s.text or b"").strip() == b"...")
        for s in statements
    )
