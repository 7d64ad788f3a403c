"""The GitHub Action's entry script: `python -m codeplan.deliver.action` (see action.yml).

From the event and the `INPUT_*` variables action.yml defines, it decides whether to act
(codeplan.deliver.action_event), runs `codeplan run TASK --yes --format json`, runs the
optional test command on the result, opens or updates the pull request with `codeplan pr`,
and reports through step outputs, the job summary and a comment on the issue.

The CLI is run as a subprocess, exactly as a user would run it: the action adds no
behaviour of its own to a run, and its log shows the same messages.

Exit status: 0 when ignored, or when the run is done (with or without a pull request);
1 when the run, the tests or the pull request failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from codeplan.deliver.action_event import Ignored, Trigger, decide, load_event
from codeplan.deliver.action_report import (
    Report,
    append_summary,
    comment_markdown,
    mask,
    post_comment,
    summary_markdown,
    warning,
    write_outputs,
)
from codeplan.deliver.workspace import Workspace
from codeplan.errors import CodePlanError

DEFAULT_BRANCH_PREFIX = "codeplan/"
TEST_TIMEOUT_SECONDS = 3600
MAX_REASON = 2000  # characters of an error message carried into the comment
# What must not reach the repository's own code (the test command) or `codeplan run`'s.
_GITHUB_SECRETS = ("INPUT_GITHUB_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")
_MODEL_SECRETS = ("INPUT_API_KEY", "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY")


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, as action.yml passes them (`INPUT_<NAME>`, dashes as _)."""

    task: str = ""
    label: str = "codeplan"
    model: str = ""
    api_base: str = ""
    api_key: str = ""
    max_cost_usd: str = ""
    test_command: str = ""
    base_branch: str = ""
    branch_prefix: str = DEFAULT_BRANCH_PREFIX
    draft: bool = True
    github_token: str = ""
    path: str = "."

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def get(name: str, default: str = "") -> str:
            return env.get(f"INPUT_{name.upper()}", "").strip() or default

        return cls(
            task=get("task"),
            label=get("label", "codeplan"),
            model=get("model"),
            api_base=get("api_base"),
            api_key=get("api_key"),
            max_cost_usd=get("max_cost_usd"),
            test_command=get("test_command"),
            base_branch=get("base_branch"),
            branch_prefix=get("branch_prefix", DEFAULT_BRANCH_PREFIX),
            draft=get("draft", "true").lower() not in ("false", "no", "0", "off"),
            github_token=get("github_token"),
            path=get("path", "."),
        )


def main(env: Mapping[str, str] = os.environ) -> int:
    inputs = Inputs.from_env(env)
    for secret in (inputs.api_key, inputs.github_token):
        if secret:
            mask(secret)  # first of all: nothing printed later can show them
    event = load_event(env.get("GITHUB_EVENT_PATH"))
    decision = decide(env.get("GITHUB_EVENT_NAME", ""), event, inputs.task, inputs.label)
    if isinstance(decision, Ignored):
        print(f"codeplan: ignored: {decision.why}", flush=True)
        return 0
    print(f"codeplan: acting on {decision.why}", flush=True)
    report = Report(task=decision.task, run_url=_run_url(env))
    project = Path(env.get("GITHUB_WORKSPACE") or ".").joinpath(inputs.path).resolve()
    failed = _act(inputs, env, project, report)
    outputs = {**report.outputs(), "run-dir": _run_dir(project, report)}
    write_outputs(env.get("GITHUB_OUTPUT"), outputs)
    append_summary(env.get("GITHUB_STEP_SUMMARY"), summary_markdown(report))
    _comment(inputs, env, decision, report)
    return 1 if failed else 0


def _act(inputs: Inputs, env: Mapping[str, str], project: Path, report: Report) -> bool:
    """Run, test and open the pull request; True when something failed."""
    try:
        max_cost = float(inputs.max_cost_usd) if inputs.max_cost_usd else None
    except ValueError:
        report.reason = f"max-cost-usd must be a number of dollars, not {inputs.max_cost_usd!r}"
        return True
    if not project.is_dir():
        report.reason = f"the path input {inputs.path!r} is not a folder of the checkout"
        return True
    args = ["run", "--yes", "--format", "json"]
    if max_cost is not None:
        args += ["--max-cost", str(max_cost)]
    if inputs.branch_prefix != DEFAULT_BRANCH_PREFIX:
        args += ["--branch-prefix", inputs.branch_prefix]
    args += ["--", report.task]  # a task may start with "-": it is never an option
    code, out, err = _codeplan(args, project, _run_env(inputs, env))
    result = _json_object(out)
    if result is None:
        report.reason = _error_text(err) or f"codeplan run exited with status {code}"
        return True
    report.run_id = str(result.get("run", ""))
    report.status = str(result.get("status", "failed"))
    report.reason = str(result.get("reason", ""))
    report.edited = [str(block) for block in result.get("edited", [])]
    usage = result.get("usage")
    report.usage = usage if isinstance(usage, dict) else {}
    if report.status != "done":
        report.tests_passed = False if report.status == "unresolved" else None
        return True
    if not report.edited:
        return False  # done, and nothing needed to change: no pull request to open
    if inputs.test_command:
        _run_tests(inputs.test_command, project, report, env)
    else:
        report.tests_passed = True  # the run is done only once its own validation passed
    # Into the checked-out branch: the default one, or a pull request's when the workflow
    # checked that out to follow up on it.
    base = inputs.base_branch or _current_branch(project)
    return _open_pull_request(inputs, env, project, base, report) or report.tests_passed is False


def _run_tests(command: str, project: Path, report: Report, env: Mapping[str, str]) -> None:
    """The test command in the run's worktree (the result, not the checkout)."""
    try:
        folder = Workspace.open(project, report.run_id).root
    except CodePlanError as error:
        report.test_output, report.tests_passed = f"no worktree to test: {error}", False
        return
    print(f"codeplan: running the test command in {folder}", flush=True)
    try:
        done = subprocess.run(
            command,
            shell=True,  # a command line, as a workflow's `run:` is
            cwd=folder,
            env=_without(env, _GITHUB_SECRETS + _MODEL_SECRETS),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TEST_TIMEOUT_SECONDS,
        )
        output, passed = done.stdout, done.returncode == 0
    except subprocess.TimeoutExpired as timeout:
        output, passed = f"{timeout.output or ''}\n(timed out)", False
    sys.stdout.write(output)
    report.test_output, report.tests_passed = output, passed


def _open_pull_request(
    inputs: Inputs, env: Mapping[str, str], project: Path, base: str, report: Report
) -> bool:
    """`codeplan pr`; True when it failed.  A result whose tests fail is only a draft."""
    draft = inputs.draft or report.tests_passed is False
    args = ["pr", report.run_id, "--draft" if draft else "--ready", "--format", "json"]
    if base:
        args += ["--base", base]
    if env.get("GITHUB_REPOSITORY"):
        args += ["--repo", env["GITHUB_REPOSITORY"]]  # the remote's URL may not say it
    pr_env = dict(_without(env, _MODEL_SECRETS))
    if inputs.github_token:
        pr_env["GITHUB_TOKEN"] = inputs.github_token
    code, out, err = _codeplan(args, project, pr_env)
    answer = _json_object(out)
    if code != 0 or answer is None or not answer.get("url"):
        report.status = "failed"
        report.reason = "opening the pull request failed: " + (
            _error_text(err) or f"codeplan pr exited with status {code}"
        )
        return True
    number = answer.get("number")
    report.pr_number = number if isinstance(number, int) else None
    report.pr_url, report.pr_created = str(answer["url"]), bool(answer.get("created"))
    return False


def _codeplan(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, str, str]:
    """Run the CLI of this installation; stderr goes on to the log as it comes, and is kept
    for the failure message."""
    command = [sys.executable, "-m", "codeplan", *args]
    print(f"codeplan: $ codeplan {args[0]} …", flush=True)
    process = subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    lines: list[str] = []
    relay = threading.Thread(target=_relay, args=(process.stderr, lines), daemon=True)
    relay.start()
    out = process.stdout.read()
    code = process.wait()
    relay.join()
    return code, out, "".join(lines)


def _relay(stream: IO[str], lines: list[str]) -> None:
    for line in stream:
        lines.append(line)
        sys.stderr.write(line)
        sys.stderr.flush()


def _run_env(inputs: Inputs, env: Mapping[str, str]) -> dict[str, str]:
    # The model's settings go to codeplan the way a user gives them; the GitHub token does
    # not, since the run's validation executes the repository's tests.
    run_env = dict(_without(env, (*_GITHUB_SECRETS, "INPUT_API_KEY")))
    for name, value in (
        ("OPENAI_BASE_URL", inputs.api_base),
        ("OPENAI_API_KEY", inputs.api_key),
        ("CODEPLAN_MODEL", inputs.model),
    ):
        if value:
            run_env[name] = value
    return run_env


def _comment(inputs: Inputs, env: Mapping[str, str], decision: Trigger, report: Report) -> None:
    repository = env.get("GITHUB_REPOSITORY", "")
    if decision.issue is None or not repository:
        return
    if not inputs.github_token:
        warning("no github-token: the result is not commented on the issue")
        return
    api_url = env.get("GITHUB_API_URL") or "https://api.github.com"
    body = comment_markdown(report)
    url = post_comment(api_url, repository, decision.issue, inputs.github_token, body)
    if url:
        print(f"codeplan: commented {url}", flush=True)


def _without(env: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if key not in names}


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error_text(stderr: str) -> str:
    """The CLI's `error: ...` message (it may span lines), else its last line."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    if starts:
        return "\n".join(lines[starts[-1] :]).removeprefix("error: ")[:MAX_REASON]
    return lines[-1].strip()[:MAX_REASON] if lines else ""


def _current_branch(project: Path) -> str:
    """The checked-out branch ("" when detached): the pull request goes back into it."""
    done = subprocess.run(
        ["git", "symbolic-ref", "--quiet", "--short", "HEAD"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def _run_dir(project: Path, report: Report) -> str:
    folder = project / ".codeplan" / "runs" / report.run_id
    return str(folder) if report.run_id and folder.is_dir() else ""


def _run_url(env: Mapping[str, str]) -> str:
    parts = [env.get(n, "") for n in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else ""


if __name__ == "__main__":
    sys.exit(main())
