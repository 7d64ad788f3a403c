"""The planner end to end on a real multi-file change of the bundled example, in a real
git repository, with real validation (the example's own pytest suite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from codemods import NEW_SIGNATURE, OLD_SIGNATURE, TASK, SwapPriceArguments
from planner_helpers import branches, example_repo, file_bytes, status

from codeplan import Budget, Planner, Repository
from codeplan.edit.editors import ReplayEditor
from codeplan.plan.model import ObligationStatus
from codeplan.plan.store import RunStore
from codeplan.validate.local import LocalOracle, LocalOracleSettings

SEED = "inventory/pricing.py::price_with_tax"
# the blocks the change really needs, found by following the graph from the seed
EXPECTED_EDITS = {
    SEED,
    "inventory/pricing.py::line_total",
    "inventory/reports.py::stock_report",
    "tests/test_pricing.py::test_price_with_tax_applies_the_category_rate",
    "tests/test_pricing.py::test_price_with_tax_rounds_half_up_to_cents",
    "tests/test_pricing.py::test_price_with_tax_rejects_unknown_categories_and_negative_amounts",
}


def pytest_oracle() -> LocalOracle:
    return LocalOracle(
        LocalOracleSettings(test=f"{sys.executable} -m pytest -q", timeout_seconds=120)
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return example_repo(tmp_path)


def test_a_signature_change_is_propagated_to_every_caller_and_validated(repo: Path) -> None:
    before = file_bytes(repo)
    editor = SwapPriceArguments()
    planner = Planner(Repository(repo), editor=editor, oracle=pytest_oracle())

    result = planner.run(TASK, seeds=[SEED])

    assert result.status == "done", result.reason
    assert set(result.edited_blocks) == EXPECTED_EDITS
    assert NEW_SIGNATURE in result.diff
    assert "price_with_tax(product.tax_category(), product.unit_price)" in result.diff
    # nothing is asked twice, and every question was about a block the graph linked
    assert len(editor.asked) == len(set(editor.asked))
    # the user's tree is untouched; the work is on a branch
    assert file_bytes(repo) == before and status(repo) == ""
    assert result.branch in branches(repo)


def test_the_result_is_the_same_with_concurrent_editor_calls(repo: Path) -> None:
    one = Planner(Repository(repo), editor=SwapPriceArguments(), validate=False).run(TASK, [SEED])
    two = Planner(Repository(repo), editor=SwapPriceArguments(), validate=False, concurrency=3).run(
        TASK, [SEED]
    )
    assert one.diff == two.diff
    assert one.edited_blocks == two.edited_blocks


def test_no_change_answers_stop_propagation(repo: Path) -> None:
    # the seed is edited, but only its docstring: nothing else may be asked about
    pricing = (repo / "inventory/pricing.py").read_text()
    start = pricing.index("def price_with_tax")
    end = pricing.index("def line_total")
    new_text = pricing[start:end].rstrip().replace("rounded to cents", "rounded to whole cents")
    editor = ReplayEditor({SEED: new_text})
    result = Planner(Repository(repo), editor=editor, validate=False).run("Reword", [SEED])
    assert result.status == "done"
    assert result.edited_blocks == (SEED,)
    assert editor.asked == [SEED]


def test_a_run_can_be_applied_to_the_users_tree(repo: Path) -> None:
    result = Planner(Repository(repo), editor=SwapPriceArguments(), validate=False).run(
        TASK, [SEED]
    )
    from codeplan.deliver.workspace import Workspace

    written = Workspace.open(repo, result.run_id).apply_to_user_tree()
    assert set(written) == {"inventory/pricing.py", "inventory/reports.py", "tests/test_pricing.py"}
    assert NEW_SIGNATURE in (repo / "inventory/pricing.py").read_text()


def test_the_plan_records_causes_and_the_trajectory_is_stored(repo: Path) -> None:
    result = Planner(Repository(repo), editor=SwapPriceArguments(), validate=False).run(
        TASK, [SEED]
    )
    plan = result.plan
    by_block = {o.block_id: o for o in plan.obligations.values()}
    line_total = by_block["inventory/pricing.py::line_total"]
    assert line_total.depth == 1
    assert any(c.relation == "CalledBy" and c.edit_id == 1 for c in line_total.causes)
    # stock_report is reached from the seed; its edit sees the seed's before/after
    events = RunStore(repo).events(result.run_id)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "finish"
    assert kinds.count("edit") == len(EXPECTED_EDITS)
    state = json.loads((RunStore(repo).run_dir(result.run_id) / "state.json").read_text())
    assert state["progress"]["status"] == "done"
    assert all(o.status is not ObligationStatus.PENDING for o in plan.obligations.values())


def test_a_budget_stops_the_run_cleanly_and_resume_finishes_it(repo: Path) -> None:
    stopped = Planner(
        Repository(repo), editor=SwapPriceArguments(), validate=False, budget=Budget(max_calls=2)
    ).run(TASK, [SEED])
    assert stopped.status == "stopped"
    assert "editor-call budget" in stopped.reason
    assert 1 <= len(stopped.edited_blocks) < len(EXPECTED_EDITS)
    assert status(repo) == ""

    finished = Planner(Repository(repo), editor=SwapPriceArguments(), validate=False).resume(
        stopped.run_id
    )
    assert finished.status == "done"
    assert set(finished.edited_blocks) == EXPECTED_EDITS


def test_validation_failures_become_new_seeds(repo: Path) -> None:
    # an editor that forgets the tests: the oracle's failures lead back to them
    class ForgetsTests(SwapPriceArguments):
        def __call__(self, request):  # type: ignore[no-untyped-def]
            if request.path.startswith("tests/") and not request.instruction.startswith(
                "Validation"
            ):
                return None
            return super().__call__(request)

    result = Planner(Repository(repo), editor=ForgetsTests(), oracle=pytest_oracle()).run(
        TASK, [SEED]
    )
    assert result.status == "done", (result.reason, result.remaining)
    oracle_seeds = [o for o in result.plan.obligations.values() if o.causes[0].kind == "oracle"]
    assert oracle_seeds
    assert "tests/test_pricing.py" in result.diff


def test_a_dirty_tree_is_refused_for_run(repo: Path) -> None:
    (repo / "inventory/pricing.py").write_text("# edited\n", encoding="utf-8")
    from codeplan.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match="uncommitted"):
        Planner(Repository(repo), editor=SwapPriceArguments(), validate=False).run(TASK, [SEED])


def test_propagate_starts_from_the_users_own_edit(repo: Path) -> None:
    pricing = repo / "inventory/pricing.py"
    text = pricing.read_text()
    text = text.replace(
        "def price_with_tax(amount: Decimal, category: str) -> Decimal:", NEW_SIGNATURE
    )
    pricing.write_text(text)
    editor = SwapPriceArguments()
    result = Planner(Repository(repo), editor=editor, oracle=pytest_oracle()).propagate(TASK)
    assert result.status == "done", (result.reason, result.remaining)
    assert "inventory/pricing.py::line_total" in result.edited_blocks
    assert "inventory/reports.py::stock_report" in result.edited_blocks
    assert SEED not in editor.asked  # the user's own edit is a cause, not a question
    # the user's edit stays theirs: still uncommitted in their tree, and unchanged
    assert pricing.read_text() == text


def test_seed_uses_finds_every_user_of_a_module(repo: Path) -> None:
    editor = ReplayEditor({})
    result = Planner(Repository(repo), editor=editor, validate=False).run(
        "Move from json to orjson", seed_uses=["json"]
    )
    assert result.status == "done"
    assert set(editor.asked) >= {
        "inventory/storage.py::JsonFileRepository._read",
        "inventory/storage.py::JsonFileRepository._write",
    }
    assert all(a.startswith("inventory/storage.py") for a in editor.asked)


def test_recorded_answers_replay_the_same_multi_file_change(repo: Path, tmp_path: Path) -> None:
    recorded = Planner(Repository(repo), editor=SwapPriceArguments(), validate=False).run(
        TASK, [SEED]
    )
    answers = {f"{e.path}::{e.qualname}": e.after for e in recorded.plan.edits.values()}
    fresh = example_repo(tmp_path / "fresh")
    replayed = Planner(Repository(fresh), editor=ReplayEditor(answers), oracle=pytest_oracle())
    result = replayed.run(TASK, [SEED])
    assert result.status == "done", result.reason
    assert result.diff == recorded.diff


def test_mutual_recursion_ends_at_the_re_edit_bound(tmp_path: Path) -> None:
    root = tmp_path / "cycle"
    root.mkdir()
    (root / "cycle.py").write_text(
        "def ping(n):\n    return pong(n - 1) if n else 0\n\n\n"
        "def pong(n):\n    return ping(n - 1) if n else 0\n"
    )
    from gitrepo import git

    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")

    def grow(request):  # type: ignore[no-untyped-def]
        # every answer changes the signature again, so each edit impacts the other function
        head, _, rest = request.source.partition("):")
        return f"{head}, extra{request.source.count('extra')}=None):{rest}"

    result = Planner(
        Repository(root), editor=grow, validate=False, budget=Budget(max_edits_per_block=3)
    ).run("grow", ["cycle.py::ping"])
    assert result.status == "done"
    edited = [e.qualname for e in result.plan.edits.values()]
    assert edited.count("ping") == 3 and edited.count("pong") == 3
    skipped = [o for o in result.plan.obligations.values() if o.status is ObligationStatus.SKIPPED]
    assert skipped and "re-edit bound" in skipped[0].note


def test_binary_non_utf8_and_unparsable_files_in_the_users_edits(repo: Path) -> None:
    pricing = repo / "inventory/pricing.py"
    pricing.write_text(pricing.read_text().replace(OLD_SIGNATURE, NEW_SIGNATURE))
    (repo / "inventory/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 10)
    (repo / "inventory/latin1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    (repo / "inventory/broken.py").write_text("def broken(:\n    pass\n")
    before = file_bytes(repo)

    result = Planner(
        Repository(repo), editor=SwapPriceArguments(), oracle=pytest_oracle()
    ).propagate(TASK)

    # the call sites are still fixed; the syntax error the editor cannot repair is reported
    assert "inventory/reports.py::stock_report" in result.edited_blocks
    assert result.status == "unresolved"
    assert any("SyntaxError" in item for item in result.remaining)
    assert file_bytes(repo) == before


def test_a_class_too_long_to_send_whole_is_edited_through_its_outline(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    (root / "base.py").write_text("class Base:\n    def run(self):\n        return 1\n")
    methods = "".join(f"\n    def m{i}(self):\n        return {i}\n" for i in range(150))
    big = f"from base import Base\n\n\nclass Big(Base):\n    kind = 'big'\n{methods}"
    (root / "big.py").write_text(big)
    assert big.count("\n") > 450
    from gitrepo import git

    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    asked = []

    def editor(request):  # type: ignore[no-untyped-def]
        if request.qualname == "Base" and "def extra" not in request.source:
            # a new method in the base class: its subclasses may need to follow
            return request.source + "\n\n    def extra(self):\n        return 2\n"
        if request.qualname == "Big":
            asked.append(request)
            return "@final\n" + request.source.replace(
                "    def m3(self):\n        ...", "    def m3(self):\n        return 33"
            )
        return None

    result = Planner(Repository(root), editor=editor, validate=False).run(
        "extra", ["base.py::Base"]
    )

    assert result.status == "done", result.reason
    assert "big.py::Big" in result.edited_blocks
    skipped = [o for o in result.plan.obligations.values() if o.status is ObligationStatus.SKIPPED]
    assert not skipped
    request = asked[0]
    assert "return 7" not in request.source and "    def m7(self):\n        ..." in request.source
    assert request.context.sketch is None and "outline" in request.instruction
    after = subprocess.run(
        ["git", "show", f"{result.branch}:big.py"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    expected = big.replace("class Big", "@final\nclass Big").replace("return 3\n", "return 33\n")
    assert after == expected
    compile(after, "big.py", "exec")
    edit = next(e for e in result.plan.edits.values() if e.qualname == "Big")
    assert edit.before == big[big.index("class Big") :].rstrip()  # the class, not its outline
