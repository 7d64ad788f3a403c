"""The LLM stage of test identification (after REACCEPT): of the tests that still pass on
the changed code, which check behaviour the change altered?

Static and dynamic evidence can say that a test reaches or runs the changed code, not
whether what it asserts still describes the new behaviour.  The editor is asked that, for
up to `TriageLimits.blocks` tests (and `chars` characters of them) at a time, through the
planner's triage (`TriagingEditor.triage`, prompts/triage.j2) with a task that asks about
tests.  The tests it picks are stale; the others are unaffected, each with the verdict as
"judge" evidence.  Broken tests need no judge (they fail), and tests no evidence links to
the change are not asked about.  An answer the editor cannot read keeps every test it was
asked about: a stale test wrongly cleared would never be updated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from codeplan.edit.model import TriageCandidate, TriageRequest, TriagingEditor
from codeplan.evolve.model import Evidence, ImpactedTest, ProductionChange, TestStatus
from codeplan.evolve.update import defining_block
from codeplan.graph.codegraph import CodeGraph
from codeplan.plan.triage import TriageLimits, candidate_of, chunks

JUDGE_TASK = (
    "These tests pass on the changed production code, and run it. Pick the tests that "
    "check behaviour the production change altered (a returned value, a default, a raised "
    "exception, an output): they are stale and must be updated to check the new behaviour. "
    "Leave out tests whose checks hold just as well after the change."
)
STALE_VERDICT = "the editor judged that it checks behaviour the change altered"
UNAFFECTED_VERDICT = "the editor judged that its checks hold after the change"
# evidence that it reaches the change
LINKS = ("calls", "helper", "asserts", "executes", "behaves")


def judge_passing_tests(
    tests: Sequence[ImpactedTest],
    changes: Sequence[ProductionChange],
    graph: CodeGraph,
    read: Callable[[str], bytes | None],
    editor: TriagingEditor,
    limits: TriageLimits | None = None,
) -> list[ImpactedTest]:
    """`tests`, the passing ones linked to the change judged stale or unaffected."""
    limits = limits or TriageLimits()
    names = {change.qualname.rsplit(".", 1)[-1] for change in changes}
    asked: dict[str, list[ImpactedTest]] = {}  # candidate block id -> the tests it stands for
    candidates: dict[str, TriageCandidate] = {}
    for test in tests:
        if not _judged(test):
            continue
        block = defining_block(graph, test)
        source = read(block.path) if block is not None else None
        if block is None or source is None:
            continue
        asked.setdefault(block.id, []).append(test)
        if block.id not in candidates:
            causes = tuple(f"{r.kind}: {r.detail}" for r in test.reasons)
            candidates[block.id] = candidate_of(block, source, names, causes, limits)
    edits = tuple(change.as_earlier_edit() for change in changes)
    verdicts: dict[str, bool] = {}
    for group in chunks(list(candidates.values()), lambda c: len(c.shown), limits):
        stale = editor.triage(TriageRequest(JUDGE_TASK, edits, tuple(group)))
        verdicts.update((c.block_id, c.block_id in stale) for c in group)
    judged = {
        id(test): _verdict(test, verdicts[block_id])
        for block_id, linked in asked.items()
        for test in linked
    }
    return [judged.get(id(test), test) for test in tests]


def _judged(test: ImpactedTest) -> bool:
    passed = test.status in (TestStatus.STALE, TestStatus.UNAFFECTED)
    return passed and any(r.kind in LINKS for r in test.reasons)


def _verdict(test: ImpactedTest, stale: bool) -> ImpactedTest:
    status = TestStatus.STALE if stale else TestStatus.UNAFFECTED
    evidence = Evidence("judge", STALE_VERDICT if stale else UNAFFECTED_VERDICT)
    return replace(test, status=status, reasons=(*test.reasons, evidence))
