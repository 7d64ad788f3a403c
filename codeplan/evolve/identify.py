"""Which tests a production change reaches, and why; then what running them says.

Static evidence, strongest first (each test keeps its best of each kind):

- calls: the test itself calls, instantiates or uses a changed block (score 1.0);
- helper: it reaches one through helpers, fixtures or other code within `max_depth` steps
  (0.8 at two steps, 0.1 less per further step);
- history: it changed in the same earlier commits as a changed block (0.45);
- naming: it is in test_x.py (or x_test.py) for a changed x.py and its name mentions the
  changed block's name (0.3).

A test with several kinds of evidence gets 0.05 more per extra kind (at most two).  History,
naming and helper paths of three steps or more count only for a test whose text names a
changed block (a constructor by its class): on real history, without that gate they
flag mostly tests nobody needed to touch (benchmarks/coevolution.py).

Dynamic verdicts (`run_impacted`): failed or error is BROKEN; passed is STALE when the
test asserts on what a changed block returns or raises and that changed (the "asserts"
evidence: the test calls the block directly, inside an `assert`, a `self.assert*(...)`
call, a `with pytest.raises(...)` block, or assigns the call's result to a name an
`assert` then reads; and the change is labelled returns-, raises- or yields-changed or
default-changed), UNAFFECTED otherwise; a test with no outcome stays UNKNOWN.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from pathlib import Path

from tree_sitter import Node

from codeplan.errors import SandboxError
from codeplan.evolve.history import PRODUCTION_KINDS, co_changes, is_test_function
from codeplan.evolve.model import Evidence, ImpactedTest, TestStatus
from codeplan.graph import GraphOptions
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind, Relation
from codeplan.graph.python import parse_python
from codeplan.graph.python.exprs import text
from codeplan.impact.analysis import ClassifiedChange
from codeplan.impact.classify import ChangeLabel, parse_signature
from codeplan.impact.states import RepositoryStates, Revision, impact_between
from codeplan.sandbox.model import TestOutcome
from codeplan.sandbox.session import Sandbox
from codeplan.validate.parsers import is_test_path

_VERBS = {Relation.CALLS: "calls", Relation.INSTANTIATES: "instantiates", Relation.USES: "uses"}
_TOWARDS_TESTS = (*_VERBS, Relation.IMPORTS)
_REFERS = "refers to"
_FIXTURE = "uses the fixture"
_OBSERVED = {
    ChangeLabel.RETURNS_CHANGED,
    ChangeLabel.RAISES_CHANGED,
    ChangeLabel.YIELDS_CHANGED,
    ChangeLabel.DEFAULT_CHANGED,
}
_SCORES = {"calls": 1.0, "history": 0.45, "naming": 0.3}
MAX_NODE_IDS = 400  # beyond this, run whole test files (one shell argument has a size limit)


@dataclass(frozen=True)
class _Step:
    """How the search reached a block: by `via` from `towards` (None: a changed block)."""

    block: Block
    via: str
    towards: _Step | None
    depth: int
    scope: str | None = None  # a class: pytest runs this fixture chain in it (and subclasses)
    member: str = ""  # from a changed method's class: the test must call `.member`


def identify_impacted_tests(
    root: Path,
    base: str = "HEAD",
    head: str | None = None,
    *,
    max_depth: int = 3,
    history: bool = True,
    options: GraphOptions | None = None,
) -> list[ImpactedTest]:
    """The tests the production changes from `base` to `head` (None: the working tree)
    reach, best first, all UNKNOWN until run."""
    options = options or GraphOptions()
    report = impact_between(root, base, head, options)
    states = RepositoryStates(root)
    old_revision, new_revision = states.revision(base), states.revision(head)
    old = states.graph_at(old_revision, options).graph
    new = states.graph_at(new_revision, options).graph
    changes = [
        c
        for c in report.changes
        if c.change.block.kind in PRODUCTION_KINDS and not is_test_path(c.change.block.path)
    ]
    found: dict[str, dict[str, tuple[float, Evidence]]] = {}

    def add(test_id: str, score: float, evidence: Evidence) -> None:
        known = found.setdefault(test_id, {})
        if evidence.kind not in known or known[evidence.kind][0] < score:
            known[evidence.kind] = (score, evidence)

    for graph, side, revision in (
        (old, [c.change.old for c in changes], old_revision),
        (new, [c.change.new for c in changes], new_revision),
    ):
        source = lru_cache(maxsize=None)(partial(_contents, states, revision))
        blocks = [b for b in side if b is not None]
        for step in reach(graph, blocks, max_depth, source).values():
            if new.get(step.block.id) is not None:
                add(step.block.id, *_reach_evidence(step))
    for test, evidence in _naming(new, [c.change.block for c in changes]):
        add(test.id, _SCORES["naming"], evidence)
    if history and old_revision.commit is not None:
        for block, evidence in _history(states, old_revision.commit.hexsha, changes, new):
            add(block.id, _SCORES["history"], evidence)
    sources = {
        path: states.contents(new_revision, path) or b""
        for path in {test_id.split("::", 1)[0] for test_id in found}
    }
    names = {_mention_name(c.change.block) for c in changes} - {""}
    mention = re.compile(rb"\b(%s)\b" % b"|".join(re.escape(n.encode()) for n in sorted(names)))
    for test_id, known in list(found.items()):
        test = new.block(test_id)
        if names and mention.search(sources[test.path][test.start_byte : test.end_byte]):
            continue
        # weak evidence alone flags many tests no one needs to touch: it counts only
        # when the test itself names a changed block
        for kind, (score, _) in list(known.items()):
            if kind in ("history", "naming") or (kind == "helper" and score < 0.8):
                del known[kind]
        if not known:
            del found[test_id]
    observed = [c for c in changes if c.change.new is not None and _OBSERVED & set(c.labels)]
    trees: dict[str, Node] = {}
    for test_id, known in found.items():
        asserted = _asserts(new, new.block(test_id), observed, trees, sources)
        if asserted is not None:
            known["asserts"] = (0.0, asserted)
    return sorted(
        (_impacted(new.block(test_id), known) for test_id, known in found.items()),
        key=lambda t: (-t.score, t.path, t.qualname),
    )


def reach(
    graph: CodeGraph, changed: Sequence[Block], max_depth: int, source: Callable[[str], bytes]
) -> dict[str, _Step]:
    """Test functions reaching the changed blocks within `max_depth` steps (calls,
    instantiations, field uses, references, fixture requests), each with the path to its
    nearest one.  A changed method is also reached by tests that get an instance of its
    class (or a subclass) and call a method of that name on it: fixtures hand out objects
    whose type the graph cannot know.  `source` gives a file's contents by path."""
    search = _Search(graph, max_depth, source)
    start = [_Step(b, "", None, 0) for b in changed]
    for block in changed:  # a changed constructor is reached by instantiating its class
        if block.name == "__init__":
            constructs = graph.related(block.id, (Relation.CONSTRUCTS,))
            start += [_Step(r.block, "", None, 0) for r in constructs]
    found = search.run(start)
    for block in changed:
        if block.kind is BlockKind.METHOD and block.name != "__init__" and block.parent:
            classes = [graph.block(c) for c in sorted(search.subtree(block.parent))]
            steps = [_Step(c, "", None, 0, member=block.name) for c in classes]
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

    def run(self, start: Sequence[_Step]) -> dict[str, _Step]:
        seen = {s.block.id for s in start}
        queue = deque(start)
        found: dict[str, _Step] = {}
        while queue:
            step = queue.popleft()
            if step.depth and is_test_function(step.block, self.graph):
                if not step.member or self._calls_member(step.block, step.member):
                    found.setdefault(step.block.id, step)
                continue
            if step.depth == self.max_depth:
                continue
            for user, via, scope in self._users(step):
                if user.id not in seen:
                    seen.add(user.id)
                    queue.append(_Step(user, via, step, step.depth + 1, scope, step.member))
        return found

    def _users(self, step: _Step) -> Iterator[tuple[Block, str, str | None]]:
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

    def _fixture_users(self, step: _Step) -> Iterator[tuple[Block, str, str | None]]:
        """What requests a fixture by name, as pytest would see it: a module's fixture in
        that module (in conftest.py: its folder); a class's fixture in the class and its
        subclasses, also through fixtures their base classes define."""
        fixture = step.block
        users = [u for u in self.requesters.get(fixture.name, ()) if u.id != fixture.id]
        if fixture.kind is not BlockKind.METHOD or not fixture.parent:
            folder = fixture.path.rsplit("/", 1)[0] + "/" if "/" in fixture.path else ""
            conftest = fixture.path.endswith("conftest.py")
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


def _reach_evidence(step: _Step) -> tuple[float, Evidence]:
    parts = []
    current: _Step | None = step
    while current is not None and current.towards is not None:
        parts.append(f"{current.via} `{current.towards.block.qualname}`")
        current = current.towards
    depth = step.depth + (1 if step.member else 0)
    if depth == 1:
        return _SCORES["calls"], Evidence("calls", parts[0])
    member = f", and calls `.{step.member}` on it" if step.member else ""
    detail = ", which ".join(parts) + f"{member} ({depth} steps)"
    return round(0.8 - 0.1 * (depth - 2), 3), Evidence("helper", detail)


def _mention_name(block: Block) -> str:
    """How a test names a block: a constructor by its class."""
    if block.name == "__init__" and block.parent and block.kind is BlockKind.METHOD:
        return block.parent.rsplit("::", 1)[-1].rsplit(".", 1)[-1]
    return block.name if len(block.name) >= 3 else ""


def _contents(states: RepositoryStates, revision: Revision, path: str) -> bytes:
    return states.contents(revision, path) or b""


def _naming(graph: CodeGraph, changed: Sequence[Block]) -> Iterator[tuple[Block, Evidence]]:
    files: dict[str, list[str]] = {}
    for path in graph.paths():
        name = path.rsplit("/", 1)[-1]
        stem = name.removeprefix("test_").removesuffix(".py").removesuffix("_test")
        if is_test_path(path) and stem != name.removesuffix(".py"):
            files.setdefault(stem, []).append(path)
    for block in changed:
        *folders, name = block.path.split("/")
        stem = folders[-1] if name == "__init__.py" and folders else name.removesuffix(".py")
        owner = block.parent.rsplit("::", 1)[-1] if block.parent else ""
        key = _normal(owner if block.name == "__init__" else block.name)
        if len(key) < 3:
            continue
        for path in files.get(stem, ()):
            for test in graph.blocks_in(path):
                if is_test_function(test, graph) and key in _normal(test.name):
                    detail = f"in {path} for {block.path}, and its name mentions `{block.name}`"
                    yield test, Evidence("naming", detail)


def _normal(name: str) -> str:
    return name.replace("_", "").lower()


def _history(
    states: RepositoryStates, base: str, changes: Sequence[ClassifiedChange], graph: CodeGraph
) -> Iterator[tuple[Block, Evidence]]:
    """Tests that changed in the same earlier commits as a changed production block."""
    top = Path(states.repo.working_tree_dir or states.root).resolve()
    prefix = states.root.relative_to(top).as_posix() + "/"
    olds = [c.change.old for c in changes if c.change.old is not None]
    experiences = co_changes(
        states.repo,
        base,
        sorted({b.path for b in olds}),
        prefix="" if prefix == "./" else prefix,
    )
    changed = {(b.path, b.qualname) for b in olds}
    commits: dict[str, dict[str, list[str]]] = {}
    for e in experiences:
        if (e.production_path, e.production_qualname) in changed:
            by_block = commits.setdefault(f"{e.test_path}::{e.test_qualname}", {})
            by_block.setdefault(e.production_qualname, []).append(e.commit[:8])
    for test_id, by_block in commits.items():
        test = graph.get(test_id)
        if test is not None and is_test_function(test, graph):
            yield test, _history_evidence(by_block)


def _history_evidence(by_block: Mapping[str, list[str]]) -> Evidence:
    details = []
    for qualname, shas in sorted(by_block.items()):
        shown = ", ".join(shas[:3]) + (", …" if len(shas) > 3 else "")
        plural = "s" if len(shas) > 1 else ""
        details.append(f"`{qualname}` in {len(shas)} earlier commit{plural} ({shown})")
    return Evidence("history", "changed together with " + "; ".join(details))


def _impacted(test: Block, known: Mapping[str, tuple[float, Evidence]]) -> ImpactedTest:
    ranked = sorted(known.values(), key=lambda item: -item[0])
    kinds = [score for score, e in ranked if e.kind != "asserts"]
    score = kinds[0] + 0.05 * min(len(kinds) - 1, 2)
    return ImpactedTest(
        test.path,
        test.qualname,
        TestStatus.UNKNOWN,
        tuple(e for _, e in ranked),
        round(score, 3),
    )


def _asserts(
    graph: CodeGraph,
    test: Block,
    observed: Sequence[ClassifiedChange],
    trees: dict[str, Node],
    sources: Mapping[str, bytes],
) -> Evidence | None:
    """The "asserts" evidence, when the test asserts directly on a changed block whose
    return value, exceptions or defaults changed (see the module's docstring)."""
    direct = {r.block.id for r in graph.related(test.id, (Relation.CALLS, Relation.INSTANTIATES))}
    for item in observed:
        block = item.change.block
        target = graph.get(block.parent or "") if block.name == "__init__" else block
        if target is None or target.id not in direct:
            continue
        if test.path not in trees:
            trees[test.path] = parse_python(sources[test.path]).root_node
        function = trees[test.path].descendant_for_byte_range(test.start_byte, test.end_byte)
        if function is not None and _asserted_call(function, target.name):
            labels = ", ".join(label.value for label in item.labels if label in _OBSERVED)
            detail = (
                f"asserts on what `{block.qualname}` returns or raises, which changed ({labels})"
            )
            return Evidence("asserts", detail)
    return None


def _asserted_call(function: Node, name: str) -> bool:
    asserts = [n for n in _descendants(function) if n.type == "assert_statement"]
    asserted = {text(n) for a in asserts for n in _descendants(a) if n.type == "identifier"}
    for call in _descendants(function):
        if call.type != "call" or _callee(call) != name:
            continue
        node = call.parent
        while node is not None and node.id != function.id:
            if node.type == "assert_statement" or (
                node.type == "call" and _callee(node).startswith("assert")
            ):
                return True
            if node.type == "with_statement" and any(
                _callee(c).endswith(("raises", "Raises", "warns", "Warns"))
                for c in _descendants(node.children[1])
                if c.type == "call"
            ):
                return True
            left = node.child_by_field_name("left") if node.type == "assignment" else None
            if left is not None and left.type == "identifier" and text(left) in asserted:
                return True
            node = node.parent
    return False


def _callee(call: Node) -> str:
    function = call.child_by_field_name("function")
    if function is not None and function.type == "attribute":
        function = function.child_by_field_name("attribute")
    return text(function) if function is not None else ""


def _descendants(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.named_children)


def run_impacted(tests: Sequence[ImpactedTest], sandbox: Sandbox, tree: Path) -> list[ImpactedTest]:
    """Run the tests once in the sandbox over the changed `tree`; each gets its verdict and
    the "run" evidence."""
    if not tests:
        return []
    selected = sorted({t.node_id for t in tests})
    if len(selected) > MAX_NODE_IDS:
        selected = sorted({t.path for t in tests})
    run = sandbox.run_tests(tree, selected)
    if run.infrastructure_error:
        raise SandboxError(run.infrastructure_error)
    outcomes: dict[str, list[TestOutcome]] = {}
    for outcome in run.tests:  # a parametrized test's cases share its node id
        outcomes.setdefault(outcome.id.split("[", 1)[0], []).append(outcome)
    missing = "the run timed out" if run.timed_out else "not collected"
    return [_verdict(t, outcomes.get(t.node_id, []), missing) for t in tests]


def _verdict(test: ImpactedTest, outcomes: Sequence[TestOutcome], missing: str) -> ImpactedTest:
    failed = [o for o in outcomes if o.outcome in ("failed", "error") and not o.flaky]
    passed = [o for o in outcomes if o.outcome in ("passed", "xpass")]
    if failed:
        first = failed[0]
        line = (first.message.strip().splitlines() or ["(no message)"])[0]
        status, detail = TestStatus.BROKEN, f"{first.outcome}: {line}"
    elif any(o.flaky for o in outcomes):
        status, detail = TestStatus.UNKNOWN, "flaky: failed, then passed when run again"
    elif not passed:
        status, detail = TestStatus.UNKNOWN, "skipped" if outcomes else missing
    elif any(r.kind == "asserts" for r in test.reasons):
        status, detail = TestStatus.STALE, "passed, but asserts on behaviour the change altered"
    else:
        status, detail = TestStatus.UNAFFECTED, "passed"
    return replace(test, status=status, reasons=(*test.reasons, Evidence("run", detail)))
