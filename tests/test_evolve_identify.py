"""Identifying the tests a production change reaches (statically, then by running them), on
the bundled example made a git repository in tmp_path."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from cli_helpers import run
from gitrepo import git
from openai_server import ScriptedOpenAI
from planner_helpers import example_repo

from codeplan.cli.tests_cmd import FOLD_AT
from codeplan.config import read_config
from codeplan.evolve.identify import UNNAMED_HELPER_SCORE, identify, run_impacted
from codeplan.evolve.judge import JUDGE_TASK
from codeplan.evolve.model import ImpactedTest, TestStatus
from codeplan.evolve.sweep import sweep_suite
from codeplan.sandbox.session import open_sandbox

PRICE = "def price_with_tax(amount: Decimal, category: str) -> Decimal:"
SWAPPED = "def price_with_tax(category: str, amount: Decimal) -> Decimal:"
DEFAULTED = 'def price_with_tax(amount: Decimal, category: str = "general") -> Decimal:'
DIRECT = {
    "test_price_with_tax_applies_the_category_rate",
    "test_price_with_tax_rounds_half_up_to_cents",
    "test_price_with_tax_rejects_unknown_categories_and_negative_amounts",
}
CONFTEST_FIXTURE = """

@pytest.fixture
def gross_ten() -> Decimal:
    from inventory.pricing import price_with_tax

    return price_with_tax(Decimal("10.00"), "general")
"""
INDIRECT_TESTS = """from decimal import Decimal

from inventory.pricing import price_with_tax


def make_gross(amount: str) -> Decimal:
    return price_with_tax(Decimal(amount), "food")


def test_through_a_helper() -> None:
    assert make_gross("10.00") == Decimal("10.50")


def test_through_a_fixture(gross_ten: Decimal) -> None:
    assert gross_ten == Decimal("12.00")
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return example_repo(tmp_path)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def add_tests(repo: Path, name: str, text: str, message: str) -> None:
    """Commit a test module `tests/<name>`."""
    (repo / "tests" / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def by_name(tests: list[ImpactedTest]) -> dict[str, ImpactedTest]:
    return {t.qualname: t for t in tests}


def kinds(test: ImpactedTest) -> set[str]:
    return {r.kind for r in test.reasons}


def test_tests_calling_the_changed_function_come_first(repo: Path) -> None:
    edit(repo / "inventory" / "pricing.py", PRICE, SWAPPED)
    found = identify(repo, history=False).tests
    first = found[: len(DIRECT)]
    assert {t.qualname for t in first} == DIRECT
    for test in first:
        assert test.path == "tests/test_pricing.py" and test.status is TestStatus.UNKNOWN
        assert any(r.kind == "calls" and "price_with_tax" in r.detail for r in test.reasons)
    line_total = by_name(found)["test_line_total_uses_the_products_tax_category"]
    assert [r.detail for r in line_total.reasons if r.kind == "helper"] == [
        "calls `line_total`, which calls `price_with_tax` (2 steps); the test never names it"
    ]
    assert line_total.score == UNNAMED_HELPER_SCORE  # below every test naming the change
    assert [t.score for t in found] == sorted((t.score for t in found), reverse=True)
    assert "test_apply_discount" not in by_name(found)
    named = identify(repo, history=False, min_score=UNNAMED_HELPER_SCORE + 0.01).tests
    assert [t.qualname for t in named] == [
        t.qualname for t in found if t.score > UNNAMED_HELPER_SCORE
    ]
    assert line_total.qualname not in {t.qualname for t in named} and len(named) >= len(DIRECT)


def test_helpers_and_fixtures_lead_to_the_change(repo: Path) -> None:
    with (repo / "tests" / "conftest.py").open("a") as conftest:
        conftest.write(CONFTEST_FIXTURE)
    add_tests(repo, "test_indirect.py", INDIRECT_TESTS, "indirect tests")
    edit(repo / "inventory" / "pricing.py", PRICE, SWAPPED)
    found = by_name(identify(repo, history=False).tests)
    helper = found["test_through_a_helper"]
    assert kinds(helper) == {"helper"} and helper.score == UNNAMED_HELPER_SCORE
    assert "calls `make_gross`, which calls `price_with_tax`" in helper.reasons[0].detail
    fixture = found["test_through_a_fixture"]
    assert fixture.reasons[0].detail.startswith(
        "uses the fixture `gross_ten`, which calls `price_with_tax`"
    )
    # one step further than allowed, and the fixture is out of reach
    shallow = by_name(identify(repo, history=False, max_depth=1).tests)
    assert "test_through_a_fixture" not in shallow and set(shallow) >= DIRECT


FACTORY_TESTS = """from decimal import Decimal

import pytest

from inventory.pricing import price_with_tax


class TestPricing:
    @pytest.fixture
    def pricer(self):
        def price(amount: str) -> Decimal:
            return price_with_tax(Decimal(amount), "food")

        return price


class TestPricingAgain(TestPricing):
    def test_through_a_factory_a_base_fixture_hands_out(self, pricer) -> None:
        assert pricer("10.00") == Decimal("10.50")
"""


def test_a_closure_a_fixture_hands_out_leads_to_the_change(repo: Path) -> None:
    # price_with_tax <- the closure `price`, part of the fixture `pricer` <- the test
    add_tests(repo, "test_factory.py", FACTORY_TESTS, "factory tests")
    edit(repo / "inventory" / "pricing.py", PRICE, SWAPPED)
    found = by_name(identify(repo, history=False).tests)
    test = found["TestPricingAgain.test_through_a_factory_a_base_fixture_hands_out"]
    assert test.path == "tests/test_factory.py" and kinds(test) == {"helper"}
    assert "which defines `TestPricing.pricer.price`, which calls `price_with_tax`" in (
        test.reasons[0].detail
    )


AUTOUSE_TESTS = """from decimal import Decimal

import pytest

from inventory.pricing import price_with_tax


class TestWithAPrice:
    @pytest.fixture(autouse=True)
    def setup(self):
        self.gross = price_with_tax(Decimal("10.00"), "food")

    def test_reads_what_the_autouse_fixture_made(self) -> None:
        assert self.gross == Decimal("10.50")


class TestWithout:
    def test_elsewhere(self) -> None:
        assert Decimal("1") == 1
"""


def test_an_autouse_fixture_leads_to_every_test_in_its_scope(repo: Path) -> None:
    add_tests(repo, "test_autouse.py", AUTOUSE_TESTS, "autouse tests")
    edit(repo / "inventory" / "pricing.py", PRICE, SWAPPED)
    found = by_name(identify(repo, history=False).tests)
    test = found["TestWithAPrice.test_reads_what_the_autouse_fixture_made"]
    assert test.reasons[0].detail == (
        "uses the fixture `TestWithAPrice.setup`, which calls `price_with_tax` (2 steps);"
        " the test never names it"
    )
    assert "TestWithout.test_elsewhere" not in found  # another class: not its scope


def test_naming_convention(repo: Path) -> None:
    with (repo / "tests" / "test_pricing.py").open("a") as tests:
        tests.write("\n\ndef test_tax_rate_table_covers_digital() -> None:\n")
        tests.write('    """What tax_rate looks up."""\n')
        tests.write('    assert "digital" in TAX_RATES\n')
    edit(
        repo / "tests" / "test_pricing.py",
        "import apply_discount,",
        "import TAX_RATES, apply_discount,",
    )
    git(repo, "commit", "-qam", "a test named after tax_rate")
    edit(repo / "inventory" / "pricing.py", "no tax rate for", "unknown tax category")
    found = by_name(identify(repo, history=False).tests)
    named = found["test_tax_rate_table_covers_digital"]
    assert kinds(named) == {"naming"} and named.score == 0.3
    assert "mentions `tax_rate`" in named.reasons[0].detail
    assert found["test_price_with_tax_applies_the_category_rate"].score > named.score


def test_history_of_co_changes(repo: Path) -> None:
    catalogue = repo / "tests" / "test_catalogue.py"
    pricing = repo / "inventory" / "pricing.py"
    for number in (0, 1, 2):  # a test changed twice with `apply_discount`, not calling it
        catalogue.write_text(
            f'def test_catalogue() -> None:\n    """Shown before apply_discount."""\n'
            f"    assert {number} == {number}\n"
        )
        if number:
            edit(pricing, "must be" + "!" * (number - 1), "must be" + "!" * number)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"discount message and catalogue {number}")
    edit(pricing, "discount must be", "a discount must be")
    found = by_name(identify(repo).tests)
    remembered = found["test_catalogue"]
    assert kinds(remembered) == {"history"} and remembered.score == 0.45
    assert "`apply_discount` in 2 earlier commits" in remembered.reasons[0].detail
    assert "test_catalogue" not in by_name(identify(repo, history=False).tests)
    # history and naming alone count only for tests that name the changed block
    catalogue.write_text("def test_catalogue() -> None:\n    assert 2 == 2\n")
    assert "test_catalogue" not in by_name(identify(repo).tests)


def test_running_them_tells_broken_from_stale_from_unaffected(repo: Path) -> None:
    pricing = repo / "inventory" / "pricing.py"
    sandbox = open_sandbox(repo, read_config(repo), os.environ, backend="local")
    edit(pricing, PRICE, SWAPPED)
    swapped = by_name(run_impacted(identify(repo, history=False).tests, sandbox, repo))
    for name in DIRECT:
        assert swapped[name].status is TestStatus.BROKEN
        assert swapped[name].reasons[-1].kind == "run"
        assert swapped[name].reasons[-1].detail.startswith("failed: ")
    edit(pricing, SWAPPED, DEFAULTED)
    defaulted = by_name(run_impacted(identify(repo, history=False).tests, sandbox, repo))
    stale = defaulted["test_price_with_tax_applies_the_category_rate"]
    assert stale.status is TestStatus.STALE
    assert any(r.kind == "asserts" and "default-changed" in r.detail for r in stale.reasons)
    helper = defaulted["test_line_total_uses_the_products_tax_category"]
    assert helper.status is TestStatus.UNAFFECTED and helper.reasons[-1].detail == "passed"


def test_cli_json(repo: Path) -> None:
    edit(repo / "inventory" / "pricing.py", PRICE, SWAPPED)
    outcome = run("tests", "impacted", repo, "--format", "json")
    assert outcome.exit_code == 0, outcome.err
    data = json.loads(outcome.out)
    assert set(data[0]) == {"path", "qualname", "status", "reasons", "score"}
    assert data[0]["status"] == "unknown" and data[0]["score"] > 1.0
    assert {r["kind"] for r in data[0]["reasons"]} >= {"calls", "naming"}
    assert {d["qualname"] for d in data[:3]} == DIRECT
    table = run("tests", "impacted", repo)
    assert table.exit_code == 0 and "1.05" in table.out and "unknown" in table.out


def test_cli_without_changes_is_an_error(repo: Path) -> None:
    outcome = run("tests", "impacted", repo)
    assert outcome.exit_code == 1 and "no changes" in outcome.err


def commit_the_swap(repo: Path) -> None:
    """One co-change commit: price_with_tax's arguments swapped, callers and tests too;
    and benchmarks/ importable."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from codemods import swapped

    for path in ("inventory/pricing.py", "inventory/reports.py", "tests/test_pricing.py"):
        file = repo / path
        file.write_text(swapped(file.read_text()) or file.read_text())
    git(repo, "commit", "-qam", "swap price_with_tax's arguments")


def test_the_coevolution_benchmark_runs_and_updates_with_the_commits_tests(repo: Path) -> None:
    """benchmarks/coevolution.py --run --update-sample on one co-change commit: the argument
    swap with its three direct tests updated; they break on the production change alone,
    identify finds them, and the commit's version of each passes the update loop."""
    from benchmarks.coevolution import Settings, run_cases, summarise_run

    commit_the_swap(repo)
    cases, stopped = run_cases(repo, Settings(max_commits=5, run=True, update_sample=1))
    assert not stopped and len(cases) == 1
    case = cases[0]
    assert {t.rsplit("::", 1)[-1] for t in case.breaks} == DIRECT
    assert set(case.breaks) <= set(case.found) and not case.failing_before
    assert {case.verdicts[t] for t in case.breaks} == {"broken"}
    assert {case.updates[t] for t in case.breaks} == {"updated"}
    assert summarise_run(cases)["run:broken"]["recall_breaks"] == 1.0


def test_the_coevolution_benchmark_measures_the_judge_on_an_endpoint(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.coevolution import Settings, run_cases

    commit_the_swap(repo)
    with ScriptedOpenAI(responder=lambda body: "CHANGE: NONE") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        cases, _ = run_cases(repo, Settings(max_commits=5, run=True, judge=True))
        asked = len(server.requests)
    (case,) = cases
    assert case.judged and asked == 1
    # the broken stay broken; every passing test linked to the change was cleared
    assert {case.verdicts[t] for t in case.breaks} == {"broken"}
    assert "unaffected" in case.verdicts.values() and "stale" not in case.verdicts.values()


def test_a_test_module_that_no_longer_imports_is_broken_and_the_rest_still_run(
    repo: Path,
) -> None:
    # round_money goes away: test_pricing.py imports it by name, so the whole module fails
    # to collect; the other impacted tests must still get their own verdicts
    pricing = repo / "inventory" / "pricing.py"
    text = pricing.read_text()
    text = text.replace("def round_money(", "def round_to_cents(").replace(
        "round_money(", "round_to_cents("
    )
    pricing.write_text(text)
    sandbox = open_sandbox(repo, read_config(repo), os.environ, backend="local")
    verdicts = run_impacted(identify(repo, history=False).tests, sandbox, repo)
    in_pricing = [t for t in verdicts if t.path == "tests/test_pricing.py"]
    others = [t for t in verdicts if t.path != "tests/test_pricing.py"]
    assert in_pricing and all(t.status is TestStatus.BROKEN for t in in_pricing)
    assert "fails to import" in in_pricing[0].reasons[-1].detail
    assert others and all(t.status is not TestStatus.UNKNOWN for t in others)


REFLECTIVE_TESTS = """import importlib
from decimal import Decimal


def test_through_reflection() -> None:
    # no static link reaches price_with_tax from here: only running it tells
    pricing = importlib.import_module("inventory.pricing")
    assert getattr(pricing, "price_" + "with_tax")(Decimal("10.00"), "food") == Decimal("10.50")


def test_failing_all_along() -> None:
    assert 1 + 1 == 3


def test_reached_but_failing_all_along() -> None:
    from inventory.pricing import price_with_tax

    assert price_with_tax(Decimal("1.00"), "food") == Decimal("0")
"""


REFLECTIVE_AT_IMPORT = """import importlib
from decimal import Decimal

_pricing = importlib.import_module("inventory.pricing")
NET = getattr(_pricing, "price_" + "with_tax")(Decimal("10.00"), "food")


def test_computed_at_import_time() -> None:
    assert NET == Decimal("10.50")
"""


def test_the_sweep_finds_broken_tests_no_static_link_reaches_and_not_old_failures(
    repo: Path,
) -> None:
    (repo / "tests" / "test_reflection.py").write_text(REFLECTIVE_TESTS)
    message = "a test through reflection, and one failing all along"
    add_tests(repo, "test_reflection_at_import.py", REFLECTIVE_AT_IMPORT, message)
    edit(repo / "inventory" / "pricing.py", PRICE, SWAPPED)
    static = run("tests", "impacted", repo, "--format", "json", "--no-history")
    assert "test_through_reflection" not in {d["qualname"] for d in json.loads(static.out)}

    outcome = run("tests", "impacted", repo, "--run", "--backend", "local", "--format", "json")
    assert outcome.exit_code == 1, outcome.err  # something is broken
    found = {d["qualname"]: d for d in json.loads(outcome.out)}
    # a module that fails to import is reported through its tests, not as a test itself
    assert all(name.isidentifier() for name in found), sorted(found)
    reflective = found["test_through_reflection"]
    assert reflective["status"] == "broken"
    assert "no static link reaches it" in reflective["reasons"][-1]["detail"]
    assert "test_failing_all_along" not in found
    at_import = found["test_computed_at_import_time"]
    assert at_import["status"] == "broken"
    assert "fails to import" in at_import["reasons"][-1]["detail"]
    reached = found["test_reached_but_failing_all_along"]
    assert reached["status"] == "unknown"
    assert reached["reasons"][-1]["detail"].startswith("fails before the change too")
    assert {found[name]["status"] for name in DIRECT} == {"broken"}

    narrow = run(
        "tests", "impacted", repo, "--run", "--no-sweep", "--backend", "local", "--format", "json"
    )
    assert "test_through_reflection" not in {d["qualname"] for d in json.loads(narrow.out)}


WATCHED_TESTS = """import importlib
import sys
from decimal import Decimal

from inventory.pricing import price_with_tax


def test_through_reflection_that_passes() -> None:
    module = importlib.import_module("inventory." + "pricing")
    assert getattr(module, "round_" + "money")(Decimal("1.005")) == Decimal("1.01")


def test_calls_it_only_on_python_2() -> None:
    if sys.version_info[0] == 2:
        assert price_with_tax(Decimal("1"), "food") == Decimal("1.05")
"""
ROUNDING = "return amount.quantize(CENT, rounding=ROUND_HALF_UP)"


def test_the_sweep_watches_which_tests_run_the_changed_functions(
    repo: Path, tmp_path: Path
) -> None:
    add_tests(
        repo,
        "test_watched.py",
        WATCHED_TESTS,
        "a test through reflection, and one that never calls",
    )
    base = tmp_path / "base"
    shutil.copytree(repo, base, ignore=shutil.ignore_patterns(".git"))
    pricing = repo / "inventory" / "pricing.py"
    edit(pricing, PRICE, DEFAULTED)
    edit(pricing, ROUNDING, ROUNDING.replace("amount.quantize", "Decimal(amount).quantize"))
    found = identify(repo, history=False)
    assert found.traceable and {c.qualname for c in found.changed} == {
        "price_with_tax",
        "round_money",
    }
    never = by_name(found.tests)["test_calls_it_only_on_python_2"]
    assert {"calls", "asserts"} <= kinds(never)
    assert "test_through_reflection_that_passes" not in by_name(found.tests)

    sandbox = open_sandbox(repo, read_config(repo), os.environ, backend="local")
    judged = by_name(sweep_suite(found, sandbox, repo, base))
    # asserts on price_with_tax but never calls it: what it checks is as it was
    assert judged["test_calls_it_only_on_python_2"].status is TestStatus.UNAFFECTED
    assert judged["test_calls_it_only_on_python_2"].reasons[-1].detail == (
        "passed, and never runs the changed code"
    )
    stale = judged["test_price_with_tax_applies_the_category_rate"]
    assert stale.status is TestStatus.STALE
    assert "runs the changed `round_money`, `price_with_tax`" in {r.detail for r in stale.reasons}
    # no static link reaches it, but it was seen running round_money
    reflective = judged["test_through_reflection_that_passes"]
    assert reflective.status is TestStatus.UNAFFECTED
    assert [r.detail for r in reflective.reasons] == ["runs the changed `round_money`", "passed"]
    assert "test_apply_discount" in judged  # apply_discount rounds its result: round_money
    assert "test_calls_it_only_on_python_2" in judged

    # a field changed too: code run at import cannot be watched, nothing is ruled out
    edit(pricing, 'CENT = Decimal("0.01")', 'CENT = Decimal("0.010")')
    found = identify(repo, history=False)
    assert not found.traceable
    judged = by_name(sweep_suite(found, sandbox, repo, base))
    assert judged["test_calls_it_only_on_python_2"].status is TestStatus.STALE


def test_the_table_counts_the_many_tests_that_reach_the_change_without_naming_it(
    repo: Path,
) -> None:
    through_line_total = "".join(
        f"\n\ndef test_line_{n}() -> None:\n"
        f'    assert line_total(Product("BK-{n}", "Dune", Decimal("5.00"), "books"), {n})\n'
        for n in range(FOLD_AT + 1)
    )
    header = "from decimal import Decimal\n\nfrom inventory.models import Product\n"
    header += "from inventory.pricing import line_total\n"
    add_tests(repo, "test_lines.py", header + through_line_total, "tests through line_total")
    edit(repo / "inventory" / "pricing.py", PRICE, SWAPPED)
    listed = json.loads(run("tests", "impacted", repo, "--format", "json").out)
    unnamed = {d["qualname"] for d in listed if d["score"] == UNNAMED_HELPER_SCORE}
    assert {f"test_line_{n}" for n in range(FOLD_AT + 1)} <= unnamed
    table = run("tests", "impacted", repo, width=400)
    assert table.exit_code == 0, table.err
    assert "test_line_" not in table.out
    assert f"and {len(unnamed)} more tests reach the changed code through a helper" in table.out
    assert "tests/test_pricing.py::test_price_with_tax_applies_the_category_rate" in table.out
    # and a cut above their score leaves them out
    few = run("tests", "impacted", repo, "--min-score", "0.45", "--format", "json")
    assert not {d["qualname"] for d in json.loads(few.out)} & unnamed


def test_the_table_counts_the_many_tests_only_the_run_saw_running_the_change(
    repo: Path,
) -> None:
    reflective = "".join(
        f"\n\ndef test_rounding_{n}() -> None:\n"
        f'    rounding = getattr(importlib.import_module("inventory.pricing"), "round_" + "money")\n'
        f'    assert rounding(Decimal("1.005")) == Decimal("1.01")\n'
        for n in range(FOLD_AT + 1)
    )
    add_tests(
        repo,
        "test_many.py",
        "import importlib\nfrom decimal import Decimal" + reflective,
        "many tests through reflection",
    )
    pricing = repo / "inventory" / "pricing.py"
    edit(pricing, ROUNDING, ROUNDING.replace("amount.quantize", "Decimal(amount).quantize"))
    listed = run("tests", "impacted", repo, "--run", "--backend", "local", "--format", "json")
    seen_running = {
        d["qualname"]
        for d in json.loads(listed.out)
        if {r["kind"] for r in d["reasons"]} == {"executes", "run"}
    }
    # the eleven, and the example's tests that reach round_money deeper than the static
    # search follows without a mention of it
    assert {f"test_rounding_{n}" for n in range(FOLD_AT + 1)} < seen_running
    table = run("tests", "impacted", repo, "--run", "--backend", "local", width=400)
    assert table.exit_code == 0, table.err
    assert "test_rounding_" not in table.out
    assert f"and {len(seen_running)} more tests no static link reaches run" in table.out
    assert "tests/test_pricing.py::test_apply_discount" in table.out  # reached: shown


def test_the_editor_judges_which_passing_tests_are_stale(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def judge(body: dict) -> str:  # type: ignore[type-arg]
        prompt = body["messages"][-1]["content"]
        listed = re.finditer(r"### \[(\d+)\] \w+ `([^`]+)`", prompt)
        return "CHANGE: " + (", ".join(m[1] for m in listed if "rounds" in m[2]) or "NONE")

    edit(repo / "inventory" / "pricing.py", PRICE, DEFAULTED)
    with ScriptedOpenAI(responder=judge) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        args = ("tests", "impacted", repo, "--run", "--backend", "local", "--format", "json")
        outcome = run(*args, "--judge", "--model", "local-model")
        prompts = [r.messages[-1]["content"] for r in server.requests]
    assert outcome.exit_code == 0, outcome.err
    found = {d["qualname"]: d for d in json.loads(outcome.out)}
    judged = {name: d for name, d in found.items() if d["reasons"][-1]["kind"] == "judge"}
    assert found["test_price_with_tax_rounds_half_up_to_cents"]["status"] == "stale"
    # static evidence said stale; the judge cleared it
    cleared = found["test_price_with_tax_applies_the_category_rate"]
    assert cleared["status"] == "unaffected" and "asserts" in {
        r["kind"] for r in cleared["reasons"]
    }
    assert {d["status"] for n, d in judged.items() if "rounds" not in n} == {"unaffected"}
    assert len(judged) >= 4 and len(prompts) == 1  # one triage for all of them
    assert JUDGE_TASK in prompts[0] and 'category: str = "general"' in prompts[0]
    refused = run("tests", "impacted", repo, "--judge")
    assert refused.exit_code != 0 and "add --run" in refused.err


def test_tests_evolve_updates_the_tests_the_editor_judged_stale(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(body: dict) -> str:  # type: ignore[type-arg]
        prompt = body["messages"][-1]["content"]
        if JUDGE_TASK in prompt:
            listed = re.finditer(r"### \[(\d+)\] \w+ `([^`]+)`", prompt)
            return "CHANGE: " + ", ".join(m[1] for m in listed if "rounds" in m[2])
        return "NO CHANGE"

    edit(repo / "inventory" / "pricing.py", PRICE, DEFAULTED)
    with ScriptedOpenAI(responder=answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        args = ("tests", "evolve", repo, "--backend", "local", "-f", "json")
        outcome = run(*args, "--judge", "--model", "local-model")
    assert outcome.exit_code == 0, outcome.err
    updates = {u["qualname"]: u["status"] for u in json.loads(outcome.out)["updates"]}
    # the judged stale test was offered for an update; the one it cleared was not
    assert updates == {"test_price_with_tax_rounds_half_up_to_cents": "unchanged"}


def test_a_suite_slower_than_the_sandbox_allows_still_judges_the_tests_found(repo: Path) -> None:
    from dataclasses import replace

    add_tests(
        repo,
        "test_slow.py",
        "import time\n\n\ndef test_slow() -> None:\n    time.sleep(30)\n",
        "a slow test",
    )
    edit(repo / "inventory" / "pricing.py", PRICE, SWAPPED)
    sandbox = open_sandbox(repo, read_config(repo), os.environ, backend="local")
    sandbox.spec = replace(sandbox.spec, limits=replace(sandbox.spec.limits, timeout_seconds=8))
    judged = by_name(sweep_suite(identify(repo, history=False), sandbox, repo, repo))
    assert {judged[name].status for name in DIRECT} == {TestStatus.BROKEN}
    assert "test_slow" not in judged


def test_the_coevolution_benchmark_counts_the_tests_a_commit_repaired_elsewhere(
    repo: Path,
) -> None:
    """A commit renames round_money and fixes a test module's import, not its test: the
    run finds that test broken; it is not a changed test, but it passes on the commit's
    whole tree, so it counts as obsolete (repaired), not as a false alarm."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.coevolution import Settings, run_cases, summarise_run

    rounded = repo / "tests" / "test_rounded.py"
    add_tests(
        repo,
        "test_rounded.py",
        "from decimal import Decimal\n\nfrom inventory.pricing import round_money as rounded"
        "\n\n\ndef test_rounds_to_cents() -> None:\n"
        '    assert rounded(Decimal("1.234")) == Decimal("1.23")\n',
        "a test through an alias",
    )
    for path in ("inventory/pricing.py", "tests/test_pricing.py"):
        file = repo / path
        file.write_text(file.read_text().replace("round_money", "round_to_cents"))
    rounded.write_text(rounded.read_text().replace("round_money as", "round_to_cents as"))
    git(repo, "commit", "-qam", "rename round_money")

    cases, _ = run_cases(repo, Settings(max_commits=1, run=True))
    (case,) = cases
    assert case.verdicts["tests/test_rounded.py::test_rounds_to_cents"] == "broken"
    assert "tests/test_rounded.py::test_rounds_to_cents" not in case.truth
    assert "tests/test_rounded.py::test_rounds_to_cents" in case.repaired
    # test_pricing.py's import line was fixed too: its tests the commit left alone count
    assert {t.split("::")[0] for t in case.repaired} == {
        "tests/test_pricing.py",
        "tests/test_rounded.py",
    }
    assert not set(case.repaired) & set(case.truth)
    row = summarise_run(cases)["run:broken"]
    assert row["precision_obsolete"] > row["precision"]
