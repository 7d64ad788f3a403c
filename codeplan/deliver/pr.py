"""A run as a pull request: its branch pushed, a body that explains the change (the task,
the plan with its causes, validation, cost, how to reproduce), one PR per branch.

Pushing touches only the run's own branch on the remote.  A branch that is already there
is replaced (force-with-lease) only when its remote tip is a commit this branch once had
locally, e.g. before a resume rewound it; commits someone else pushed there are never
overwritten."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from codeplan.deliver.github import GitHubClient
from codeplan.errors import DeliveryError
from codeplan.plan.model import Obligation, PlanGraph
from codeplan.plan.render import usage_line
from codeplan.plan.store import RunRecord
from codeplan.validate.parsers import is_test_path

TEST_UPDATE = "test-update"  # the cause kind of the obligations that update obsolete tests
MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
_USERINFO = re.compile(r"://[^/@\s]+@")


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    created: bool  # False: an open PR from the branch existed and was updated
    draft: bool = False


# -- the body ------------------------------------------------------------------------------


def pr_title(record: RunRecord) -> str:
    first = next((line.strip() for line in record.settings.task.splitlines() if line.strip()), "")
    return (first or f"CodePlan run {record.id}")[:120]


def pr_body(record: RunRecord, diff: str, events: Sequence[Mapping[str, Any]] = ()) -> str:
    """The pull request's markdown; `events` are the run log's (for validation rounds)."""
    progress = record.progress
    reason = f": {_one_line(progress.reason)}" if progress.reason else ""
    parts = [
        f"<!-- codeplan run: {record.id} -->",
        f"## CodePlan run `{record.id}`",
        "**Task**",
        "\n".join(f"> {line}" for line in record.settings.task.splitlines() or [""]),
        f"**Status:** `{progress.status}`{reason}",
        "### Plan",
        _counts(record.plan),
        "\n".join(_plan_lines(record.plan)) or "_(no obligations)_",
        "### Changes",
        _changes(record.plan, diff),
        "### Validation",
        _validation(record, events),
        "### Updated tests",
        _updated_tests(record.plan),
        "### Cost",
        f"{usage_line(progress.usage)}; {progress.seconds:.0f} s",
        "### Reproduce locally",
        f"Branch `{record.branch}`, from base commit `{record.base_sha[:12]}`.\n\n"
        f"In the repository the run was made in:\n\n```\ncodeplan show {record.id}\n```\n\n"
        f"Elsewhere: `git fetch origin {record.branch} && git switch {record.branch}`",
        "<sub>Opened by CodePlan; rerunning `codeplan pr` updates this pull request.</sub>",
    ]  # fmt: skip
    body = "\n\n".join(parts) + "\n"
    if len(body) > MAX_BODY:
        note = f"\n\n_(cut at {MAX_BODY:,} characters; `codeplan show {record.id}` has it all)_\n"
        body = body[: MAX_BODY - len(note)] + note
    return body


def _counts(plan: PlanGraph) -> str:
    return ", ".join(f"{n} {status}" for status, n in plan.counts().items() if n) or "empty"


def _plan_lines(plan: PlanGraph) -> list[str]:
    """The plan as `plan_tree` shows it: roots are the seeds, under an edit the obligations
    it caused, each with its reasons."""
    lines: list[str] = []
    shown: set[int] = set()
    roots = [o for o in plan.obligations.values() if not any(c.edit_id for c in o.causes)]
    for obligation in roots + list(plan.obligations.values()):  # then orphans
        _add(lines, plan, obligation, shown, 0)
    return lines


def _add(lines: list[str], plan: PlanGraph, o: Obligation, shown: set[int], level: int) -> None:
    if o.id in shown:
        return
    shown.add(o.id)
    pad = "  " * level
    lines.append(f"{pad}- **{o.status.value}** {_code(o.block_id)}")
    for cause in o.causes:
        lines.append(f"{pad}  - _because_ {_one_line(cause.reason)}")
    if o.note:
        lines.append(f"{pad}  - _note:_ {_one_line(o.note)}")
    for edit in plan.edits.values():
        if edit.obligation_id != o.id:
            continue
        if edit.labels:
            lines.append(f"{pad}  - change: {', '.join(edit.labels)}")
        for child in plan.children_of(edit.id):
            _add(lines, plan, child, shown, level + 1)


def _changes(plan: PlanGraph, diff: str) -> str:
    blocks: dict[str, list[str]] = {}
    for edit in plan.edits.values():
        names = blocks.setdefault(edit.path, [])
        if edit.qualname not in names:
            names.append(edit.qualname)
    stats = diff_stats(diff)
    paths = list(blocks) + [p for p in stats if p not in blocks]
    if not paths:
        return "_(no changes)_"
    rows = ["| File | Blocks | Lines |", "|---|---|---|"]
    for path in paths:
        added, removed = stats.get(path, (0, 0))
        named = ", ".join(_code(q) for q in blocks.get(path, [])) or "_(whole file)_"
        rows.append(f"| {_code(path)} | {named} | +{added} -{removed} |")
    return "\n".join(rows)


def diff_stats(diff: str) -> dict[str, tuple[int, int]]:
    """Lines added and removed per file of a unified git diff."""
    stats: dict[str, list[int]] = {}
    current: list[int] | None = None
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            path = line.split(" b/", 1)[-1]
            current = stats.setdefault(path, [0, 0])
        elif current is None or line.startswith(("+++", "---")):
            continue
        elif line.startswith("+"):
            current[0] += 1
        elif line.startswith("-"):
            current[1] += 1
    return {path: (a, r) for path, (a, r) in stats.items()}


def _validation(record: RunRecord, events: Sequence[Mapping[str, Any]]) -> str:
    progress = record.progress
    rounds = [e for e in events if e.get("event") == "validate"]
    if not rounds and not progress.oracle_rounds:
        if not record.settings.validate:
            return "Not validated: the run was started with `--no-validate`."
        return "Not validated: the run recorded no validation round."
    lines = []
    if progress.baseline is not None:
        known = len(progress.baseline)
        lines.append(
            f"- Before (base commit): {known} problems already there, not counted against "
            "this change"
            if known
            else "- Before (base commit): every check passed"
        )
    for event in rounds:
        found = event.get("diagnostics") or []
        verdict = "passed" if event.get("ok") else f"{len(found)} new problems"
        lines.append(f"- Round {event.get('round', '?')}: {verdict}")
    if progress.remaining:
        lines.append(f"- After: {len(progress.remaining)} problems remain:")
        lines += [f"  - {_code(_one_line(item)[:300])}" for item in progress.remaining[:20]]
    else:
        lines.append(f"- After: no new problems ({progress.oracle_rounds} validation rounds)")
    flaky = sorted({str(t) for e in events for t in e.get("flaky") or ()})
    if flaky:
        lines.append("- Flaky (failed, then passed on a rerun): " + ", ".join(map(_code, flaky)))
    return "\n".join(lines)


def _updated_tests(plan: PlanGraph) -> str:
    lines = []
    for edit in plan.edits.values():
        owner = plan.obligations.get(edit.obligation_id)
        updated = owner is not None and any(c.kind == TEST_UPDATE for c in owner.causes)
        if updated or is_test_path(edit.path):
            how = " (obsolete after the change)" if updated else ""
            lines.append(f"- {_code(f'{edit.path}::{edit.qualname}')}{how}")
    left = [
        o for o in plan.obligations.values()
        if any(c.kind == TEST_UPDATE for c in o.causes) and o.id not in _edited(plan)
    ]  # fmt: skip
    lines += [f"- {_code(o.block_id)}: not updated ({o.status.value})" for o in left]
    return "\n".join(lines) or "_(no test was changed)_"


def _edited(plan: PlanGraph) -> set[int]:
    return {e.obligation_id for e in plan.edits.values()}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _code(text: str) -> str:
    """`text` as inline code, however many backticks it holds."""
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# -- git -----------------------------------------------------------------------------------


def push_branch(repo_path: Path, remote: str, branch: str, secrets: Iterable[str] = ()) -> str:
    """Push the run's `branch` (only that ref) to `remote`; the pushed commit."""
    repo = git.Repo(repo_path, search_parent_directories=True)
    ref = f"refs/heads/{branch}"
    with _git_errors(f"push {branch} to {remote}", secrets):
        tip: str = repo.git.rev_parse("--verify", f"{ref}^{{commit}}")
        there = remote_ref(repo, remote, ref)
        if there == tip:
            return tip
        if there and not _is_ancestor(repo, there, tip) and there not in _reflog(repo, ref):
            raise DeliveryError(
                f"{branch} on {remote} has commits this run never had ({there[:12]}); "
                "CodePlan will not overwrite them: merge them into the run's branch, or "
                "delete the remote branch"
            )
        # the lease: the push fails if the remote branch moved since we looked
        repo.git.push("--porcelain", f"--force-with-lease={ref}:{there}", remote, f"{ref}:{ref}")
    return tip


def remote_ref(repo: git.Repo, remote: str, ref: str) -> str:
    """The commit `ref` names on `remote`, "" when it does not exist there."""
    out = str(repo.git.ls_remote(remote, ref))
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return sha
    return ""


def remote_default_branch(repo_path: Path, remote: str) -> str | None:
    """The branch the remote's HEAD names (GitHub's default branch), if it tells."""
    repo = git.Repo(repo_path, search_parent_directories=True)
    try:
        out = str(repo.git.ls_remote("--symref", remote, "HEAD"))
    except git.GitCommandError:
        return None
    match = re.search(r"^ref: refs/heads/(\S+)\tHEAD$", out, re.M)
    return match.group(1) if match else None


def remote_url(repo_path: Path, remote: str) -> str:
    repo = git.Repo(repo_path, search_parent_directories=True)
    try:
        url: str = repo.git.remote("get-url", remote)
    except git.GitCommandError:
        raise DeliveryError(f"the repository has no remote {remote!r} (--remote)") from None
    return url


def _is_ancestor(repo: git.Repo, older: str, newer: str) -> bool:
    try:
        repo.git.merge_base("--is-ancestor", older, newer)
    except git.GitCommandError:
        return False  # not an ancestor, or a commit this clone does not have
    return True


def _reflog(repo: git.Repo, ref: str) -> set[str]:
    try:
        out: str = repo.git.reflog("show", "--format=%H", ref, "--")
    except git.GitCommandError:
        return set()
    return set(out.split())


@contextmanager
def _git_errors(doing: str, secrets: Iterable[str]) -> Iterator[None]:
    """GitCommandError as a DeliveryError, with credentials blanked out of git's words."""
    try:
        yield
    except git.GitCommandError as error:
        said = str(error.stderr or error).strip()
        for secret in secrets:
            if secret:
                said = said.replace(secret, "[REDACTED]")
        said = _USERINFO.sub("://[REDACTED]@", said)
        raise DeliveryError(f"could not {doing}: {said}") from None


# -- GitHub --------------------------------------------------------------------------------


def open_or_update_pr(
    client: GitHubClient,
    repo: str,
    head_branch: str,
    base: str,
    title: str,
    body: str,
    draft: bool,
    labels: Sequence[str] = (),
    reviewers: Sequence[str] = (),
    update_note: str = "CodePlan updated this pull request.",
) -> PullRequest:
    """Open a PR from `head_branch` into `base`, or update the open one from that branch
    (its title, body and base; a comment says so).  GitHub's REST API cannot switch a PR
    between draft and ready, so `draft` counts only for a new one."""
    owner = repo.split("/", 1)[0]
    existing = client.find_open_pull(repo, f"{owner}:{head_branch}")
    if existing is None:
        pull = client.create_pull(
            repo, head=head_branch, base=base, title=title, body=body, draft=draft
        )
    else:
        number = int(existing["number"])
        pull = client.update_pull(repo, number, title=title, body=body, base=base)
        client.comment(repo, number, update_note)
    number = int(pull["number"])
    if labels:
        client.add_labels(repo, number, labels)
    if reviewers:
        client.request_reviewers(repo, number, reviewers)
    return PullRequest(
        number, str(pull.get("html_url", "")), existing is None, bool(pull.get("draft"))
    )
