"""Updating obsolete tests: the weakened-test guard, and the update loop against real
pytest runs on the example (production changed, tests not yet)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from codemods import NEW_SIGNATURE, OLD_SIGNATURE, SwapPriceArguments
from planner_helpers import example_repo

from codeplan.edit.model import EditRequest
from codeplan.evolve.guard import shape_of, weakened
from codeplan.evolve.model import Evidence, ImpactedTest, ProductionChange, TestStatus
from codeplan.evolve.rules import Rule
from codeplan.evolve.update import TestUpdater
from codeplan.evolve.verdict import IMPORT_FAILURE
from codeplan.graph import GraphOptions, build_graph
from codeplan.plan.folder import FolderTree

TEST = "test_price_with_tax_applies_the_category_rate"


def pytest_runner(root: Path):  # type: ignore[no-untyped-def]
    def run(node_id: str) -> tuple[bool, str]:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node_id],
            cwd=root, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return done.returncode == 0, done.stdout + done.stderr

    return run


@pytest.fixture
def changed(tmp_path: Path) -> Path:
    """The example with only the production side of the argument swap made."""
    repo = example_repo(tmp_path)
    for path in ("inventory/pricing.py", "inventory/reports.py"):
        file = repo / path
        text = file.read_text().replace(OLD_SIGNATURE, NEW_SIGNATURE)
        request = EditRequest(path, "", "module", "python", text, "")
        file.write_text(SwapPriceArguments()(request) or text)
    return repo


def obsolete(name: str = TEST) -> ImpactedTest:
    return ImpactedTest(
        "tests/test_pricing.py", name, TestStatus.BROKEN, (Evidence("calls", "calls it"),)
    )


CHANGE = ProductionChange(
    "inventory/pricing.py",
    "price_with_tax",
    OLD_SIGNATURE + "\n    ...",
    NEW_SIGNATURE + "\n    ...",
)


def test_the_guard_counts_what_a_test_checks() -> None:
    shape = shape_of(
        "@pytest.mark.skip\ndef test_x(self):\n    assert f() == 1\n"
        "    self.assertEqual(g(), 2)\n    with pytest.raises(E):\n        h()\n"
        "    try:\n        k()\n    except Exception:\n        pass\n"
    )
    assert (shape.asserts, shape.skips, shape.swallowed) == (3, 1, 1)


@pytest.mark.parametrize(
    ("after", "complaint"),
    [
        ("def test_x():\n    f()\n", "checks less"),
        ("@pytest.mark.xfail\ndef test_x():\n    assert f() == 2\n", "skips or xfails"),
        ("def test_x():\n    try:\n        assert f() == 2\n    except AssertionError:\n        pass\n",
         "ignores it"),
        ("def test_x():\n    pytest.skip('later')\n    assert f() == 2\n", "skips"),
    ],
)  # fmt: skip
def test_weakened_updates_are_rejected(after: str, complaint: str) -> None:
    reason = weakened("def test_x():\n    assert f() == 1\n", after)
    assert reason is not None and complaint in reason


def test_a_faithful_update_passes_the_guard() -> None:
    assert (
        weakened(
            "def test_x():\n    assert f(1, 'a') == 1\n",
            "def test_x():\n    assert f('a', 1) == 1\n",
        )
        is None
    )
    # when the behaviour is gone, checking less is the point
    assert (
        weakened(
            "def test_x():\n    assert f() == 1\n    assert g()\n",
            "def test_x():\n    assert g()\n",
            behaviour_removed=True,
        )
        is None
    )


def test_an_obsolete_test_is_updated_and_passes(changed: Path) -> None:
    assert not pytest_runner(changed)(obsolete().node_id)[0]  # broken before the update
    builder = build_graph(changed, GraphOptions(use_cache=False))
    updater = TestUpdater(
        builder, FolderTree(changed), SwapPriceArguments(), pytest_runner(changed)
    )
    outcome = updater.update(obsolete(), [CHANGE], "TypeError")
    assert outcome.status == "updated" and outcome.attempts == 1
    assert 'price_with_tax("general", Decimal("10.00"))' in outcome.after
    assert pytest_runner(changed)(obsolete().node_id)[0]


def test_failing_and_weakened_answers_get_feedback_then_a_good_one_is_kept(changed: Path) -> None:
    asked: list[EditRequest] = []
    good = SwapPriceArguments()

    def editor(request: EditRequest) -> str | None:
        asked.append(request)
        if len(asked) == 1:  # drops the assertions
            return request.source.split("\n")[0] + "\n    pass\n"
        if len(asked) == 2:  # compiles but still wrong
            return request.source.replace('"12.00"', '"99.00"')
        return good(request)

    builder = build_graph(changed, GraphOptions(use_cache=False))
    learnt = [Rule("deleted", "deleted", 5, 5), Rule("params-reordered", "call-arguments", 3, 4)]
    updater = TestUpdater(
        builder, FolderTree(changed), editor, pytest_runner(changed), rules=learnt
    )
    outcome = updater.update(obsolete(), [CHANGE], "TypeError")
    assert outcome.status == "updated" and outcome.attempts == 3
    assert "checks less" in outcome.feedback[0]
    assert "still fails" in outcome.feedback[1]
    assert asked[2].context.feedback == outcome.feedback
    assert asked[0].context.earlier_edits[0].after.startswith(NEW_SIGNATURE)
    # the rule about this kind of change is shown; the one about deletions is not
    history = [c for c in asked[0].context.causes if c.startswith("in this repository's")]
    assert history == [
        "in this repository's history, when parameters are reordered, tests changed the "
        "arguments of their calls to it (3 of 4 past commits)"
    ]


def test_an_update_that_never_passes_leaves_the_test_as_it_was(changed: Path) -> None:
    before = (changed / "tests/test_pricing.py").read_bytes()
    builder = build_graph(changed, GraphOptions(use_cache=False))

    def stubborn(request: EditRequest) -> str:
        return request.source.replace('"12.00"', '"99.00"')

    updater = TestUpdater(
        builder, FolderTree(changed), stubborn, pytest_runner(changed), attempts=2
    )
    outcome = updater.update(obsolete(), [CHANGE], "TypeError")
    assert outcome.status == "failed" and outcome.attempts == 2
    assert (changed / "tests/test_pricing.py").read_bytes() == before


def test_codeplan_tests_evolve_updates_the_obsolete_tests_and_applies_them(changed: Path) -> None:
    from cli_helpers import run

    editor = Path(__file__).resolve().parent.parent / "examples" / "swap_price_arguments.py"
    outcome = run(
        "tests", "evolve", str(changed), "--backend", "local", "--apply", "-f", "json",
        "--editor", f"{editor}:SwapPriceArguments",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.out + outcome.err
    import json

    data = json.loads(outcome.out)
    updated = {u["qualname"] for u in data["updates"] if u["status"] == "updated"}
    assert TEST in updated and len(updated) == 3
    assert data["applied"] == ["tests/test_pricing.py"]
    assert (
        'price_with_tax("general", Decimal("10.00"))'
        in (changed / "tests/test_pricing.py").read_text()
    )
    assert pytest_runner(changed)("tests")[0]  # the whole suite passes again


def test_weakening_answers_are_reported_and_never_applied(changed: Path) -> None:
    from cli_helpers import run

    before = (changed / "tests/test_pricing.py").read_bytes()
    weak = changed.parent / "weak_editor.py"
    weak.write_text(
        "def weaken(request):\n"
        "    head = request.source.split('\\n')[0]\n"
        "    return head + '\\n    pass\\n'\n"
    )
    outcome = run("tests", "evolve", str(changed), "--backend", "local", "--apply",
                  "--editor", f"{weak}:weaken", "--attempts", "2", "-f", "json")  # fmt: skip
    assert outcome.exit_code == 1
    import json

    updates = json.loads(outcome.out)["updates"]
    assert updates and all(u["status"] == "rejected" for u in updates)
    assert "checks less" in updates[0]["feedback"][0]
    assert (changed / "tests/test_pricing.py").read_bytes() == before


FORGETS_TESTS = """
import sys
sys.path.insert(0, {examples!r})
from swap_price_arguments import SwapPriceArguments
from codeplan.evolve.update import INSTRUCTION


class ForgetsTests(SwapPriceArguments):
    # edits the production blocks, and a test only when it is asked to update it
    def __call__(self, request):
        if request.path.startswith("tests/") and request.instruction != INSTRUCTION:
            return None
        return super().__call__(request)
"""


def test_a_done_run_updates_the_tests_it_made_obsolete(tmp_path: Path) -> None:
    import json

    from cli_helpers import run
    from codemods import TASK

    from codeplan.deliver.workspace import Workspace
    from codeplan.plan.model import ObligationStatus
    from codeplan.plan.store import RunStore

    repo = example_repo(tmp_path)
    examples = Path(__file__).resolve().parent.parent / "examples"
    editor = tmp_path / "forgets_tests.py"
    editor.write_text(FORGETS_TESTS.format(examples=str(examples)))
    outcome = run(
        "run", TASK, "--seed", "inventory/pricing.py::price_with_tax", "-C", repo,
        "--editor", f"{editor}:ForgetsTests", "--no-validate", "--evolve-tests",
        "--sandbox", "local", "-f", "json",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.out + outcome.err
    data = json.loads(outcome.out)
    assert data["status"] == "done", data["reason"]
    plan = RunStore(repo).load(data["run"]).plan
    updated = {
        e.qualname
        for e in plan.edits.values()
        if plan.obligations[e.obligation_id].causes[0].kind == "test-update"
    }
    assert TEST in updated and len(updated) == 3
    assert all(e.commit for e in plan.edits.values())  # resume rewinds to the last one
    settled = [o for o in plan.obligations.values() if o.causes[0].kind == "test-update"]
    # the three broken tests are updated; a stale one the editor finds right stays as it is
    assert sum(o.status is ObligationStatus.EDITED for o in settled) == 3
    assert all(o.status is not ObligationStatus.REJECTED for o in settled)
    assert 'price_with_tax("general", Decimal("10.00"))' in data["diff"]
    events = [e["event"] for e in RunStore(repo).events(data["run"])]
    assert events.count("test-update") == len(settled) and events[-1] == "finish"
    # the branch holds the production change and the updated tests: its suite passes
    assert pytest_runner(Workspace.open(repo, data["run"]).root)("tests")[0]


JUDGES_TESTS = """
import json
from codeplan.edit.model import block_id_of
from codeplan.evolve.judge import JUDGE_TASK


class JudgesTests(ForgetsTests):
    # the planner's triage keeps every block; the judge calls every passing test stale
    def triage(self, request):
        ids = frozenset(block_id_of(c.path, c.qualname) for c in request.candidates)
        if request.task == JUDGE_TASK:
            with open({judged!r}, "a") as asked:
                asked.write(json.dumps(sorted(ids)) + "\\n")
        return ids
"""


def test_a_run_asked_to_judge_tests_updates_the_passing_ones_judged_stale(
    tmp_path: Path,
) -> None:
    import json

    from cli_helpers import run
    from codemods import TASK

    from codeplan.plan.store import RunStore

    examples = Path(__file__).resolve().parent.parent / "examples"
    judged = tmp_path / "judged.jsonl"
    editor = tmp_path / "judges_tests.py"
    editor.write_text(
        FORGETS_TESTS.format(examples=str(examples)) + JUDGES_TESTS.format(judged=str(judged))
    )
    args = ("run", TASK, "--seed", "inventory/pricing.py::price_with_tax", "--editor",
            f"{editor}:JudgesTests", "--no-validate", "--sandbox", "local", "-f", "json")  # fmt: skip

    def test_updates(repo: Path, *flags: str) -> set[str]:
        outcome = run(*args, *flags, "-C", repo)
        data = json.loads(outcome.out)
        assert data["status"] == "done", data["reason"]
        plan = RunStore(repo).load(data["run"]).plan
        return {o.block_id for o in plan.obligations.values() if o.causes[0].kind == "test-update"}

    unjudged = test_updates(example_repo(tmp_path / "unjudged"), "--evolve-tests")
    assert not judged.exists()  # without --judge-tests the judge is never asked
    judging = test_updates(example_repo(tmp_path / "judging"), "--judge-tests")  # implies evolve
    asked = [json.loads(line) for line in judged.read_text().splitlines()]
    assert len(asked) == 1 and asked[0]
    # every passing test it was asked about, and called stale, became an obligation too
    assert set(asked[0]) <= judging and unjudged < judging


def test_the_runs_budget_also_bounds_the_test_update_step(tmp_path: Path) -> None:
    import json

    from cli_helpers import run
    from codemods import TASK

    from codeplan.plan.store import RunStore

    examples = Path(__file__).resolve().parent.parent / "examples"
    editor = tmp_path / "forgets_tests.py"
    editor.write_text(FORGETS_TESTS.format(examples=str(examples)))
    args = ("run", TASK, "--seed", "inventory/pricing.py::price_with_tax", "--editor",
            f"{editor}:ForgetsTests", "--no-validate", "--evolve-tests", "--sandbox", "local",
            "-f", "json")  # fmt: skip
    free = example_repo(tmp_path / "free")
    unbounded = json.loads(run(*args, "-C", free).out)
    plan = RunStore(free).load(unbounded["run"]).plan
    phase_calls = sum(
        o.attempts for o in plan.obligations.values() if o.causes[0].kind == "test-update"
    )
    loop_calls = unbounded["usage"]["calls"] - phase_calls
    bounded = example_repo(tmp_path / "bounded")
    outcome = run(*args, "-C", bounded, "--max-calls", str(loop_calls))
    data = json.loads(outcome.out)
    assert outcome.exit_code == 3, data
    assert data["status"] == "stopped" and "editor-call budget" in data["reason"]
    assert data["usage"]["calls"] == loop_calls


INHERITED = """from decimal import Decimal

from inventory.pricing import price_with_tax


class PricingChecks:
    category = "food"

    def test_price(self) -> None:
        assert price_with_tax(Decimal("10.00"), self.category) == Decimal("10.50")


class TestFood(PricingChecks):
    pass
"""


def swapping_updater(changed: Path, name: str, text: str) -> tuple[TestUpdater, list[str]]:
    """An updater for the test module `tests/<name>` whose editor swaps the inherited
    test's arguments, and the ids of the blocks it asks that editor about."""
    (changed / "tests" / name).write_text(text)
    builder = build_graph(changed, GraphOptions(use_cache=False))
    asked: list[str] = []

    def editor(request: EditRequest) -> str | None:
        asked.append(request.block_id)
        return request.source.replace(
            'price_with_tax(Decimal("10.00"), self.category)',
            'price_with_tax(self.category, Decimal("10.00"))',
        )

    return TestUpdater(builder, FolderTree(changed), editor, pytest_runner(changed)), asked


def test_an_inherited_test_is_updated_where_it_is_defined(changed: Path) -> None:
    updater, asked = swapping_updater(changed, "test_inherited.py", INHERITED)
    test = ImpactedTest("tests/test_inherited.py", "TestFood.test_price", TestStatus.BROKEN, ())
    outcome = updater.update(test, [CHANGE], "TypeError")
    assert asked == ["tests/test_inherited.py::PricingChecks.test_price"]
    assert outcome.status == "updated", outcome.feedback
    assert "self.category, Decimal" in (changed / "tests" / "test_inherited.py").read_text()

    nowhere = ImpactedTest("tests/test_inherited.py", "TestFood.test_gone", TestStatus.BROKEN, ())
    missing = updater.update(nowhere, [CHANGE])
    assert missing.status == "failed" and "no block" in missing.feedback[0]


# the base is a test class itself, run as it is and through its heir
TWO_HEIRS = INHERITED.replace("class TestFood(PricingChecks)", "class TestFoodAgain(TestFood)")
TWO_HEIRS = TWO_HEIRS.replace("class PricingChecks:", "class TestFood:")


def test_tests_that_inherit_an_updated_or_deleted_test_follow_it(changed: Path) -> None:
    updater, asked = swapping_updater(changed, "test_heirs.py", TWO_HEIRS)
    own = ImpactedTest("tests/test_heirs.py", "TestFood.test_price", TestStatus.BROKEN, ())
    heir = ImpactedTest("tests/test_heirs.py", "TestFoodAgain.test_price", TestStatus.BROKEN, ())
    assert updater.update(own, [CHANGE], "TypeError").status == "updated"
    followed = updater.update(heir, [CHANGE], "TypeError")
    assert (followed.status, followed.feedback) == (
        "updated",
        ("updated with `TestFood.test_price`, which defines it",),
    )
    assert asked == ["tests/test_heirs.py::TestFood.test_price"]  # asked once

    (changed / "tests" / "test_heirs.py").write_text(TWO_HEIRS)
    builder = build_graph(changed, GraphOptions(use_cache=False))
    deleter = TestUpdater(
        builder, FolderTree(changed), lambda request: "DELETE TEST", pytest_runner(changed)
    )
    assert deleter.update(own, [REMOVED], "TypeError").status == "deleted"
    gone = deleter.update(heir, [REMOVED], "TypeError")
    assert (gone.status, gone.feedback) == (
        "deleted",
        ("deleted with `TestFood.test_price`, which defined it",),
    )


REMOVED = ProductionChange(
    "inventory/pricing.py", "price_with_tax", OLD_SIGNATURE + "\n    ...", ""
)


def test_a_test_of_removed_behaviour_may_be_deleted_and_only_then(changed: Path) -> None:
    tests = changed / "tests" / "test_pricing.py"
    before = tests.read_text()
    builder = build_graph(changed, GraphOptions(use_cache=False))
    answers = ["DELETE TEST", "**Delete the test.**"]

    def editor(request: EditRequest) -> str | None:
        return answers.pop(0) if answers else None

    updater = TestUpdater(builder, FolderTree(changed), editor, pytest_runner(changed))
    # the change did not remove what the test checks: deleting is refused, with the reason
    kept = updater.update(obsolete(), [CHANGE], "TypeError")
    assert kept.status == "unchanged" and "removed nothing it checks" in kept.feedback[0]
    assert tests.read_text() == before

    answers[:] = ["**Delete the test.**"]
    gone = updater.update(obsolete(), [REMOVED], "TypeError")
    assert (gone.status, gone.after, gone.settled) == ("deleted", "", True)
    after = tests.read_text()
    assert f"def {TEST}" not in after and "def test_price_with_tax_rounds_half_up" in after
    assert "\n\n\n\n" not in after  # the spacing around it is kept
    assert builder.graph.get(f"tests/test_pricing.py::{TEST}") is None
    compile(after, "test_pricing.py", "exec")  # still a module


def test_an_inherited_test_is_not_deleted_for_every_class(changed: Path) -> None:
    (changed / "tests" / "test_inherited.py").write_text(INHERITED)
    builder = build_graph(changed, GraphOptions(use_cache=False))
    updater = TestUpdater(
        builder, FolderTree(changed), lambda request: "DELETE TEST", pytest_runner(changed),
        attempts=1,
    )  # fmt: skip
    test = ImpactedTest("tests/test_inherited.py", "TestFood.test_price", TestStatus.BROKEN, ())
    outcome = updater.update(test, [REMOVED], "TypeError")
    assert outcome.status == "rejected" and "inherited" in outcome.feedback[0]
    assert (changed / "tests" / "test_inherited.py").read_text() == INHERITED


def test_a_test_module_that_no_longer_imports_gets_its_imports_repaired_first(
    tmp_path: Path,
) -> None:
    repo = example_repo(tmp_path)
    for name in ("__init__.py", "pricing.py", "reports.py"):  # production renames it
        file = repo / "inventory" / name
        file.write_text(file.read_text().replace("price_with_tax", "gross_price"))
    builder = build_graph(repo, GraphOptions(use_cache=False))
    asked: list[EditRequest] = []

    def editor(request: EditRequest) -> str | None:
        asked.append(request)
        return request.source.replace("price_with_tax(", "gross_price(").replace(
            ", price_with_tax,", ", gross_price,"
        )

    renamed = ProductionChange(
        "inventory/pricing.py", "price_with_tax", OLD_SIGNATURE, OLD_SIGNATURE.replace(
            "price_with_tax", "gross_price"
        ),
    )  # fmt: skip
    updater = TestUpdater(builder, FolderTree(repo), editor, pytest_runner(repo))
    outcome = updater.update(obsolete(), [renamed], IMPORT_FAILURE)

    assert outcome.status == "updated", outcome.feedback
    # the import statement first, with the error, then the test itself
    assert (
        asked[0].kind == "import"
        and "cannot import name 'price_with_tax'" in (asked[0].context.causes[0])
    )
    assert asked[1].qualname == TEST
    assert outcome.imports == (
        (
            "from inventory.pricing import apply_discount, line_total, price_with_tax, round_money",
            "from inventory.pricing import apply_discount, line_total, gross_price, round_money",
        ),
    )
    assert "+from inventory.pricing import apply_discount, line_total, gross_price" in outcome.diff
    assert pytest_runner(repo)(obsolete().node_id)[0]
    # the next test of that module does not repair its imports again
    again = updater.update(
        obsolete("test_price_with_tax_rounds_half_up_to_cents"), [renamed], IMPORT_FAILURE
    )
    assert again.status == "updated" and again.imports == ()


def test_the_failing_import_is_looked_for_where_pytest_imports_from() -> None:
    from codeplan.evolve.imports import _conftests

    assert _conftests("tests/unit/test_x.py") == [
        "tests/unit/conftest.py", "tests/conftest.py", "conftest.py",
    ]  # fmt: skip


def test_an_update_that_stops_exercising_the_changed_code_is_sent_back(changed: Path) -> None:
    asked: list[EditRequest] = []
    good = SwapPriceArguments()

    def editor(request: EditRequest) -> str | None:
        asked.append(request)
        if len(asked) == 1:  # green, and just as many asserts, but price_with_tax is gone
            return (
                f"def {TEST}() -> None:\n"
                '    assert Decimal("12.00") == Decimal("12.00")\n'
                '    assert Decimal("10.50") == Decimal("10.50")\n'
                '    assert Decimal("10.00") == Decimal("10.00")\n'
            )
        return good(request)

    builder = build_graph(changed, GraphOptions(use_cache=False))
    updater = TestUpdater(builder, FolderTree(changed), editor, pytest_runner(changed))
    outcome = updater.update(obsolete(), [CHANGE], "TypeError")
    assert outcome.status == "updated" and outcome.attempts == 2
    assert outcome.feedback[0].startswith("the update no longer exercises the changed code")
    assert "`price_with_tax`" in outcome.feedback[0]
    assert 'price_with_tax("general", Decimal("10.00"))' in outcome.after


def test_an_update_whose_run_never_reaches_the_changed_code_is_sent_back(changed: Path) -> None:
    from codeplan.evolve.phase import sandbox_runners
    from codeplan.sandbox.session import open_sandbox

    asked: list[EditRequest] = []
    good = SwapPriceArguments()

    def editor(request: EditRequest) -> str | None:
        asked.append(request)
        if len(asked) == 1:  # still calls price_with_tax, in a branch that never runs
            return (
                f"def {TEST}() -> None:\n"
                "    if False:\n"
                '        price_with_tax("general", Decimal("10.00"))\n'
                '    assert Decimal("12.00") == Decimal("12.00")\n'
                '    assert Decimal("10.50") == Decimal("10.50")\n'
                '    assert Decimal("10.00") == Decimal("10.00")\n'
            )
        return good(request)

    run_test, trace_test = sandbox_runners(open_sandbox(changed, {}, {}, backend="local"), changed)
    builder = build_graph(changed, GraphOptions(use_cache=False))
    updater = TestUpdater(builder, FolderTree(changed), editor, run_test, trace_test=trace_test)
    outcome = updater.update(obsolete(), [CHANGE], "TypeError")
    assert outcome.status == "updated" and outcome.attempts == 2
    assert outcome.feedback == (
        "the update no longer exercises the changed code (`price_with_tax`) when it runs: "
        "none of its lines execute; test the new behaviour instead of going around it",
    )
    assert 'price_with_tax("general", Decimal("10.00"))' in outcome.after


def test_moving_away_from_deprecated_code_is_not_a_shortfall(changed: Path) -> None:
    deprecated = ProductionChange(
        "inventory/pricing.py", "price_with_tax", OLD_SIGNATURE + "\n    ...",
        NEW_SIGNATURE + '\n    warnings.warn("use gross()", DeprecationWarning)\n    ...',
    )  # fmt: skip

    def editor(request: EditRequest) -> str:  # drops price_with_tax for literal values
        return (
            f"def {TEST}() -> None:\n"
            '    assert Decimal("12.00") == Decimal("12.00")\n'
            '    assert Decimal("10.50") == Decimal("10.50")\n'
            '    assert Decimal("10.00") == Decimal("10.00")\n'
        )

    builder = build_graph(changed, GraphOptions(use_cache=False))
    updater = TestUpdater(builder, FolderTree(changed), editor, pytest_runner(changed))
    assert deprecated.deprecates and not CHANGE.deprecates
    outcome = updater.update(obsolete(), [deprecated], "DeprecationWarning")
    assert outcome.status == "updated" and outcome.feedback == ()
