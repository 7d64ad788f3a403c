"""The sweep compares how the changed files answered each passing test's calls with how
they answered before the change (the trace plugin's observations), on the bundled example
made a git repository in tmp_path, with the local backend."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from cli_helpers import run
from gitrepo import git
from planner_helpers import example_repo

from codeplan.config import read_config
from codeplan.evolve.identify import identify
from codeplan.evolve.model import ImpactedTest, TestStatus
from codeplan.evolve.sweep import sweep_suite
from codeplan.sandbox.session import open_sandbox
from codeplan.sandbox.trace import Observed, observed_by_test

ROUNDING_TESTS = """import random
from decimal import Decimal

from inventory.pricing import round_money


class Ledger:
    def __init__(self, amounts):
        self.amounts = amounts
        self.rounded = []

    def round_all(self):
        self.rounded = [round_money(a) for a in self.amounts]


def test_rounds_a_half_cent_to_a_neighbouring_cent() -> None:
    assert round_money(Decimal("1.005")) in (Decimal("1.00"), Decimal("1.01"))


def test_leaves_whole_cents_alone() -> None:
    assert round_money(Decimal("2.50")) == Decimal("2.50")


def test_rounds_a_random_amount() -> None:
    assert round_money(Decimal(random.random())) <= 1


def test_a_ledger_rounds_every_amount() -> None:
    ledger = Ledger([Decimal("0.125"), Decimal("3")])
    ledger.round_all()
    assert len(ledger.rounded) == 2
"""
HALF_UP = "return amount.quantize(CENT, rounding=ROUND_HALF_UP)"
# a string constant, not a new import: the change stays inside the function
HALF_EVEN = 'return amount.quantize(CENT, rounding="ROUND_HALF_EVEN")'


def rounding_repo(tmp_path: Path) -> tuple[Path, Path]:
    """The example with loosely checked rounding tests, committed; and a copy of it as it
    was before `round_money` rounds half to even (the base tree)."""
    repo = example_repo(tmp_path)
    (repo / "tests" / "test_rounding.py").write_text(ROUNDING_TESTS)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "rounding tests")
    base = tmp_path / "base"
    shutil.copytree(repo, base, ignore=shutil.ignore_patterns(".git"))
    pricing = repo / "inventory" / "pricing.py"
    pricing.write_text(pricing.read_text().replace(HALF_UP, HALF_EVEN))
    return repo, base


def by_name(tests: list[ImpactedTest]) -> dict[str, ImpactedTest]:
    return {t.qualname: t for t in tests}


def test_a_passing_test_in_which_the_changed_code_behaved_otherwise_is_stale(
    tmp_path: Path,
) -> None:
    repo, base = rounding_repo(tmp_path)
    found = identify(repo, history=False)
    (changed,) = found.changed
    assert changed.qualname == "round_money" and changed.comparable and found.traceable

    sandbox = open_sandbox(repo, read_config(repo), os.environ, backend="local")
    judged = by_name(sweep_suite(found, sandbox, repo, base, compare=True))
    # 1.005 rounds to 1.00 now and to 1.01 before: the loose check passes both ways
    half = judged["test_rounds_a_half_cent_to_a_neighbouring_cent"]
    assert half.status is TestStatus.STALE
    (behaves,) = [r for r in half.reasons if r.kind == "behaves"]
    assert behaves.detail.startswith("passed, but `round_money` at its call 1 returned")
    assert "Decimal('1.00')" in behaves.detail and "Decimal('1.01')" in behaves.detail
    # 2.50 rounds to 2.50 either way: nothing of the change shows in this test
    whole = judged["test_leaves_whole_cents_alone"]
    assert whole.status is TestStatus.UNAFFECTED
    assert whole.reasons[-1].detail == (
        "passed; the changed files answered its calls as before the change"
    )
    # reached through a helper's loop: 0.125 rounds to 0.12 now, 0.13 before
    ledger = judged["test_a_ledger_rounds_every_amount"]
    assert ledger.status is TestStatus.STALE
    assert any(r.kind == "behaves" for r in ledger.reasons)
    # its answers differ from run to run: noise, which neither makes it stale nor shows it
    # unaffected; it stays stale for asserting on what round_money returns
    noisy = judged["test_rounds_a_random_amount"]
    assert noisy.status is TestStatus.STALE
    assert {r.kind for r in noisy.reasons} == {"calls", "asserts", "executes", "run"}
    assert noisy.reasons[-1].detail == "passed, but asserts on behaviour the change altered"
    # a test the change breaks is still broken
    assert judged["test_price_with_tax_rounds_half_up_to_cents"].status is TestStatus.BROKEN


def test_behaviour_is_compared_only_where_the_base_tree_ran_the_test(tmp_path: Path) -> None:
    repo, _ = rounding_repo(tmp_path)
    found = identify(repo, history=False)
    sandbox = open_sandbox(repo, read_config(repo), os.environ, backend="local")
    # the changed tree as its own base: every watched call went alike
    judged = by_name(sweep_suite(found, sandbox, repo, repo, compare=True))
    half = judged["test_rounds_a_half_cent_to_a_neighbouring_cent"]
    assert half.status is TestStatus.UNAFFECTED
    assert not any(r.kind == "behaves" for r in half.reasons)


def test_the_plugin_describes_calls_into_the_traced_files_without_running_values_code(
    tmp_path: Path,
) -> None:
    """What the calls into a traced file from outside return is spelled out from plain data,
    other objects by their class; an object's own __repr__ and properties never run (one
    that did would fail the test) unless the test calls them; calls between the file's own
    functions are left out."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "shapes.py").write_text(
        "class Lazy:\n"
        "    def __init__(self, n):\n"
        "        self.n = n\n"
        "    def __repr__(self):\n"
        "        raise AssertionError('repr ran')\n"
        "    @property\n"
        "    def area(self):\n"
        "        raise AssertionError('property ran')\n"
        "    @property\n"
        "    def double(self):\n"
        "        return self.n * 2\n\n\n"
        "class Slotted:\n"
        "    __slots__ = ('side',)\n"
        "    def __init__(self, side):\n"
        "        self.side = side\n\n\n"
        "def grow(box, by):\n"
        "    box.n += by\n"
        "    return {'grown': Lazy(box.n), 'slotted': Slotted(by), 'seen': {3, 1, 2}}\n\n\n"
        "def fail():\n"
        "    raise ValueError('no', 2)\n\n\n"
        "def guarded():\n"
        "    try:\n"
        "        raise KeyError('k')\n"
        "    finally:\n"
        "        done = True\n\n\n"
        "def swallowed():\n"
        "    try:\n"
        "        raise KeyError('k')\n"
        "    except KeyError:\n"
        "        pass\n"
    )
    (project / "tests" / "test_shapes.py").write_text(
        "import pytest\n"
        "from shapes import Lazy, fail, grow, guarded, swallowed\n\n\n"
        "def test_grow():\n"
        "    box = Lazy(1)\n"
        "    grow(box, 2)\n"
        "    assert box.n == 3 and box.double == 6\n"
        "    with pytest.raises(ValueError):\n"
        "        fail()\n"
        "    with pytest.raises(KeyError):\n"
        "        guarded()\n"
        "    swallowed()\n"
    )
    (project / "pyproject.toml").write_text('[project]\nname = "shapes"\nversion = "0"\n')
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "shapes")
    sandbox = open_sandbox(project, read_config(project), os.environ, backend="local")
    outcome = sandbox.run_tests(
        project, ["tests"], rerun_failures=False, trace=["shapes.py"], observe=True
    )
    assert [t.outcome for t in outcome.tests] == ["passed"]
    assert outcome.observed_by_test is not None
    (observed,) = outcome.observed_by_test.values()
    # grow's own calls of Lazy and Slotted are inside the file: not observed
    assert sorted(observed) == [
        "shapes.py::Lazy.__init__",
        "shapes.py::Lazy.double",
        "shapes.py::fail",
        "shapes.py::grow",
        "shapes.py::guarded",
        "shapes.py::swallowed",
    ]
    assert observed["shapes.py::grow"].calls == 1
    # an object by its class: what the test reads of it is a call of its own
    assert observed["shapes.py::grow"].first == (
        "returned dict{'grown': Lazy, 'slotted': Slotted, 'seen': set{1, 2, 3}}",
    )
    assert observed["shapes.py::Lazy.double"].first == ("returned 6",)
    assert observed["shapes.py::fail"].first == ("raised ValueError('no', 2)",)
    assert observed["shapes.py::Lazy.__init__"].first == ("returned None",)
    # an exception leaves through a finally clause; one is caught inside
    assert observed["shapes.py::guarded"].first == ("raised KeyError('k')",)
    assert observed["shapes.py::swallowed"].first == ("returned None",)


def test_observations_that_differ_say_how() -> None:
    before = Observed("a", 2, ("returned 1 leaving ()", "returned 2 leaving ()"))
    now = Observed("b", 2, ("returned 1 leaving ()", "returned 3 leaving ()"))
    assert now.differs(before) == (
        "at its call 2 returned 3 leaving (), where it returned 2 leaving ()"
    )
    assert now.differs(now) is None
    assert Observed("c", 3, now.first).differs(now) == (
        "is called 3 times, where it was called 2 times"
    )
    report = json.dumps({"tests": {}, "observed": {"t::x": {"m.py::f": ["d", 1, ["returned 1"]]}}})
    assert observed_by_test(report) == {"t::x": {"m.py::f": Observed("d", 1, ("returned 1",))}}
    assert observed_by_test("not json") is None


def test_tests_impacted_run_reports_the_behaviour_evidence(tmp_path: Path) -> None:
    repo, _ = rounding_repo(tmp_path)
    args = ("tests", "impacted", repo, "--run", "--backend", "local", "--format", "json")
    outcome = run(*args, "--compare")
    found = {d["qualname"]: d for d in json.loads(outcome.out)}
    half = found["test_rounds_a_half_cent_to_a_neighbouring_cent"]
    assert half["status"] == "stale"
    assert "behaves" in {r["kind"] for r in half["reasons"]}
    assert found["test_leaves_whole_cents_alone"]["status"] == "unaffected"
    # without --compare nothing runs on BASE but the failures: no behaviour evidence, and
    # a test asserting on what round_money returns stays suspect, as the static check says
    plain = {d["qualname"]: d for d in json.loads(run(*args).out)}
    assert plain["test_leaves_whole_cents_alone"]["status"] == "stale"
    assert not any(r["kind"] == "behaves" for d in plain.values() for r in d["reasons"])
    refused = run("tests", "impacted", repo, "--compare")
    assert refused.exit_code == 2 and "add --run" in refused.err
