"""Shared logic of the call-graph accuracy suite.

Used by `benchmarks/callgraph_accuracy.py` (the report) and `tests/test_callgraph_cases.py`
(the exact-match tests), so both judge the analyzer the same way.  Nothing here imports
CodePlan until `analyze` is called: loading and validating cases works without the builder.

A case is a folder under `benchmarks/cases/callgraph/` holding a small Python project and
an `expected.json`::

    {"description": "...", "edges": [["src id", "target id", "Calls"], ...]}

listing every `Calls` and `Instantiates` edge the project has, with block ids in the
graph's `path::qualname` form (the module block's id is its path).  The list is complete:
an edge of those relations that the analyzer reports and the list lacks is a false positive.
"""

from __future__ import annotations

import ast
import json
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent / "cases" / "callgraph"
RELATIONS = ("Calls", "Instantiates")

EdgeTriple = tuple[str, str, str]  # (source id, target id, relation name)


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    description: str
    expected: frozenset[EdgeTriple]


@dataclass(frozen=True)
class Comparison:
    """Expected against reported edges of one case."""

    expected: frozenset[EdgeTriple]
    actual: frozenset[EdgeTriple]

    @property
    def missing(self) -> list[EdgeTriple]:
        """False negatives: expected edges the analyzer did not report."""
        return sorted(self.expected - self.actual)

    @property
    def spurious(self) -> list[EdgeTriple]:
        """False positives: reported edges the case does not have."""
        return sorted(self.actual - self.expected)

    @property
    def tp(self) -> int:
        return len(self.expected & self.actual)

    @property
    def fp(self) -> int:
        return len(self.actual - self.expected)

    @property
    def fn(self) -> int:
        return len(self.expected - self.actual)

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass(frozen=True)
class CaseResult:
    """One case's outcome; `error` is set (and `comparison` is None) when analysis failed,
    in which case every expected edge counts as missed."""

    case: Case
    comparison: Comparison | None
    error: str | None = None

    @property
    def tp(self) -> int:
        return self.comparison.tp if self.comparison else 0

    @property
    def fp(self) -> int:
        return self.comparison.fp if self.comparison else 0

    @property
    def fn(self) -> int:
        return self.comparison.fn if self.comparison else len(self.case.expected)

    @property
    def missing(self) -> list[EdgeTriple]:
        return self.comparison.missing if self.comparison else sorted(self.case.expected)

    @property
    def spurious(self) -> list[EdgeTriple]:
        return self.comparison.spurious if self.comparison else []

    @property
    def precision(self) -> float:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return ratio(self.tp, self.tp + self.fn)


@dataclass(frozen=True)
class Totals:
    """Micro-averaged scores: edge counts summed over cases before dividing."""

    cases: int
    exact: int  # cases whose edge set matched exactly
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def ratio(num: int, den: int) -> float:
    """num/den, with an empty denominator scoring 1.0 (nothing reported, nothing wrong)."""
    return 1.0 if den == 0 else num / den


# -- cases -------------------------------------------------------------------------------


def discover_cases(root: Path = CASES_DIR) -> list[Path]:
    """The case folders under `root` (those holding an expected.json), sorted by name."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "expected.json").is_file())


def load_case(case_dir: Path) -> Case:
    data = json.loads((case_dir / "expected.json").read_text(encoding="utf-8"))
    edges: set[EdgeTriple] = set()
    for row in data["edges"]:
        if not (isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)):
            raise ValueError(f"{case_dir.name}: malformed edge {row!r}")
        edges.add((row[0], row[1], row[2]))
    return Case(case_dir.name, case_dir, str(data.get("description", "")), frozenset(edges))


def analyze(case_dir: Path) -> frozenset[EdgeTriple]:
    """Build the case's graph from scratch and return its Calls/Instantiates edges."""
    from codeplan.graph import GraphOptions, build_graph

    builder = build_graph(case_dir, options=GraphOptions(use_cache=False))
    return frozenset(
        (e.source, e.target, e.relation.value)
        for e in builder.graph.edges()
        if e.relation.value in RELATIONS
    )


def compare(expected: Iterable[EdgeTriple], actual: Iterable[EdgeTriple]) -> Comparison:
    return Comparison(frozenset(expected), frozenset(actual))


def run_case(case: Case) -> CaseResult:
    """Analyze one case; an exception becomes the result's `error` instead of propagating."""
    try:
        actual = analyze(case.path)
    except Exception as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return CaseResult(case, None, detail)
    return CaseResult(case, compare(case.expected, actual))


def totals(results: Iterable[CaseResult]) -> Totals:
    rows = list(results)
    return Totals(
        cases=len(rows),
        exact=sum(1 for r in rows if r.comparison is not None and r.comparison.ok),
        tp=sum(r.tp for r in rows),
        fp=sum(r.fp for r in rows),
        fn=sum(r.fn for r in rows),
    )


def format_edge(edge: EdgeTriple) -> str:
    source, target, relation = edge
    return f"{source} -{relation}-> {target}"


def describe_mismatch(name: str, comparison: Comparison) -> str:
    """A readable account of how a case's reported edges differ from the expected ones."""
    lines = [f"case {name}: {comparison.fn} missing, {comparison.fp} spurious edge(s)"]
    lines += [f"  missing:  {format_edge(e)}" for e in comparison.missing]
    lines += [f"  spurious: {format_edge(e)}" for e in comparison.spurious]
    return "\n".join(lines)


# -- validation of expected.json ---------------------------------------------------------


def _definitions(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """(qualname, "class" | "function") for every class and def, nested ones included."""

    def walk(nodes: list[ast.stmt], prefix: str) -> Iterator[tuple[str, str]]:
        for node in nodes:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                qualname = f"{prefix}{node.name}"
                yield qualname, "class" if isinstance(node, ast.ClassDef) else "function"
                yield from walk(node.body, qualname + ".")
            else:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        yield from walk([child], prefix)

    yield from walk(tree.body, "")


def validate_case(case: Case) -> list[str]:
    """Problems with a case's expected.json: unknown relations, ids naming no file or no
    definition, Calls to a class, Instantiates of a non-class, a missing description.
    Guards the ground truth against typos; needs no analyzer."""
    kinds: dict[str, str] = {}
    for file in sorted(case.path.rglob("*.py")):
        rel = file.relative_to(case.path).as_posix()
        kinds[rel] = "module"
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=rel)
        for qualname, kind in _definitions(tree):
            kinds[f"{rel}::{qualname}"] = kind

    problems = []
    for edge in sorted(case.expected):
        source, target, relation = edge
        where = f"{case.name}: {format_edge(edge)}"
        if relation not in RELATIONS:
            problems.append(f"{where}: relation must be one of {RELATIONS}")
            continue
        for role, block in (("source", source), ("target", target)):
            if block not in kinds:
                problems.append(f"{where}: {role} {block!r} is not a module or definition")
        if target in kinds:
            wanted = "class" if relation == "Instantiates" else "function"
            if kinds[target] != wanted:
                problems.append(f"{where}: target is a {kinds[target]}, expected a {wanted}")
    if not case.description:
        problems.append(f"{case.name}: expected.json has no description")
    return problems
