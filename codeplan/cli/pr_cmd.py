"""`codeplan pr`: push a run's branch and open (or update) its GitHub pull request."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import git
import typer

from codeplan.cli.common import consoles, reported_errors
from codeplan.cli.run_options import FormatOpt, OutputFormat, PathOpt
from codeplan.cli.runs_cmd import RunArg
from codeplan.deliver.github import GitHubClient, repo_slug
from codeplan.deliver.pr import (
    open_or_update_pr,
    pr_body,
    pr_title,
    push_branch,
    remote_default_branch,
    remote_url,
)
from codeplan.deliver.workspace import Workspace
from codeplan.errors import DeliveryError
from codeplan.plan.store import RunRecord, RunStore
from codeplan.runner import environment_secrets, result_of

ListOpt = list[str] | None


def pr(
    ctx: typer.Context,
    run_id: RunArg = None,
    path: PathOpt = Path("."),
    remote: Annotated[str, typer.Option("--remote", help="The git remote to push to.")] = "origin",
    repo: Annotated[
        str | None,
        typer.Option("--repo", help="OWNER/NAME on GitHub (default: from the remote's URL)."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="The branch to merge into (default: the remote's default branch, else your "
            "current branch).",
        ),
    ] = None,
    draft: Annotated[
        bool | None,
        typer.Option(
            "--draft/--ready",
            help="Open as a draft, or ready for review (default: draft unless the run is done).",
        ),
    ] = None,
    labels: Annotated[
        ListOpt, typer.Option("--labels", help="Labels to add (repeat, or comma-separated).")
    ] = None,
    reviewers: Annotated[
        ListOpt,
        typer.Option("--reviewers", help="Reviewers: logins or ORG/TEAM (repeat, or commas)."),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="The title (default: the task's first line).")
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="The GitHub API root (default: GITHUB_API_URL, else https://api.github.com; "
            "GitHub Enterprise: https://HOST/api/v3).",
        ),
    ] = None,
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Push a run's branch and open its pull request on GitHub, or update the one already
    open from that branch (token: GITHUB_TOKEN or GH_TOKEN)."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        store = RunStore(root)
        record = store.load(run_id or store.latest())
        workspace = Workspace.open(root, record.id)
        diff = result_of(record, workspace).diff
        if not diff.strip():
            raise DeliveryError(f"run {record.id} changed nothing; there is nothing to propose")
        # the token is checked before anything is pushed
        client = GitHubClient.from_env(os.environ, api_url)
        slug = repo or repo_slug(remote_url(root, remote))
        if slug is None or slug.count("/") != 1:
            raise DeliveryError(
                f"cannot tell the GitHub repository from remote {remote!r}; give --repo OWNER/NAME"
            )
        pushed = push_branch(root, remote, record.branch, environment_secrets())
        target = base or remote_default_branch(root, remote) or _started_from(root, record)
        if target == record.branch:
            raise DeliveryError(f"the base branch cannot be the run's own branch {target}")
        done = record.progress.status == "done"
        pull = open_or_update_pr(
            client,
            slug,
            record.branch,
            target,
            title or pr_title(record),
            pr_body(record, diff, store.events(record.id)),
            draft=not done if draft is None else draft,
            labels=_split(labels),
            reviewers=_split(reviewers),
            update_note=(
                f"CodePlan pushed `{pushed[:12]}` from run `{record.id}` "
                f"({record.progress.status}) and updated the description."
            ),
        )
        if output_format is OutputFormat.JSON:
            data = {
                "run": record.id, "number": pull.number, "url": pull.url,
                "created": pull.created, "draft": pull.draft, "repo": slug,
                "branch": record.branch, "base": target, "pushed": pushed,
            }  # fmt: skip
            streams.out.file.write(json.dumps(data, indent=2) + "\n")
            return
        verb = "opened" if pull.created else "updated"
        streams.out.print(f"{verb} pull request #{pull.number}: {pull.url}", highlight=False)
        if pull.draft and draft is False:
            streams.err.print("note: it is still a draft; mark it ready for review on GitHub")


def _split(values: ListOpt) -> tuple[str, ...]:
    return tuple(v.strip() for value in values or [] for v in value.split(",") if v.strip())


def _started_from(root: Path, record: RunRecord) -> str:
    """The user's current branch, when the run's base commit is on it."""
    repo = git.Repo(root, search_parent_directories=True)
    try:
        current = repo.active_branch.name
        repo.git.merge_base("--is-ancestor", record.base_sha, current)
    except (TypeError, git.GitCommandError):  # detached HEAD, or the base is not on it
        raise DeliveryError("cannot tell which branch to merge into; give --base BRANCH") from None
    return current
