"""Updating an obsolete test: ask the editor (with the production change, retrieved past
co-changes as worked examples, and the failure), check the answer like any edit, reject
weakened tests and tests that stop exercising the changed code (a coverage shortfall:
in the dependency graph, then in a traced sandbox run), run the test in the sandbox, and feed
failures back, up to N attempts.  A test module that no longer imports has its imports
repaired first (evolve/imports.py); a test of deleted behaviour may be deleted.

The editor is the planner's: an `EditRequest` for the test block, so the LLM editor, its
cache and budgets, or any `--editor` (a replay, a human) work here unchanged."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from codeplan.edit.apply import Applied, Rejected, apply_answer, block_text, delete_block
from codeplan.edit.model import EditContext, Editor, EditRequest, RelatedCode, block_id_of
from codeplan.evolve.guard import weakened
from codeplan.evolve.imports import (
    DELETE_ANSWER,
    RunTest,
    mentions_import_error,
    repair_imports,
)
from codeplan.evolve.model import Experience, ImpactedTest, ProductionChange, TestStatus
from codeplan.evolve.reach import reach
from codeplan.evolve.rules import Rule, matching
from codeplan.evolve.verdict import IMPORT_FAILURE
from codeplan.graph.builder import GraphBuilder
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind
from codeplan.plan.planner import Tree

INSTRUCTION = (
    "This test is obsolete after the production change shown as an earlier edit. Update "
    "the test so that it checks the new behaviour: keep what it verifies, change what the "
    "change made wrong (arguments, expected values, exceptions). Do not skip it, do not "
    "remove assertions, do not catch the failure. Answer NO CHANGE if it needs none. If "
    "the change removed all the behaviour the test checks, answer DELETE TEST instead."
)

SHORTFALL = (
    "the update no longer exercises the changed code ({names}) {how}; test the new "
    "behaviour instead of going around it"
)
STATIC_SHORTFALL = "directly or through helpers"
RUNTIME_SHORTFALL = "when it runs: none of its lines execute"
# node id, files -> the lines of them the test executes (None: it cannot be traced)
TraceTest = Callable[[str, Sequence[str]], Mapping[str, frozenset[int]] | None]
REACH_DEPTH = 3  # as `tests impacted` searches
RULES_SHOWN = 3  # the best supported of the rules that match the change

FindExamples = Callable[[Sequence[ProductionChange]], Sequence[Experience]]


@dataclass(frozen=True)
class UpdateOutcome:
    test: ImpactedTest
    status: str  # "updated" | "deleted" | "unchanged" | "rejected" | "failed"
    attempts: int
    before: str
    after: str
    feedback: tuple[str, ...]  # why earlier answers were not kept
    # the module's import statements repaired first (before, after; "" after: deleted)
    imports: tuple[tuple[str, str], ...] = ()

    @property
    def settled(self) -> bool:
        """Whether the test is in step now: a stale test the editor finds still right may
        stay as it is, a broken one may not."""
        if self.status in ("rejected", "failed"):
            return False
        return not (self.status == "unchanged" and self.test.status is TestStatus.BROKEN)

    @property
    def diff(self) -> str:
        pieces = [*self.imports, (self.before, self.after)]
        return "".join(
            "".join(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    fromfile=f"a/{self.test.path}",
                    tofile=f"b/{self.test.path}",
                )
            )
            for before, after in pieces
        )


class TestUpdater:
    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        builder: GraphBuilder,
        tree: Tree,
        editor: Editor,
        run_test: RunTest,
        *,
        examples: FindExamples | None = None,
        rules: Sequence[Rule] = (),
        trace_test: TraceTest | None = None,
        attempts: int = 3,
        task: str = "Keep the tests in step with the production change",
    ) -> None:
        self.builder, self.tree, self.editor, self.run_test = builder, tree, editor, run_test
        self.examples = examples
        self.rules = rules  # learnt from the repository's history (evolve/rules.py)
        self.trace_test = trace_test
        self.attempts = attempts
        self.task = task
        self._repaired: set[str] = set()  # test modules whose imports were repaired
        # a test block this session updated or deleted -> how: the tests that inherit it
        # (`Sub.test_x` run from `Base.test_x`) follow it
        self._settled: dict[str, UpdateOutcome] = {}

    def update(
        self,
        test: ImpactedTest,
        changes: Sequence[ProductionChange],
        failure: str = "",
        *,
        behaviour_removed: bool | None = None,
    ) -> UpdateOutcome:
        """`behaviour_removed` (default: whether one of `changes` deleted its block) lets
        the update assert less, or delete the test.  A test whose module no longer imports
        gets that module's imports repaired first (evolve/imports.py)."""
        if behaviour_removed is None:
            behaviour_removed = any(change.removed for change in changes)
        followed = self._follows_its_definition(test)
        if followed is not None:
            return followed
        imports: tuple[tuple[str, str], ...] = ()
        if test.path not in self._repaired and (
            failure == IMPORT_FAILURE or mentions_import_error(failure)
        ):
            self._repaired.add(test.path)
            imports = repair_imports(
                self.builder, self.tree, self.editor, self.run_test, test.path, changes
            )
            if imports:
                passed, output = self.run_test(test.node_id)
                if passed:
                    block = defining_block(self.builder.graph, test)
                    read = self.tree.read
                    text = block_text(read(block.path) or b"", block) if block is not None else ""
                    return UpdateOutcome(test, "updated", 0, text, text, (), imports)
                failure = output
        outcome = self._update_block(test, changes, failure, behaviour_removed)
        return replace(outcome, imports=imports) if imports else outcome

    def _follows_its_definition(self, test: ImpactedTest) -> UpdateOutcome | None:
        """What happened to the test through the block that defines it, when this session
        already updated or deleted that block for another test: gone with a deleted one;
        updated with an updated one, if it passes now."""
        graph = self.builder.graph
        block = defining_block(graph, test)
        if block is None:
            name = test.qualname.rpartition(".")[2]
            for class_id in _classes_up(graph, test):
                definition = f"{class_id}.{name}"
                done = self._settled.get(definition)
                if done is not None and done.status == "deleted":
                    why = f"deleted with `{definition.split('::', 1)[1]}`, which defined it"
                    return UpdateOutcome(test, "deleted", 0, done.before, "", (why,))
            return None
        done = self._settled.get(block.id)
        if done is None or done.status != "updated":
            return None
        passed, _ = self.run_test(test.node_id)
        if not passed:
            return None  # updated for another test, still wrong for this one: update it
        why = f"updated with `{block.qualname}`, which defines it"
        return UpdateOutcome(test, "updated", 0, done.before, done.after, (why,))

    def _settle(self, block_id: str, outcome: UpdateOutcome) -> UpdateOutcome:
        self._settled[block_id] = outcome
        return outcome

    def _update_block(
        self,
        test: ImpactedTest,
        changes: Sequence[ProductionChange],
        failure: str,
        behaviour_removed: bool,
    ) -> UpdateOutcome:
        block = defining_block(self.builder.graph, test)
        if block is None:
            why = "no block of the repository defines this test (generated, or inherited from elsewhere)"
            return UpdateOutcome(test, "failed", 0, "", "", (why,))
        block_id = block.id
        original = self.tree.read(block.path) or b""
        before = block_text(original, block)
        feedback: list[str] = []
        examples = tuple(self.examples(changes)) if self.examples else ()
        # a test found through the changed code must still exercise it after the update,
        # unless the change removed or deprecated it: then moving away is the update
        exercised = (
            not behaviour_removed
            and not any(change.deprecates for change in changes)
            and self._exercises(block_id, changes)
        )
        for attempt in range(1, self.attempts + 1):
            request = self._request(test, block, before, changes, failure, examples, feedback)
            answer = self.editor(request)
            if answer is None:
                return UpdateOutcome(test, "unchanged", attempt, before, before, tuple(feedback))
            if DELETE_ANSWER.fullmatch(answer.strip()):
                refusal = self._delete(test, block, original, behaviour_removed)
                if refusal is None:
                    deleted = UpdateOutcome(test, "deleted", attempt, before, "", tuple(feedback))
                    return self._settle(block_id, deleted)
                feedback.append(refusal)
                continue
            outcome = apply_answer(original, block, answer)
            if isinstance(outcome, Rejected):
                feedback.append(outcome.reason)
                continue
            if not isinstance(outcome, Applied):
                return UpdateOutcome(test, "unchanged", attempt, before, before, tuple(feedback))
            self._write(block.path, outcome.new_file)
            edited = self._edited(block_id, outcome) or block
            after = block_text(outcome.new_file, edited)
            reason = weakened(before, after, behaviour_removed=behaviour_removed)
            if reason is None and exercised and not self._exercises(edited.id, changes):
                reason = _shortfall(changes, STATIC_SHORTFALL)
            if reason is not None:
                feedback.append(reason)
                self._write(block.path, original)
                continue
            passed, output = self.run_test(test.node_id)
            if passed and not (exercised and self._skips_changed_lines(test, changes)):
                updated = UpdateOutcome(test, "updated", attempt, before, after, tuple(feedback))
                return self._settle(edited.id, updated)
            if passed:
                feedback.append(_shortfall(changes, RUNTIME_SHORTFALL))
            else:
                feedback.append(f"the updated test still fails:\n{output[-1500:]}")
                failure = output
            self._write(block.path, original)
        status = "rejected" if feedback and not any("fails" in f for f in feedback) else "failed"
        return UpdateOutcome(test, status, self.attempts, before, before, tuple(feedback))

    def _skips_changed_lines(self, test: ImpactedTest, changes: Sequence[ProductionChange]) -> bool:
        """Whether a traced run of the test executes no line of any changed block (False
        when it cannot be traced)."""
        present = self._changed_blocks(changes)
        if self.trace_test is None or not present:
            return False
        executed = self.trace_test(test.node_id, sorted({b.path for b in present}))
        if executed is None:
            return False
        return not any(
            block.start_line <= line <= block.end_line
            for block in present
            for line in executed.get(block.path, ())
        )

    def _exercises(self, block_id: str, changes: Sequence[ProductionChange]) -> bool:
        """Whether the test block reaches a changed production block (calls, instantiates
        or uses it, directly or through helpers and fixtures, as `tests impacted` finds)."""
        present = self._changed_blocks(changes)
        if not present:
            return False

        def source(path: str) -> bytes:
            return self.tree.read(path) or b""

        return block_id in reach(self.builder.graph, present, REACH_DEPTH, source)

    def _changed_blocks(self, changes: Sequence[ProductionChange]) -> list[Block]:
        """The changed production blocks as the graph has them now (deleted ones gone)."""
        found = (self.builder.graph.get(block_id_of(c.path, c.qualname)) for c in changes)
        return [block for block in found if block is not None]

    def _delete(
        self, test: ImpactedTest, block: Block, original: bytes, behaviour_removed: bool
    ) -> str | None:
        """Delete the test's block; why not, as feedback, when that is not allowed."""
        if not behaviour_removed:
            return (
                "the update deletes the test, but the production change removed nothing it "
                "checks; update it instead"
            )
        if block.id != test.block_id:
            return "the test is inherited: deleting it would delete it from every class; update it instead"
        outcome = delete_block(original, block)
        if isinstance(outcome, Rejected):
            return f"the test cannot be deleted: {outcome.reason}; update it instead"
        self._write(block.path, outcome.new_file)
        return None

    def _edited(self, block_id: str, outcome: Applied) -> Block | None:
        """The test block after the edit, also when the answer renamed it."""
        current = self.builder.graph.get(block_id)
        if current is not None:
            return current
        path = block_id.split("::", 1)[0]
        for _, new_qualname in outcome.renames:
            renamed = self.builder.graph.get(f"{path}::{new_qualname}")
            if renamed is not None:
                return renamed
        return None

    def _write(self, path: str, data: bytes) -> None:
        self.tree.write(path, data)
        self.builder.update_file(path, data)

    def _request(
        self,
        test: ImpactedTest,
        block: Block,
        source: str,
        changes: Sequence[ProductionChange],
        failure: str,
        examples: Sequence[Experience],
        feedback: list[str],
    ) -> EditRequest:
        causes = tuple(f"{e.kind}: {e.detail}" for e in test.reasons)
        if block.id != test.block_id:
            causes += (f"it is inherited: the failing test is {test.node_id}",)
        if failure:
            causes += (f"it fails on the changed code:\n{failure.strip()[-1500:]}",)
        learnt = matching(self.rules, changes)[:RULES_SHOWN]
        causes += tuple(f"in this repository's history, {rule}" for rule in learnt)
        context = EditContext(
            task=self.task,
            causes=causes,
            earlier_edits=tuple(c.as_earlier_edit() for c in changes),
            related=tuple(_worked_example(e) for e in examples),
            feedback=tuple(feedback),
        )
        return EditRequest.of_block(block, source, INSTRUCTION, context)


def _shortfall(changes: Sequence[ProductionChange], how: str) -> str:
    return SHORTFALL.format(names=", ".join(f"`{c.qualname}`" for c in changes), how=how)


def _worked_example(experience: Experience) -> RelatedCode:
    """A past co-change, shown as related code: the production diff, then the test diff."""

    def diff(before: str, after: str, name: str) -> str:
        lines = difflib.unified_diff(
            before.splitlines(), after.splitlines(), f"a/{name}", f"b/{name}", lineterm="", n=2
        )
        return "\n".join(lines)

    text = (
        diff(experience.production_before, experience.production_after, experience.production_path)
        + "\n"
        + diff(experience.test_before, experience.test_after, experience.test_path)
    )
    message = experience.message.strip().splitlines()[0] if experience.message.strip() else ""
    relation = f"a past co-change in {experience.commit[:10]} ({message[:80]})"
    return RelatedCode(experience.test_path, experience.test_qualname, relation, text)


def defining_block(graph: CodeGraph, test: ImpactedTest) -> Block | None:
    """The block that defines the test: its own, or for a test method a class inherits
    (`Sub.test_x` run from `Base.test_x`) the nearest base class's method."""
    own = graph.get(test.block_id)
    if own is not None:
        return own
    name = test.qualname.rpartition(".")[2]
    for class_id in _classes_up(graph, test):
        for child in graph.children(class_id):
            if child.name == name and child.kind is BlockKind.METHOD:
                return child
    return None


def _classes_up(graph: CodeGraph, test: ImpactedTest) -> Iterator[str]:
    """The test's class, then its base classes, breadth first: the nearest base wins, as
    in Python's lookup."""
    owner = test.qualname.rpartition(".")[0]
    pending = [f"{test.path}::{owner}"] if owner else []
    seen: set[str] = set()
    while pending:
        class_id = pending.pop(0)
        if class_id in seen or class_id not in graph:
            continue
        seen.add(class_id)
        yield class_id
        pending.extend(base.id for base in graph.superclasses(class_id))
