"""`codeplan run / propagate / plan / resume / runs / show / apply` through the CLI, with
the default LLM editor talking to a local OpenAI-compatible server that answers from a
script, exactly as it would talk to OpenAI, Azure, vLLM or Ollama."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import run
from codemods import NEW_SIGNATURE, TASK, chat_answer
from openai_server import Fail, Hang, Reply, ScriptedOpenAI
from planner_helpers import example_repo, file_bytes, status

SEED = "inventory/pricing.py::price_with_tax"
SECRET = "sk-test-SECRETKEY123456"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return example_repo(tmp_path)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> ScriptedOpenAI:
    server = ScriptedOpenAI(responder=chat_answer)
    with server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", SECRET)
        monkeypatch.setenv("CODEPLAN_MODEL", "local-model")
        yield server


def test_run_through_an_openai_compatible_endpoint_and_apply(
    repo: Path, endpoint: ScriptedOpenAI
) -> None:
    outcome = run("run", TASK, "--seed", SEED, "-C", repo, "--no-validate", "--apply")
    assert outcome.exit_code == 0, outcome.out + outcome.err
    assert "done" in outcome.out
    assert NEW_SIGNATURE in (repo / "inventory/pricing.py").read_text()
    assert "price_with_tax(product.tax_category()" in (repo / "inventory/reports.py").read_text()
    assert len(endpoint.requests) >= 6
    # the key went to the endpoint, and nowhere else
    assert endpoint.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    for path in (repo / ".codeplan").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_rerun_of_the_same_plan_is_served_from_the_response_cache(
    repo: Path, endpoint: ScriptedOpenAI
) -> None:
    first = run("run", TASK, "--seed", SEED, "-C", repo, "--no-validate", "-f", "json")
    asked = len(endpoint.requests)
    second = run("run", TASK, "--seed", SEED, "-C", repo, "--no-validate", "-f", "json")
    assert first.exit_code == second.exit_code == 0, second.err
    assert len(endpoint.requests) == asked  # nothing new was asked
    one, two = json.loads(first.out), json.loads(second.out)
    assert one["diff"] == two["diff"]
    assert two["usage"]["cached_calls"] == two["usage"]["calls"] > 0
    assert two["usage"]["cost_usd"] == 0


def test_malformed_answers_are_retried_with_feedback_and_never_written(
    repo: Path, endpoint: ScriptedOpenAI
) -> None:
    endpoint.add(Reply("```python\ndef price_with_tax(category: str, amount: Decimal\n```"))
    outcome = run("run", TASK, "--seed", SEED, "-C", repo, "--no-validate", "-f", "json")
    assert outcome.exit_code == 0, outcome.err
    retry = endpoint.requests[1].messages[-1]["content"]
    assert "rejected" in retry.lower() and "parse" in retry.lower()
    assert NEW_SIGNATURE in json.loads(outcome.out)["diff"]


def test_rate_limits_and_server_errors_are_retried(repo: Path, endpoint: ScriptedOpenAI) -> None:
    endpoint.add(Fail(429, headers={"retry-after": "0.1"}), Fail(500))
    outcome = run("run", TASK, "--seed", SEED, "-C", repo, "--no-validate")
    assert outcome.exit_code == 0, outcome.err


def test_an_endpoint_that_keeps_failing_stops_the_run_resumably(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ScriptedOpenAI(script=[Fail(500)] * 10) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", SECRET)
        outcome = run("run", TASK, "--seed", SEED, "-C", repo, "--no-validate")
    assert outcome.exit_code == 3, outcome.out + outcome.err
    assert "500" in outcome.out and SECRET not in outcome.err + outcome.out
    assert "codeplan resume" in outcome.out
    assert status(repo) == ""
    assert json.loads(run("runs", "-C", repo, "-f", "json").out)[0]["status"] == "stopped"


def test_budget_stop_then_resume_then_show_and_runs(repo: Path, endpoint: ScriptedOpenAI) -> None:
    stopped = run("run", TASK, "--seed", SEED, "-C", repo, "--no-validate", "--max-calls", "2")
    assert stopped.exit_code == 3, stopped.err
    assert "codeplan resume" in stopped.out
    resumed = run("resume", "-C", repo, "--max-calls", "50")
    assert resumed.exit_code == 0, resumed.out + resumed.err
    listing = run("runs", "-C", repo, "-f", "json")
    rows = json.loads(listing.out)
    assert len(rows) == 1 and rows[0]["status"] == "done" and rows[0]["edits"] == 6
    shown = run("show", "-C", repo)
    assert shown.exit_code == 0
    assert "+def price_with_tax(category: str, amount: Decimal) -> Decimal:" in shown.out
    assert "because" in shown.out


def test_plan_is_a_dry_run_with_a_token_estimate(repo: Path, endpoint: ScriptedOpenAI) -> None:
    outcome = run("plan", TASK, "--seed", SEED, "-C", repo, "-f", "json")
    assert outcome.exit_code == 0, outcome.err
    data = json.loads(outcome.out)
    blocks = {o["block_id"] for o in data["obligations"]}
    assert SEED in blocks and "inventory/pricing.py::line_total" in blocks
    assert data["estimate"]["tokens"] > 0
    assert endpoint.requests == []  # no editor was asked


def test_plan_from_diff_shows_what_the_users_edit_impacts(repo: Path) -> None:
    pricing = repo / "inventory/pricing.py"
    pricing.write_text(
        pricing.read_text().replace(
            "def price_with_tax(amount: Decimal, category: str) -> Decimal:", NEW_SIGNATURE
        )
    )
    outcome = run("plan", "--from-diff", "-C", repo)
    assert outcome.exit_code == 0, outcome.err
    assert "line_total" in outcome.out and "stock_report" in outcome.out
    assert "tokens" in outcome.out


def test_no_endpoint_configured_explains_how_to_set_one_up(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEPLAN_MODEL"):
        monkeypatch.delenv(name, raising=False)
    outcome = run("run", TASK, "--seed", SEED, "-C", repo)
    assert outcome.exit_code == 2
    assert "OPENAI_BASE_URL" in outcome.err and "Ollama" in outcome.err


def test_an_editor_can_be_loaded_from_a_file(repo: Path) -> None:
    editor = Path(__file__).resolve().parent.parent / "examples" / "swap_price_arguments.py"
    outcome = run(
        "run", TASK, "--seed", SEED, "-C", repo, "--no-validate", "--editor",
        f"{editor}:SwapPriceArguments",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.err


def test_ctrl_c_leaves_the_tree_clean_and_the_run_resumable(repo: Path) -> None:
    before = file_bytes(repo)
    script = [Reply(chat_answer_for_seed()), Hang(60)]
    with ScriptedOpenAI(script=script) as server:
        env = {
            **os.environ,
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": SECRET,
            "CODEPLAN_MODEL": "local-model",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "codeplan", "run", TASK, "--seed", SEED, "--no-validate"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while len(server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(server.requests) == 2, process.communicate(timeout=5)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode != 0
    assert b"interrupted" in err.lower() or b"resume" in err.lower(), err
    assert file_bytes(repo) == before and status(repo) == ""
    state = json.loads(run("runs", "-C", repo, "-f", "json").out)
    assert state[0]["status"] == "interrupted"

    with ScriptedOpenAI(responder=chat_answer) as server:
        os.environ["OPENAI_BASE_URL"] = server.base_url
        try:
            resumed = run("resume", "-C", repo, "--no-validate")
        finally:
            del os.environ["OPENAI_BASE_URL"]
    assert resumed.exit_code == 0, resumed.out + resumed.err
    shown = json.loads(run("show", "-C", repo, "-f", "json").out)
    assert len(shown["edited"]) == 6


def chat_answer_for_seed() -> str:
    source = Path(__file__).resolve().parent.parent / "examples/inventory/inventory/pricing.py"
    text = source.read_text()
    start = text.index("def price_with_tax")
    block = text[start : text.index("\n\n\ndef line_total")]
    body = {"messages": [{"content": f"The block:\n```python\n{block}\n```"}]}
    return chat_answer(body)


def test_without_seeds_the_model_picks_them_from_a_map_and_the_user_confirms(
    repo: Path, endpoint: ScriptedOpenAI
) -> None:
    endpoint.add(Reply(f"{SEED}\nnot/a/block.py::nothing\n"))
    outcome = run("run", TASK, "-C", repo, "--no-validate", "--yes", "-f", "json")
    assert outcome.exit_code == 0, outcome.err
    assert SEED in outcome.err
    map_prompt = endpoint.requests[0].messages[-1]["content"]
    assert "inventory/pricing.py::price_with_tax  [function]" in map_prompt
    assert len(json.loads(outcome.out)["edited"]) == 6


def test_picked_seeds_need_confirmation_when_not_interactive(
    repo: Path, endpoint: ScriptedOpenAI
) -> None:
    endpoint.add(Reply(SEED))
    outcome = run("run", TASK, "-C", repo, "--no-validate")
    assert outcome.exit_code != 0
    assert "--yes" in outcome.err


def test_the_branch_prefix_is_configurable(repo: Path) -> None:
    editor = Path(__file__).resolve().parent.parent / "examples" / "swap_price_arguments.py"
    outcome = run(
        "run", TASK, "--seed", SEED, "-C", repo, "--no-validate", "--branch-prefix", "bots/cp-",
        "--editor", f"{editor}:SwapPriceArguments", "-f", "json",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.err
    assert json.loads(outcome.out)["branch"].startswith("bots/cp-swap-the-parameters")


def test_one_commit_per_run_with_a_message_in_the_repositorys_style(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from gitrepo import git

    (repo / "NOTES.md").write_text("notes\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pricing: keep notes")

    def answer(body: dict) -> str:  # type: ignore[type-arg]
        if "commit message" in body["messages"][-1]["content"].lower():
            return "swap the parameters of price_with_tax"
        return chat_answer(body)

    endpoint = ScriptedOpenAI(responder=answer)
    stack = contextlib.ExitStack()
    stack.enter_context(endpoint)
    monkeypatch.setenv("OPENAI_BASE_URL", endpoint.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    outcome = run(
        "run", TASK, "--seed", SEED, "-C", repo, "--no-validate", "--commit", "run",
        "--message-prefix", "pricing:", "-f", "json",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.err
    branch = json.loads(outcome.out)["branch"]
    log = subprocess.run(
        ["git", "log", "--format=%s", f"main..{branch}"],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    message_prompt = endpoint.requests[-1].messages[-1]["content"]
    stack.close()
    assert log == ["pricing: swap the parameters of price_with_tax"]
    assert "pricing: keep notes" in message_prompt  # the history as style examples
