"""What the GitHub Action tells: step outputs, the job summary, and the comment on the issue.

Everything here writes to the files and the API GitHub gives a step (GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY, GITHUB_API_URL); none of it may fail the job, because the run's own
outcome is what decides the exit status.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_LISTED_BLOCKS = 30
MAX_TEST_OUTPUT = 4000  # characters of the test command's output kept in the summary


@dataclass
class Report:
    """The outcome of one activation, filled in as the steps go."""

    task: str
    run_id: str = ""
    status: str = "failed"  # codeplan's status (done, unresolved, stopped...) or "failed"
    reason: str = ""
    edited: list[str] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    tests_passed: bool | None = None  # None: not known (no tests run)
    test_output: str = ""
    pr_number: int | None = None
    pr_url: str = ""
    pr_created: bool = False
    run_url: str = ""  # the workflow run, where the log and the artifact are

    @property
    def cost_usd(self) -> float:
        return float(self.usage.get("cost_usd") or 0.0)

    def outputs(self) -> dict[str, str]:
        tests = "" if self.tests_passed is None else str(self.tests_passed).lower()
        return {
            "run-id": self.run_id,
            "status": self.status,
            "pull-request-url": self.pr_url,
            "pull-request-number": "" if self.pr_number is None else str(self.pr_number),
            "cost-usd": f"{self.cost_usd:.4f}",
            "tests-passed": tests,
        }


def mask(value: str) -> None:
    """Tell the runner to hide `value` in every log line from now on."""
    for line in value.strip().splitlines():
        if line.strip():
            print(f"::add-mask::{line.strip()}", flush=True)


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    """Append step outputs in the multi-line form, which no value can break out of."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(path: str | None, markdown: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")


def summary_markdown(report: Report) -> str:
    lines = ["## CodePlan", "", _quoted(report.task), "", "| | |", "| --- | --- |"]
    first, _, rest = report.reason.partition("\n")
    reason = f": {_cell(first)}" if first else ""
    lines.append(f"| Status | **{report.status}**{reason} |")
    if report.run_id:
        lines.append(f"| Run | `{report.run_id}` (its log is in the `codeplan-run-*` artifact) |")
    if report.pr_url:
        verb = "opened" if report.pr_created else "updated"
        lines.append(f"| Pull request | [#{report.pr_number}]({report.pr_url}) ({verb}) |")
    lines.append(f"| Cost | {_usage_text(report.usage)} |")
    lines.append(f"| Tests | {_tests_text(report.tests_passed)} |")
    if rest.strip():  # a table cell holds one line: the whole message goes below
        lines += ["", *_fenced(report.reason)]
    lines += ["", *_edited_lines(report.edited)]
    if report.test_output:
        lines += ["", "<details><summary>Test command output</summary>", ""]
        lines += [*_fenced(report.test_output[-MAX_TEST_OUTPUT:]), "</details>"]
    return "\n".join(lines) + "\n"


def comment_markdown(report: Report) -> str:
    if report.pr_url:
        verb = "opened" if report.pr_created else "updated"
        head = f"CodePlan {verb} {report.pr_url} for this."
    elif report.status == "done":
        head = "CodePlan finished, and nothing needed to change."
    elif "\n" in report.reason:  # e.g. the CLI's advice on configuring a model
        head = f"CodePlan could not complete this: **{report.status}**.\n\n"
        head += "\n".join(_fenced(report.reason))
    else:
        head = f"CodePlan could not complete this: **{report.status}**"
        head += f": {report.reason}" if report.reason else "."
    lines = [head, ""]
    if report.pr_url and report.tests_passed is False:
        lines.append("The test command failed on the result, so the pull request is a draft.")
    lines.append(f"{_usage_text(report.usage)}; tests: {_tests_text(report.tests_passed)}.")
    lines += ["", *_edited_lines(report.edited)]
    if report.run_url:
        lines += ["", f"[The workflow run]({report.run_url}) has the log and the run's files."]
    return "\n".join(lines).strip() + "\n"


def post_comment(api_url: str, repository: str, issue: int, token: str, body: str) -> str:
    """Comment on an issue or pull request; the comment's URL, or "" with a warning."""
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}/repos/{repository}/issues/{issue}/comments",
        data=json.dumps({"body": body}).encode("utf-8"),
        method="POST",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "User-Agent": "codeplan-action",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        warning(f"could not comment on #{issue}: {error}")
        return ""
    return str(answer.get("html_url", "")) if isinstance(answer, dict) else ""


def warning(message: str) -> None:
    print(f"::warning::{message}", file=sys.stderr, flush=True)


def _fenced(text: str) -> list[str]:
    # a fence inside the text would end the block early
    return ["```text", text.rstrip().replace("```", "'''"), "```"]


def _edited_lines(edited: list[str]) -> list[str]:
    if not edited:
        return []
    lines = [f"Edited blocks ({len(edited)}):", ""]
    lines += [f"- `{block}`" for block in edited[:MAX_LISTED_BLOCKS]]
    if len(edited) > MAX_LISTED_BLOCKS:
        lines.append(f"- and {len(edited) - MAX_LISTED_BLOCKS} more")
    return lines


def _usage_text(usage: Mapping[str, Any]) -> str:
    calls, tokens = int(usage.get("calls") or 0), int(usage.get("tokens") or 0)
    return f"${float(usage.get('cost_usd') or 0.0):.4f} ({calls} model calls, {tokens:,} tokens)"


def _tests_text(passed: bool | None) -> str:
    return {True: "passed", False: "failed", None: "not run"}[passed]


def _quoted(text: str, limit: int = 1000) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return "\n".join(f"> {line}" for line in shown.splitlines() or [""])


def _cell(text: str) -> str:
    # a table cell is one line, and a bar would end it early
    return " ".join(text.split()).replace("|", "\\|")
