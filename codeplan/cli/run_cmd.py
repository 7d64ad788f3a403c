"""`codeplan run`, `codeplan propagate` and `codeplan plan`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from codeplan.api import Repository, make_llm_editor
from codeplan.cli.common import Consoles, consoles, reported_errors
from codeplan.cli.run_options import (
    ApplyOpt,
    BranchPrefixOpt,
    CommitOpt,
    ConcurrencyOpt,
    EditorOpt,
    EvolveTestsOpt,
    FormatOpt,
    JudgeTestsOpt,
    LiveProgress,
    MaxCallsOpt,
    MaxCostOpt,
    MaxSecondsOpt,
    MaxTokensOpt,
    MessagePrefixOpt,
    ModelOpt,
    NoValidateOpt,
    OutputFormat,
    PathOpt,
    RunFlags,
    SandboxOpt,
    YesOpt,
)
from codeplan.deliver.workspace import Workspace
from codeplan.errors import PlanError
from codeplan.plan.pick import pick_seeds
from codeplan.plan.render import plan_to_json, plan_tree
from codeplan.plan.store import RunStore
from codeplan.preview import preview_plan
from codeplan.runner import RunResult, StartOptions, environment_secrets, result_of, start_run

SeedOpt = Annotated[
    list[str] | None,
    typer.Option("--seed", help="A block to change: PATH::QUALNAME (repeatable)."),
]
SeedUsesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--seed-uses",
        help="Every block using this module or symbol is a seed (resolved through imports).",
    ),
]
AllowDirtyOpt = Annotated[
    bool,
    typer.Option("--allow-dirty", help="Start from HEAD although the working tree has changes."),
]


def run(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="What to do, in words.")],
    seed: SeedOpt = None,
    seed_uses: SeedUsesOpt = None,
    path: PathOpt = Path("."),
    editor: EditorOpt = None,
    model: ModelOpt = None,
    max_cost: MaxCostOpt = None,
    max_calls: MaxCallsOpt = None,
    max_tokens: MaxTokensOpt = None,
    max_seconds: MaxSecondsOpt = None,
    concurrency: ConcurrencyOpt = 1,
    no_validate: NoValidateOpt = False,
    sandbox: SandboxOpt = None,
    evolve_tests: EvolveTestsOpt = False,
    judge_tests: JudgeTestsOpt = False,
    apply: ApplyOpt = False,
    branch_prefix: BranchPrefixOpt = "codeplan/",
    commit: CommitOpt = "step",
    message_prefix: MessagePrefixOpt = None,
    allow_dirty: AllowDirtyOpt = False,
    yes: YesOpt = False,
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Carry out TASK starting from seed blocks, then propagate it through the repository.

    Work happens on a new branch `codeplan/<task>` in its own worktree; your working tree
    changes only with --apply.  Exit status: 0 done, 1 validation still failing, 3 stopped
    by a budget or interrupted (resumable with `codeplan resume`)."""
    flags = RunFlags(
        editor,
        model,
        max_cost,
        max_calls,
        max_tokens,
        max_seconds,
        concurrency,
        not no_validate,
        sandbox,
        evolve_tests,
        judge_tests,
    )
    seeds = tuple(seed or ())
    if not seeds and not seed_uses:
        seeds = _picked_seeds(ctx, path, task, flags, yes)
    options = StartOptions(
        task=task,
        branch_prefix=branch_prefix,
        seeds=seeds,
        seed_uses=tuple(seed_uses or ()),
        allow_dirty=allow_dirty,
        settings=replace(
            flags.settings(task, "run"), commit=_commit_mode(commit), message_prefix=message_prefix
        ),
        budget=flags.budget(),
        concurrency=concurrency,
    )
    _start(ctx, path, options, flags, apply, output_format)


def _picked_seeds(
    ctx: typer.Context, path: Path, task: str, flags: RunFlags, yes: bool
) -> tuple[str, ...]:
    """No seeds given: the LLM picks them from the task with the graph as a map, and the
    user confirms (or passes --yes)."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        repository = Repository(root)
        llm = make_llm_editor(root, repository.config, os.environ, flags.model)
        with streams.err.status("asking the model for the seed blocks"):
            blocks = pick_seeds(task, repository.graph, lambda m: llm.complete(m, purpose="seeds"))
        streams.err.print("Seeds picked by the model:", highlight=False)
        for block in blocks:
            streams.err.print(f"  {block.id}", highlight=False)
        if not yes:
            if not sys.stdin.isatty():
                raise PlanError("confirm the picked seeds with --yes, or give --seed")
            if not typer.confirm("Start the run from these seeds?", default=True):
                raise typer.Exit(1)
        return tuple(block.id for block in blocks)


def propagate(
    ctx: typer.Context,
    task: Annotated[
        str, typer.Argument(help="What your edits are for (shown to the editor).")
    ] = "Propagate the user's edits through the repository",
    path: PathOpt = Path("."),
    editor: EditorOpt = None,
    model: ModelOpt = None,
    max_cost: MaxCostOpt = None,
    max_calls: MaxCallsOpt = None,
    max_tokens: MaxTokensOpt = None,
    max_seconds: MaxSecondsOpt = None,
    concurrency: ConcurrencyOpt = 1,
    no_validate: NoValidateOpt = False,
    sandbox: SandboxOpt = None,
    evolve_tests: EvolveTestsOpt = False,
    judge_tests: JudgeTestsOpt = False,
    apply: ApplyOpt = False,
    branch_prefix: BranchPrefixOpt = "codeplan/",
    commit: CommitOpt = "step",
    message_prefix: MessagePrefixOpt = None,
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Your uncommitted edits are the seeds: change what they impact to match.

    Exit status as for `codeplan run`."""
    flags = RunFlags(
        editor,
        model,
        max_cost,
        max_calls,
        max_tokens,
        max_seconds,
        concurrency,
        not no_validate,
        sandbox,
        evolve_tests,
        judge_tests,
    )
    options = StartOptions(
        task=task,
        branch_prefix=branch_prefix,
        mode="propagate",
        settings=replace(
            flags.settings(task, "propagate"),
            commit=_commit_mode(commit),
            message_prefix=message_prefix,
        ),
        budget=flags.budget(),
        concurrency=concurrency,
    )
    _start(ctx, path, options, flags, apply, output_format)


def plan(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="The task (omit with --from-diff).")] = "",
    seed: SeedOpt = None,
    seed_uses: SeedUsesOpt = None,
    from_diff: Annotated[
        bool, typer.Option("--from-diff", help="Plan from your uncommitted edits.")
    ] = False,
    path: PathOpt = Path("."),
    model: ModelOpt = None,
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show the plan a task or your edits would start, with estimated tokens and cost,
    without asking for any edit."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        if not task and not from_diff:
            raise PlanError("give a TASK with --seed/--seed-uses, or --from-diff")
        preview = preview_plan(
            path,
            task or "Propagate the user's edits through the repository",
            seeds=seed or (),
            seed_uses=seed_uses or (),
            from_diff=from_diff,
            model=model or os.environ.get("CODEPLAN_MODEL", "gpt-4o-mini"),
        )
        if output_format is OutputFormat.JSON:
            data = plan_to_json(preview.plan)
            data["estimate"] = {
                "tokens": preview.total_tokens,
                "model": preview.model,
                "cost_usd": preview.cost_usd,
                "by_obligation": preview.tokens,
            }
            streams.out.file.write(json.dumps(data, indent=2) + "\n")
            return
        streams.out.print(plan_tree(preview.plan, "plan (dry run)", preview.tokens))
        pending = len(preview.tokens)
        streams.out.print(
            f"{pending} blocks to ask about, ~{preview.total_tokens:,} tokens, "
            f"~${preview.cost_usd:.4f} with {preview.model} (at most: a triage may close "
            "blocks that need no change; derived edits not counted: they depend on the answers)"
        )


def _start(
    ctx: typer.Context,
    path: Path,
    options: StartOptions,
    flags: RunFlags,
    apply: bool,
    output_format: OutputFormat,
) -> None:
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        progress = LiveProgress(streams.err)
        with interrupted_runs(streams, root), progress.status:
            result = start_run(
                root,
                options,
                flags.editor_factory(root),
                flags.oracle_factory(root),
                secrets=environment_secrets(),
                observer=progress,
            )
        finish(streams, root, result, apply, output_format)


@contextmanager
def interrupted_runs(streams: Consoles, root: Path) -> Iterator[None]:
    """Ctrl-C: the run's state is saved and its worktree back at the last step; say how
    to continue and exit like an interrupted command does."""
    try:
        yield
    except KeyboardInterrupt:
        run_id = RunStore(root).ids()[-1:] or ["?"]
        streams.err.print(
            f"interrupted; your working tree is untouched. `codeplan resume {run_id[0]}` "
            "continues the run.",
            highlight=False,
        )
        raise typer.Exit(130) from None


def finish(
    streams: Consoles, root: Path, result: RunResult, apply: bool, output_format: OutputFormat
) -> None:
    """Apply if asked and possible, print the result, and exit with its status."""
    if apply and result.succeeded:
        workspace = Workspace.open(root, result.run_id)
        result = result_of_applied(result, workspace.apply_to_user_tree())
    elif apply:
        streams.err.print(f"not applied: the run is {result.status}", highlight=False)
    if output_format is OutputFormat.JSON:
        streams.out.file.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        streams.out.print(result)
    raise typer.Exit(EXIT_CODES.get(result.status, 1))


def result_of_applied(result: RunResult, applied: list[str]) -> RunResult:
    return replace(result, applied=tuple(applied))


EXIT_CODES = {"done": 0, "unresolved": 1, "stopped": 3, "interrupted": 3}

__all__ = ["finish", "plan", "propagate", "result_of", "run"]


def _commit_mode(value: str) -> str:
    if value not in ("step", "run"):
        raise typer.BadParameter("--commit is step or run")
    return value
