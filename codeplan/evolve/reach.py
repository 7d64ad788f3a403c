"""How a production change reaches the tests: a search from the changed blocks towards the
test functions that use them, through calls, instantiations, field uses, references,
helpers and fixture requests (as pytest resolves them), and the "calls" or "helper"
evidence each found path gives (see codeplan/evolve/identify.py for the scores).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from codeplan.evolve.history import is_test_function
from codeplan.evolve.model import Evidence
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind, Relation
from codeplan.impact.classify import parse_signature
from codeplan.validate.parsers import is_test_path

_VERBS = {Relation.CALLS: "calls", Relation.INSTANTIATES: "instantiates", Relation.USES: "uses"}
_TOWARDS_TESTS = (*_VERBS, Relation.IMPORTS)
_REFERS = "refers to"
_AUTOUSE = re.compile(r"\bautouse\s*=\s*True\b")
_FIXTURE = "uses the fixture"
_DEFINES = "defines"
CALLS_SCORE = 1.0  # a test that itself calls, instantiates or uses a changed block


@dataclass(frozen=True)
class Step:
    """How the search reached a block: by `via` from `towards` (None: a changed block)."""

    block: Block
    via: str
    towards: Step | None
    depth: int
    scope: str | None = None  # a class: pytest runs this fixture chain in it (and subclasses)
    member: str = ""  # from a changed method's class: the test must call `.member`


def reach(
    graph: CodeGraph, changed: Sequence[Block], max_depth: int, source: Callable[[str], bytes]
) -> dict[str, Step]:
    """Test functions reaching the changed blocks within `max_depth` steps (calls,
    instantiations, field uses, references, fixture requests), each with the path to its
    nearest one.  A changed method is also reached by tests that get an instance of its
    class (or a subclass) and call a method of that name on it: fixtures hand out objects
    whose type the graph cannot know.  `source` gives a file's contents by path."""
    search = _Search(graph, max_depth, source)
    start = [Step(b, "", None, 0) for b in changed]
    for block in changed:  # a changed constructor is reached by instantiating its class
        if block.name == "__init__":
            constructs = graph.related(block.id, (Relation.CONSTRUCTS,))
            start += [Step(r.block, "", None, 0) for r in constructs]
    found = search.run(start)
    for block in changed:
        if block.kind is BlockKind.METHOD and block.name != "__init__" and block.parent:
            classes = [graph.block(c) for c in sorted(search.subtree(block.parent))]
            steps = [Step(c, "", None, 0, member=block.name) for c in classes]
            for test_id, step in search.run(steps).items():
                if test_id not in found or found[test_id].depth > step.depth + 1:
                    found[test_id] = step
    return found


class _Search:
    def __init__(self, graph: CodeGraph, max_depth: int, source: Callable[[str], bytes]) -> None:
        self.graph = graph
        self.max_depth = max_depth
        self.source = source
        self.requesters = _fixture_requesters(graph)
        self._tests_in: dict[str, list[Block]] = {}  # path -> its test functions
        self._trees: dict[tuple[str, bool], frozenset[str]] = {}
        # test classes often inherit from test classes the graph cannot import (test
        # folders are seldom packages): link them by the bases' names too
        classes = [b for b in graph.blocks(BlockKind.CLASS) if is_test_path(b.path)]
        by_name: dict[str, list[str]] = {}
        for block in classes:
            by_name.setdefault(block.name, []).append(block.id)
        self._test_bases: dict[str, list[str]] = {}
        self._test_subclasses: dict[str, list[str]] = {}
        for block in classes:
            for base in _base_names(block.signature):
                for base_id in by_name.get(base, []):
                    self._test_bases.setdefault(block.id, []).append(base_id)
                    self._test_subclasses.setdefault(base_id, []).append(block.id)

    def run(self, start: Sequence[Step]) -> dict[str, Step]:
        seen = {s.block.id for s in start}
        queue = deque(start)
        found: dict[str, Step] = {}
        while queue:
            step = queue.popleft()
            if step.depth and is_test_function(step.block, self.graph):
                if not step.member or self._calls_member(step.block, step.member):
                    found.setdefault(step.block.id, step)
                continue
            enclosing = self._enclosing_function(step.block)
            if enclosing is not None and enclosing.id not in seen:
                # a closure is part of the function that defines it (a factory a fixture
                # hands out, a decorator's wrapper): reaching one reaches both, at no cost
                seen.add(enclosing.id)
                queue.appendleft(
                    Step(enclosing, _DEFINES, step, step.depth, step.scope, step.member)
                )
            if step.depth == self.max_depth:
                continue
            for user, via, scope in self._users(step):
                if user.id not in seen:
                    seen.add(user.id)
                    queue.append(Step(user, via, step, step.depth + 1, scope, step.member))
        return found

    def _enclosing_function(self, block: Block) -> Block | None:
        if block.kind is not BlockKind.FUNCTION or not block.parent:
            return None
        parent = self.graph.get(block.parent)
        if parent is None or parent.kind not in (BlockKind.FUNCTION, BlockKind.METHOD):
            return None
        return parent

    def _users(self, step: Step) -> Iterator[tuple[Block, str, str | None]]:
        block = step.block
        for related in self.graph.related(block.id, _TOWARDS_TESTS, inverse=True):
            if related.relation is Relation.IMPORTS:
                # an import block binds several names: its users must say this one
                name = re.compile(rb"\b%s\b" % re.escape(block.name.encode()))
                for user in self._importers(related.block, 4):
                    if name.search(self.source(user.path)[user.start_byte : user.end_byte]):
                        yield user, _REFERS, None
            else:
                yield related.block, _VERBS[related.relation], None
        if any("fixture" in d for d in block.decorators):
            yield from self._fixture_users(step)

    def _importers(self, block: Block, hops: int) -> Iterator[Block]:
        """Who uses a name through an import block (and re-exports of it)."""
        if block.kind is not BlockKind.IMPORT:
            yield block
        elif hops:
            for related in self.graph.related(block.id, (Relation.IMPORTS,), inverse=True):
                yield from self._importers(related.block, hops - 1)

    def _fixture_users(self, step: Step) -> Iterator[tuple[Block, str, str | None]]:
        """What requests a fixture by name, as pytest would see it: a module's fixture in
        that module (in conftest.py: its folder); a class's fixture in the class and its
        subclasses, also through fixtures their base classes define."""
        fixture = step.block
        users = [u for u in self.requesters.get(fixture.name, ()) if u.id != fixture.id]
        if _AUTOUSE.search(" ".join(fixture.decorators)):
            # every test in the fixture's scope runs it, named or not
            users += self._tests_under(fixture)
        if fixture.kind is not BlockKind.METHOD or not fixture.parent:
            folder, conftest = _folder(fixture.path), fixture.path.endswith("conftest.py")
            for user in users:
                if user.path == fixture.path or (conftest and user.path.startswith(folder)):
                    yield user, _FIXTURE, None
            return
        scope = fixture.parent
        if step.scope is not None and step.scope in self.subtree(scope):
            scope = step.scope
        for user in users:
            if user.kind is not BlockKind.METHOD or user.parent is None:
                continue
            if user.parent in self.subtree(scope):
                yield user, _FIXTURE, user.parent
            elif user.parent in self._tree(scope, up=True) and not user.name.startswith("test"):
                # a base class's fixture runs in the subclass; its tests run there as
                # inherited copies, which have no definition of their own to report
                yield user, _FIXTURE, scope

    def _tests_under(self, fixture: Block) -> list[Block]:
        """The test functions of the fixture's module (of a conftest's folder)."""
        if fixture.path.endswith("conftest.py"):
            paths = [p for p in self.graph.paths() if p.startswith(_folder(fixture.path))]
        else:
            paths = [fixture.path]
        found = []
        for path in paths:
            if path not in self._tests_in:
                self._tests_in[path] = [
                    b for b in self.graph.blocks_in(path) if is_test_function(b, self.graph)
                ]
            found += self._tests_in[path]
        return found

    def subtree(self, class_id: str) -> frozenset[str]:
        """The class and its subclasses."""
        return self._tree(class_id, up=False)

    def _tree(self, class_id: str, *, up: bool) -> frozenset[str]:
        key = (class_id, up)
        if key not in self._trees:
            found, todo = {class_id}, [class_id]
            while todo:
                current = todo.pop()
                step = self.graph.superclasses if up else self.graph.subclasses
                named = self._test_bases if up else self._test_subclasses
                for other in [b.id for b in step(current)] + named.get(current, []):
                    if other not in found:
                        found.add(other)
                        todo.append(other)
            self._trees[key] = frozenset(found)
        return self._trees[key]

    def _calls_member(self, test: Block, member: str) -> bool:
        if any(b.name == member for b in self.graph.callees(test.id)):
            return True
        return any(r.name.rsplit(".", 1)[-1] == member for r in self.graph.unresolved(test.id))


def _folder(path: str) -> str:
    """`tests/unit/conftest.py` -> `tests/unit/` (the root: "")."""
    return path.rsplit("/", 1)[0] + "/" if "/" in path else ""


def _base_names(signature: str) -> list[str]:
    """`class A(mod.B, C, metaclass=M)` -> ["B", "C"]."""
    inside = signature.partition("(")[2].rpartition(")")[0]
    names = (part.strip().rsplit(".", 1)[-1] for part in inside.split(",") if "=" not in part)
    return [name for name in names if name.isidentifier()]


def _fixture_requesters(graph: CodeGraph) -> dict[str, list[Block]]:
    """Functions in test files by the names of their parameters (pytest's fixture lookup)."""
    index: dict[str, list[Block]] = {}
    for block in graph.blocks():
        if block.kind in (BlockKind.FUNCTION, BlockKind.METHOD) and is_test_path(block.path):
            for parameter in parse_signature(block.signature).parameters:
                index.setdefault(parameter.name, []).append(block)
    return index


def reach_evidence(step: Step) -> tuple[float, Evidence]:
    parts = []
    current: Step | None = step
    while current is not None and current.towards is not None:
        parts.append(f"{current.via} `{current.towards.block.qualname}`")
        current = current.towards
    depth = step.depth + (1 if step.member else 0)
    if depth == 1:
        return CALLS_SCORE, Evidence("calls", parts[0])
    member = f", and calls `.{step.member}` on it" if step.member else ""
    detail = ", which ".join(parts) + f"{member} ({depth} steps)"
    return round(0.8 - 0.1 * (depth - 2), 3), Evidence("helper", detail)
