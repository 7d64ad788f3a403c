"""The records of benchmarks/coevolution.py (a commit of the history, the case measured on
it) and what its static and dynamic stages share: writing files into the tree, test ids,
scoring against a truth, and the report's tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import git

from codeplan.evolve.model import ChangedCode, ImpactedTest

CUTS = {"calls": 1.0, "helpers": 0.6, "history": 0.45, "all": 0.0}


@dataclass
class Case:
    commit: str
    negative: bool  # production-only
    changed_blocks: int
    truth: list[str]
    referencing: list[str]  # the truth that mentions a changed block's name
    # ... a block whose change the tests can observe (not a typing or documentation change)
    referencing_runtime: list[str]
    found: dict[str, tuple[float, list[str]]]  # test id -> score, evidence kinds
    naming: list[str]
    mention: list[str]
    seconds: float
    # identified "tests" pytest cannot collect (functions nested in a test): pytest refuses
    # a run naming one ("found no collectors"), so --run leaves them out
    uncollectable: list[str] = field(default_factory=list)
    # with --run (co-change cases only):
    ran: bool = False
    verdicts: dict[str, str] = field(default_factory=dict)  # identified test id -> status
    breaks: list[str] = field(default_factory=list)  # changed tests the change breaks
    # changed tests that ran a block the change altered at runtime, traced on the parent
    executing: list[str] = field(default_factory=list)
    executes: list[str] = field(default_factory=list)  # tests the run saw run changed code
    failing_before: list[str] = field(default_factory=list)  # not passing on the parent
    run_error: str = ""
    judged: bool = False  # the passing tests' verdicts are the editor's (--judge)
    run_seconds: float = 0.0
    # with --update-sample: identified broken test -> what updating it with the oracle gave
    # ("updated": passes now; "unchanged": the commit left it as it was; "guard": the
    # weakened-test guard refused the commit's version; "rejected": the edit did not apply;
    # "failed": the commit's version of the block alone still fails)
    updates: dict[str, str] = field(default_factory=dict)
    update_notes: dict[str, str] = field(default_factory=dict)  # why not updated, in short
    # tests the run found broken that the commit did not change, yet that pass on the
    # commit's whole tree: its test-side edits elsewhere (an import, a fixture, a conftest)
    # repaired them, so the change made them obsolete too
    repaired: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Commit:
    commit: git.Commit
    production: dict[str, bytes | None]  # path -> new contents (None: deleted)
    names: frozenset[str]  # the changed production blocks' names, as tests would say them
    runtime_names: frozenset[str]  # ... of those whose change has a runtime effect
    # those of them that are functions or methods, as they were in the parent
    runtime_blocks: tuple[ChangedCode, ...]
    stems: frozenset[str]  # the changed production modules' names
    truth: frozenset[str]
    answers: dict[str, str | None]  # changed test id -> its block's text in the commit

    def parent_production(self) -> dict[str, bytes | None]:
        """The production files as they were in the parent (None: absent)."""
        tree = self.commit.parents[0].tree
        found: dict[str, bytes | None] = {}
        for path in self.production:
            try:
                found[path] = tree[path].data_stream.read()
            except KeyError:
                found[path] = None
        return found

    def test_side(self) -> dict[str, bytes | None]:
        """The other files the commit changed, as it left them (None: deleted)."""
        found: dict[str, bytes | None] = {}
        for diff in self.commit.parents[0].diff(self.commit):
            if diff.a_path and (diff.deleted_file or diff.renamed_file):
                found[diff.a_path] = None
            if diff.b_blob is not None and diff.b_path:
                found[diff.b_path] = diff.b_blob.data_stream.read()
        return {path: data for path, data in found.items() if path not in self.production}


def _write_files(work: Path, files: Mapping[str, bytes | None]) -> None:
    for path, data in files.items():
        target = work / path
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _id(test: ImpactedTest) -> str:
    return f"{test.path}::{test.qualname}"


def _score(
    cases: Sequence[Case],
    predict: Callable[[Case], set[str]],
    truths: Mapping[str, Callable[[Case], set[str]]],
) -> dict[str, float]:
    """Micro-averaged precision and recall against each truth (the first one's unsuffixed)."""
    predicted = sum(len(predict(c)) for c in cases)
    row: dict[str, float] = {"predicted": predicted}
    for suffix, truth in truths.items():
        hits = sum(len(predict(c) & truth(c)) for c in cases)
        wanted = sum(len(truth(c)) for c in cases)
        row[f"precision{suffix}"] = hits / predicted if predicted else 0.0
        row[f"recall{suffix}"] = hits / wanted if wanted else 1.0
    return row


def _at_least(cut: float, case: Case) -> set[str]:
    return {test for test, (score, _) in case.found.items() if score >= cut}


def _print_table(summary: dict[str, dict[str, float]], columns: Mapping[str, str]) -> None:
    """One row per method: predicted, precision, recall, and each of `columns` (heading ->
    the summary's key)."""
    widths = {heading: len(heading) + 2 for heading in columns}
    headings = "".join(f"{h:>{widths[h]}}" for h in columns)
    print(f"  {'method':<18}{'predicted':>10}{'precision':>11}{'recall':>8}{headings}")
    for name, row in summary.items():
        cells = "".join(f"{row[key]:>{widths[h]}.3f}" for h, key in columns.items())
        print(
            f"  {name:<18}{row['predicted']:>10}{row['precision']:>11.3f}{row['recall']:>8.3f}{cells}"
        )
