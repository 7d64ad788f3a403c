"""Triage: the derived obligations of one plan depth are asked about together, and only
the blocks a triage keeps get an edit request of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from codemods import TASK, SwapPriceArguments, chat_answer, swapped
from openai_server import Reply, ScriptedOpenAI
from planner_helpers import example_repo, status

from codeplan import Planner, Repository
from codeplan.edit.answer import parse_triage
from codeplan.edit.llm import LLMEditor, LLMSettings
from codeplan.edit.model import EarlierEdit, TriageCandidate, TriageRequest, TriagingEditor
from codeplan.edit.prompts import PromptSet
from codeplan.errors import ConfigError
from codeplan.plan.model import ObligationStatus
from codeplan.plan.planner import TRIAGED_OUT
from codeplan.plan.store import RunStore
from codeplan.plan.triage import changed_names, excerpt_around

SEED = "inventory/pricing.py::price_with_tax"
# what the swap needs after the seed: the callers that pass arguments positionally
NEEDED = {
    "inventory/pricing.py::line_total",
    "inventory/reports.py::stock_report",
    "tests/test_pricing.py::test_price_with_tax_applies_the_category_rate",
    "tests/test_pricing.py::test_price_with_tax_rounds_half_up_to_cents",
    "tests/test_pricing.py::test_price_with_tax_rejects_unknown_categories_and_negative_amounts",
}


class TriagingSwap(SwapPriceArguments):
    """The example's codemod, able to triage too: it keeps what it would rewrite, or a
    fixed set of blocks when told."""

    def __init__(self, keep: set[str] | None = None) -> None:
        super().__init__()
        self.keep = keep
        self.triages: list[TriageRequest] = []

    def triage(self, request: TriageRequest) -> frozenset[str]:
        self.triages.append(request)
        if self.keep is not None:
            return frozenset(c.block_id for c in request.candidates if c.block_id in self.keep)
        return frozenset(c.block_id for c in request.candidates if swapped(c.source))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return example_repo(tmp_path)


def test_only_the_blocks_a_triage_keeps_are_asked_to_change(repo: Path) -> None:
    editor = TriagingSwap(keep={"inventory/reports.py::stock_report"})
    assert isinstance(editor, TriagingEditor)

    result = Planner(Repository(repo), editor=editor, validate=False).run(TASK, [SEED])

    assert result.status == "done", result.reason
    assert editor.asked == [SEED, "inventory/reports.py::stock_report"]
    (triage,) = editor.triages  # the seed's edit impacts them all at depth 1: one triage
    candidates = {c.block_id for c in triage.candidates}
    assert candidates >= NEEDED and SEED not in candidates
    assert [e.qualname for e in triage.earlier_edits] == ["price_with_tax"]
    assert "def price_with_tax(category" in triage.earlier_edits[0].after
    closed = {
        o.block_id: o.note
        for o in result.plan.obligations.values()
        if o.status is ObligationStatus.NO_CHANGE
    }
    assert set(closed) == candidates - {"inventory/reports.py::stock_report"}
    assert set(closed.values()) == {TRIAGED_OUT}
    assert result.usage.calls == 3  # the seed, the triage, stock_report
    events = [e for e in RunStore(repo).events(result.run_id) if e["event"] == "triage"]
    assert events[0]["kept"] == ["inventory/reports.py::stock_report"]
    assert status(repo) == ""


def test_a_perfect_triage_gives_the_same_change_in_fewer_calls(repo: Path) -> None:
    plain = Planner(Repository(repo), editor=SwapPriceArguments(), validate=False).run(TASK, [SEED])
    editor = TriagingSwap()
    triaged = Planner(Repository(repo), editor=editor, validate=False).run(TASK, [SEED])
    assert triaged.diff == plain.diff
    assert set(triaged.edited_blocks) == NEEDED | {SEED}
    assert set(editor.asked) == NEEDED | {SEED}
    assert triaged.usage.calls < plain.usage.calls


def test_triage_can_be_turned_off_in_the_configuration(repo: Path) -> None:
    (repo / "codeplan.toml").write_text("[plan]\ntriage = false\n")
    _commit(repo)
    editor = TriagingSwap(keep=set())
    result = Planner(Repository(repo), editor=editor, validate=False).run(TASK, [SEED])
    assert editor.triages == []
    assert set(result.edited_blocks) == NEEDED | {SEED}


def test_a_bad_triage_setting_is_refused_before_any_work(repo: Path) -> None:
    (repo / "codeplan.toml").write_text('[plan]\ntriage = "sometimes"\n')
    _commit(repo)
    with pytest.raises(ConfigError, match=r"\[plan\] triage"):
        Planner(Repository(repo), editor=TriagingSwap(), validate=False).run(TASK, [SEED])
    assert not (repo / ".codeplan" / "runs").exists() or not any(
        (repo / ".codeplan" / "runs").iterdir()
    )


def test_the_llm_editor_triages_through_the_endpoint(repo: Path) -> None:
    with ScriptedOpenAI(responder=chat_answer) as server:
        editor = LLMEditor(LLMSettings(base_url=server.base_url, api_key="sk-x"), PromptSet())
        result = Planner(Repository(repo), editor=editor, validate=False).run(TASK, [SEED])
        prompts = [r.messages[-1]["content"] for r in server.requests]
    assert result.status == "done", result.reason
    assert set(result.edited_blocks) == NEEDED | {SEED}
    triages = [p for p in prompts if "## Blocks that may need a change" in p]
    # the seed's callers, then what their edits may impact (line_total's callers)
    assert len(triages) == 2
    assert "def price_with_tax(category: str, amount: Decimal)" in triages[0]  # the edit
    assert "def line_total(" in triages[1]
    # a request for the seed, the triages, one request per block that needs the change
    assert len(prompts) == 1 + len(triages) + len(NEEDED)


def test_an_unreadable_triage_answer_keeps_every_candidate() -> None:
    request = _triage_request(3)
    with ScriptedOpenAI([Reply("I think some of them, maybe."), Reply("CHANGE: 3, 1, 9")]) as s:
        editor = LLMEditor(LLMSettings(base_url=s.base_url, api_key="sk-x"), PromptSet())
        assert editor.triage(request) == {c.block_id for c in request.candidates}
        other = _triage_request(3, task="another task")  # not served from the cache
        assert editor.triage(other) == {"m.py::f1", "m.py::f3"}
    assert editor.usage.calls == 2


def test_a_prompt_folder_without_a_triage_template_uses_the_bundled_one(tmp_path: Path) -> None:
    bundled = PromptSet().folder
    for name in ("edit_system.j2", "edit_user.j2"):
        (tmp_path / name).write_text((bundled / name).read_text())
    (message,) = PromptSet(tmp_path).triage_messages(_triage_request(2))
    assert "[2] function `f2` in m.py" in message["content"]
    assert "CHANGE: NONE" in message["content"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("CHANGE: 1, 3", {1, 3}),
        ("Block 2 calls it.\n\nCHANGE: 2", {2}),
        ("**CHANGE:** [2, 4]", {2, 4}),
        ("change: none", set()),
        ("CHANGE: NONE", set()),
        ("<think>CHANGE: 1</think>\nCHANGE: 2", {2}),
        ("CHANGE: 7", set()),  # out of range: nothing to keep
        ("1, 2", None),
        ("NO CHANGE", None),
        ("", None),
        ("CHANGE: ???", None),
    ],
)
def test_triage_answers(answer: str, expected: set[int] | None) -> None:
    assert parse_triage(answer, 4) == (None if expected is None else frozenset(expected))


def test_a_long_block_is_shown_around_its_mentions_of_the_changed_names() -> None:
    lines = ["def report(rows):"] + [f"    step_{i}()" for i in range(60)]
    lines[30] = "    total = price_with_tax(row, cat)"
    shown = excerpt_around("\n".join(lines), {"price_with_tax"}, context=2, head_lines=40)
    assert shown.splitlines() == [
        "def report(rows):",
        "    ...",
        "    step_27()",
        "    step_28()",
        "    total = price_with_tax(row, cat)",
        "    step_30()",
        "    step_31()",
        "    ...",
    ]
    # nothing mentioned: the head of the block
    head = excerpt_around("\n".join(lines), {"unrelated"}, context=2, head_lines=5)
    assert head.splitlines()[:5] == lines[:5] and head.splitlines()[-1] == "    ..."


def test_the_changed_names_are_those_on_changed_lines() -> None:
    from codeplan.plan.model import Edit

    edit = Edit(
        1, 1, "m.py", "Shop.price", "def price(self, amount):\n    return amount * rate\n",
        "def price(self, amount, currency):\n    return amount * rate\n", (), (),
    )  # fmt: skip
    assert changed_names([edit]) == {"price", "amount", "currency"}


def _triage_request(count: int, task: str = "a task") -> TriageRequest:
    candidates = tuple(
        TriageCandidate("m.py", f"f{n}", "function", "python", f"def f{n}():\n    g()\n", None,
                        ("it calls `g` (m.py), whose signature changed",))
        for n in range(1, count + 1)
    )  # fmt: skip
    edit = EarlierEdit("m.py", "g", "def g(a):\n    pass", "def g():\n    pass", "the task")
    return TriageRequest(task, (edit,), candidates)


def _commit(repo: Path) -> None:
    from gitrepo import git

    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "configure")
