"""The GitHub Action end to end: its entry script (`python -m codeplan.deliver.action`) run as
the composite action runs it, on sample event payloads (tests/data/events/), with the
inputs as INPUT_* variables and the files GitHub gives a step (GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY).  It runs the real `codeplan run` and `codeplan pr`: the model is a
local OpenAI-compatible server answering the example's change, the remote a local bare
repository, and GitHub a local server (tests/github_server.py) that also takes comments on
issues.  action.yml and the example workflows are checked against SchemaStore's schemas."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from codemods import NEW_SIGNATURE, TASK, chat_answer
from github_server import FakeGitHub
from gitrepo import git
from openai_server import ScriptedOpenAI
from planner_helpers import example_repo

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "data" / "events"
SEED = "inventory/pricing.py::price_with_tax"
API_KEY = "sk-action-SECRET-0123456789"
TOKEN = "ghs-action-token-0123456789"


class Hub(FakeGitHub):
    """The fake GitHub, also taking comments on issues that are not pull requests."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.issue_comments: dict[int, list[str]] = {}

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        found = re.fullmatch(rf"/repos/{self.slug}/issues/(\d+)/comments", path)
        if method == "POST" and found and int(found.group(1)) not in self.pulls:
            comments = self.issue_comments.setdefault(int(found.group(1)), [])
            comments.append(body["body"])
            url = f"https://github.example/{self.slug}/issues/{found.group(1)}#c{len(comments)}"
            return 201, {"id": len(comments), "html_url": url}
        return super().answer(method, path, query, body)


def model_answer(body: dict[str, Any]) -> str:
    """The seeds when asked for them, else the example's change (as a good model would)."""
    if "Pick the seeds" in body["messages"][-1]["content"]:
        return SEED
    return chat_answer(body)


@dataclass
class Step:
    """One run of the action's step, and what it left."""

    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


@dataclass
class World:
    repo: Path
    remote: Path
    tmp: Path
    hub: Hub
    model: ScriptedOpenAI

    def step(self, event_name: str, payload: dict[str, Any], **inputs: str) -> Step:
        """Run the entry script as action.yml does, in the checkout, with these inputs."""
        event = self.tmp / "event.json"
        event.write_text(json.dumps(payload))
        output, summary = self.tmp / "output.txt", self.tmp / "summary.md"
        for file in (output, summary):
            file.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "OPENAI_"))}
        env.pop("CODEPLAN_MODEL", None)
        env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            GITHUB_EVENT_NAME=event_name,
            GITHUB_EVENT_PATH=str(event),
            GITHUB_WORKSPACE=str(self.repo),
            GITHUB_OUTPUT=str(output),
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_API_URL=self.hub.api_url,
            GITHUB_REPOSITORY=self.hub.slug,
            GITHUB_SERVER_URL="https://github.example",
            GITHUB_RUN_ID="777",
        )
        defaults = {
            "api_base": self.model.base_url,
            "api_key": API_KEY,
            "model": "local-model",
            "github_token": TOKEN,
            "max_cost_usd": "1",
        }
        for name, value in {**defaults, **inputs}.items():
            env[f"INPUT_{name.upper()}"] = value
        done = subprocess.run(
            [sys.executable, "-m", "codeplan.deliver.action"],
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return Step(done.returncode, done.stdout, done.stderr, outputs(output), summary.read_text())


def outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's `name<<DELIMITER` blocks, as the runner reads them."""
    found: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        value: list[str] = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        found[name] = "\n".join(value)
    return found


def event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    repo = example_repo(tmp_path)
    # The run's own validation compiles each edit; the tests run once, as the test command.
    (repo / "codeplan.toml").write_text("[validate]\ntest = false\n")
    git(repo, "add", "codeplan.toml")
    git(repo, "commit", "-q", "-m", "validate by compiling")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    with Hub() as hub, ScriptedOpenAI(responder=model_answer) as model:
        yield World(repo, remote, tmp_path, hub, model)


def remote_branches(remote: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:short)", "refs/heads"],
        cwd=remote,
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def test_a_labelled_issue_by_a_member_becomes_a_pull_request(world: World) -> None:
    step = world.step(
        "issues",
        event("issues_labeled.json"),
        test_command="python -m pytest -q -p no:cacheprovider",
    )

    assert step.code == 0, step.stdout + step.stderr
    # the issue's title and body are the task the model was given
    assert "Every caller must follow the new order." in json.dumps(world.model.requests[0].body)
    pull = world.hub.pulls[1]
    assert pull.base == "main" and pull.draft  # draft unless told otherwise
    assert pull.head in remote_branches(world.remote)
    pushed = subprocess.run(
        ["git", "show", f"{pull.head}:inventory/pricing.py"],
        cwd=world.remote,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert NEW_SIGNATURE in pushed
    url = world.hub.html_url(1)
    assert step.outputs["pull-request-url"] == url
    assert step.outputs["pull-request-number"] == "1"
    assert step.outputs["status"] == "done" and step.outputs["tests-passed"] == "true"
    assert float(step.outputs["cost-usd"]) >= 0
    run_dir = Path(step.outputs["run-dir"])
    assert run_dir.name == step.outputs["run-id"] and (run_dir / "log.jsonl").is_file()
    # the job summary and the comment on the issue
    assert "> Swap the parameters of price_with_tax" in step.summary
    assert f"[#1]({url})" in step.summary and "| Tests | passed |" in step.summary
    assert SEED in step.summary and "passed" in step.summary
    (comment,) = world.hub.issue_comments[42]
    assert url in comment and "777" in comment
    # the key is masked first, and shown nowhere else
    assert step.stdout.splitlines()[0] == f"::add-mask::{API_KEY}"
    everything = step.stdout + step.stderr + step.summary + comment + json.dumps(step.outputs)
    assert everything.count(API_KEY) == 1
    assert API_KEY not in (run_dir / "log.jsonl").read_text()


def test_a_members_comment_runs_the_rest_of_it_and_failing_tests_make_a_draft(
    world: World,
) -> None:
    step = world.step(
        "issue_comment",
        event("issue_comment_member.json"),
        draft="false",
        test_command="python -c 'raise SystemExit(3)'",
    )

    assert step.code == 1, step.stdout + step.stderr
    asked = json.dumps(world.model.requests[0].body)
    assert TASK in asked and "ISSUE-BODY" not in asked  # the comment, not the issue
    pull = world.hub.pulls[1]
    assert pull.draft  # asked ready, but the tests fail
    assert step.outputs["tests-passed"] == "false"
    assert step.outputs["pull-request-url"] == world.hub.html_url(1)
    (comment,) = world.hub.issue_comments[42]
    assert "draft" in comment and "tests: failed" in comment


def test_a_failed_run_is_reported_on_the_issue(world: World) -> None:
    # no model configured: the CLI explains how to configure one, and that is the answer
    step = world.step(
        "issue_comment", event("issue_comment_member.json"), api_base="", api_key="", model=""
    )

    assert step.code == 1
    assert step.outputs["status"] == "failed" and step.outputs["pull-request-url"] == ""
    assert world.hub.pulls == {}
    (comment,) = world.hub.issue_comments[42]
    assert "could not complete" in comment and "OPENAI_BASE_URL" in comment
    assert "OPENAI_BASE_URL" in step.summary


def _labelled_by_outsider() -> dict[str, Any]:
    payload = event("issues_labeled.json")
    payload["issue"]["author_association"] = "CONTRIBUTOR"
    return payload


def _other_label() -> dict[str, Any]:
    payload = event("issues_labeled.json")
    payload["label"]["name"] = "bug"
    return payload


def _plain_comment() -> dict[str, Any]:
    payload = event("issue_comment_member.json")
    payload["comment"]["body"] = "/codeplanner is not the command; thanks!"
    return payload


def _edited_comment() -> dict[str, Any]:
    payload = event("issue_comment_member.json")
    payload["action"] = "edited"
    return payload


@pytest.mark.parametrize(
    ("event_name", "payload", "why"),
    [
        ("issue_comment", event("issue_comment_outsider.json"), "stranger (NONE)"),
        ("issues", _labelled_by_outsider(), "maintainer (CONTRIBUTOR)"),
        ("issues", _other_label(), "not the label 'codeplan'"),
        ("issue_comment", _plain_comment(), "does not start with /codeplan"),
        ("issue_comment", _edited_comment(), "only new comments"),
        ("push", {}, "without a task input"),
    ],
    ids=["outsider-comment", "outsiders-issue", "other-label", "no-command", "edited", "push"],
)
def test_events_not_for_codeplan_are_ignored(
    world: World, event_name: str, payload: dict[str, Any], why: str
) -> None:
    step = world.step(event_name, payload)

    assert step.code == 0, step.stderr
    assert "codeplan: ignored:" in step.stdout and why in step.stdout
    assert world.model.requests == [] and world.hub.requests == []
    assert not (world.repo / ".codeplan").exists()
    assert step.outputs == {} and step.summary == ""


# -- action.yml and the example workflows -------------------------------------------------

ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / "examples" / "github").glob("*.yml"))


@pytest.mark.parametrize(
    ("schema", "files"),
    [("vendor.github-actions", [ACTION]), ("vendor.github-workflows", WORKFLOWS)],
    ids=["action", "workflows"],
)
def test_metadata_and_workflows_match_their_schemas(schema: str, files: list[Path]) -> None:
    assert files
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_input_reaches_the_script_and_every_output_comes_from_it() -> None:
    from codeplan.deliver.action import Inputs
    from codeplan.deliver.action_report import Report

    action = yaml.safe_load(ACTION.read_text())
    steps = {s.get("id"): s for s in action["runs"]["steps"]}
    env = steps["codeplan"]["env"]
    for name in action["inputs"]:
        if name == "python-version":  # used by setup-python, not the script
            continue
        variable = "INPUT_" + name.upper().replace("-", "_")
        assert env[variable] == f"${{{{ inputs.{name} }}}}", name
        assert hasattr(Inputs, name.replace("-", "_")), name
    assert set(env) == {f"INPUT_{f.upper()}" for f in Inputs.__dataclass_fields__}
    written = Report(task="t").outputs()
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.codeplan.outputs.{name} }}}}"
        assert name in written, name


def test_the_workflows_act_only_for_trusted_authors_one_run_per_issue() -> None:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        (job,) = workflow["jobs"].values()
        assert "author_association" in job["if"] and '"COLLABORATOR"' in job["if"], path
        assert workflow["permissions"] == {
            "contents": "write",
            "pull-requests": "write",
            "issues": "write",
        }
        assert workflow["concurrency"]["group"] == "codeplan-${{ github.event.issue.number }}"
