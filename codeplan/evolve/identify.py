"""Which tests a production change reaches, and why; then what running them says.

Static evidence, strongest first (each test keeps its best of each kind):

- calls: the test itself calls, instantiates or uses a changed block (score 1.0);
- helper: it reaches one through helpers, fixtures or other code within `max_depth` steps
  (five by default: framework code such as a CLI runner's `invoke` is that deep; 0.8 at
  two steps, 0.1 less per further step);
- history: it changed in the same earlier commits as a changed block (0.45);
- naming: it is in test_x.py (or x_test.py) for a changed x.py and its name mentions the
  changed block's name (0.3).

A test with several kinds of evidence gets 0.05 more per extra kind (at most two).  History,
naming and helper paths of three steps or more count only for a test whose text names a
changed block (a constructor by its class): on real history, without that gate they
flag mostly tests nobody needed to touch (benchmarks/coevolution.py).  A two-step helper
path still counts for a test that names none, but ranks last (0.4): through a library's
entry point (`requests.get`) it reaches most of the suite: on requests' history, 24 of
the 7,412 tests flagged that way had been changed.  The ranking is what
`tests impacted --min-score` cuts.

What running them says is codeplan/evolve/verdict.py (`run_impacted`, re-exported here);
the search behind "calls" and "helper" is codeplan/evolve/reach.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache, partial
from pathlib import Path

from tree_sitter import Node

from codeplan.evolve.history import PRODUCTION_KINDS, co_changes, is_test_function
from codeplan.evolve.model import ChangedCode, Evidence, Identified, ImpactedTest, TestStatus
from codeplan.evolve.reach import reach, reach_evidence
from codeplan.evolve.verdict import OBSERVED, asserts, run_impacted
from codeplan.graph import GraphOptions
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind
from codeplan.impact.analysis import ClassifiedChange
from codeplan.impact.classify import ChangeLabel
from codeplan.impact.states import RepositoryStates, Revision, compare
from codeplan.validate.parsers import is_test_path

__all__ = ["identify", "run_impacted"]

_SCORES = {"history": 0.45, "naming": 0.3}
UNNAMED_HELPER_SCORE = 0.4  # below every evidence of a test that names the changed code
DEFAULT_DEPTH = 5  # on real history, deeper finds no more (benchmarks/coevolution.py)


def identify(
    root: Path,
    base: str = "HEAD",
    head: str | None = None,
    *,
    max_depth: int = DEFAULT_DEPTH,
    history: bool = True,
    min_score: float = 0.0,
    options: GraphOptions | None = None,
) -> Identified:
    """The tests the production changes from `base` to `head` (None: the working tree)
    reach, best first, all UNKNOWN until run; and the changed code a run can watch them
    execute.
    The graphs it builds are frozen out of the cyclic collector's reach (graph/gcpause.py):
    a process calling it many times calls `release_frozen()` between calls."""
    options = options or GraphOptions()
    comparison = compare(root, base, head, options)
    report, states = comparison.report, comparison.states
    old_revision, new_revision = comparison.old_revision, comparison.new_revision
    old, new = comparison.old.graph, comparison.new.graph
    # no test can tell a typing or documentation change from none
    observable = [
        c
        for c in report.changes
        if not is_test_path(c.change.block.path) and ChangeLabel.NO_RUNTIME_CHANGE not in c.labels
    ]
    changes = [c for c in observable if c.change.block.kind in PRODUCTION_KINDS]
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
                add(step.block.id, *reach_evidence(step))
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
        for kind, (score, evidence) in list(known.items()):
            if kind in ("history", "naming") or (kind == "helper" and score < 0.8):
                del known[kind]
            elif kind == "helper":
                unnamed = f"{evidence.detail}; the test never names it"
                known[kind] = (UNNAMED_HELPER_SCORE, Evidence(kind, unnamed))
        if not known:
            del found[test_id]
    observed = [c for c in changes if c.change.new is not None and OBSERVED & set(c.labels)]
    trees: dict[str, Node] = {}
    for test_id, known in found.items():
        asserted = asserts(new, new.block(test_id), observed, trees, sources)
        if asserted is not None:
            known["asserts"] = (0.0, asserted)
    tests = sorted(
        (_impacted(new.block(test_id), known) for test_id, known in found.items()),
        key=lambda t: (-t.score, t.path, t.qualname),
    )
    tests = [t for t in tests if t.score >= min_score]
    changed = tuple(
        sorted(
            (_changed_code(c) for c in observable if _traceable(c)),
            key=lambda code: (code.path, code.start_line),
        )
    )
    return Identified(tests, changed, traceable=len(changed) == len(observable), graph=new)


def _traceable(change: ClassifiedChange) -> bool:
    """A function or method as it is now: tests running it can be watched (code run at
    import, as class bodies, fields and imports are, cannot; a deleted block is gone)."""
    block = change.change.new
    return block is not None and block.kind in (BlockKind.FUNCTION, BlockKind.METHOD)


def _changed_code(change: ClassifiedChange) -> ChangedCode:
    block, old = change.change.block, change.change.old
    comparable = (
        old is not None
        and (old.path, old.qualname) == (block.path, block.qualname)
        and change.escape is not None  # a body change, its escape analysed
        and not {"globals", "io"} & set(change.escape.aspects)
    )
    return ChangedCode(block.path, block.qualname, block.start_line, block.end_line, comparable)


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
