"""`codeplan resume`, `codeplan runs`, `codeplan show` and `codeplan apply`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from codeplan.cli.common import consoles, reported_errors
from codeplan.cli.run_cmd import finish, interrupted_runs, result_of_applied
from codeplan.cli.run_options import (
    ApplyOpt,
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
    ModelOpt,
    NoValidateOpt,
    OutputFormat,
    PathOpt,
    RunFlags,
    SandboxOpt,
)
from codeplan.deliver.workspace import Workspace
from codeplan.errors import PlanError
from codeplan.plan.render import trajectory, usage_line
from codeplan.plan.store import RunStore
from codeplan.runner import environment_secrets, result_of, resume_run

RunArg = Annotated[str | None, typer.Argument(help="The run id (default: the latest run).")]


def resume(
    ctx: typer.Context,
    run_id: RunArg = None,
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
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Continue a stopped or interrupted run where it left off (budgets given here
    replace the run's own)."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        store = RunStore(root)
        record = store.load(run_id or store.latest())
        given = RunFlags(
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
        flags = RunFlags.resumed(record.settings, given)
        progress = LiveProgress(streams.err)
        with interrupted_runs(streams, root), progress.status:
            result = resume_run(
                root,
                record.id,
                flags.editor_factory(root),
                flags.oracle_factory(root),
                budget=flags.budget(),
                concurrency=flags.concurrency,
                secrets=environment_secrets(),
                observer=progress,
                evolve_tests=flags.evolve_tests,
                judge_tests=flags.judge_tests,
            )
        finish(streams, root, result, apply, output_format)


def runs(
    ctx: typer.Context, path: PathOpt = Path("."), output_format: FormatOpt = OutputFormat.TABLE
) -> None:
    """List this repository's runs, the latest last."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        store = RunStore(path.resolve())
        records = [store.load(run_id) for run_id in store.ids()]
        if output_format is OutputFormat.JSON:
            rows = [
                {
                    "run": r.id,
                    "status": r.progress.status,
                    "task": r.settings.task,
                    "branch": r.branch,
                    "edits": len(r.plan.edits),
                    "cost_usd": r.progress.usage.cost_usd,
                }
                for r in records
            ]
            streams.out.file.write(json.dumps(rows, indent=2) + "\n")
            return
        table = Table("run", "status", "task", "edits", "cost", "started")
        for r in records:
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created))
            table.add_row(
                r.id, r.progress.status, r.settings.task[:50], str(len(r.plan.edits)),
                f"${r.progress.usage.cost_usd:.4f}", started,
            )  # fmt: skip
        streams.out.print(table if records else Text("no runs yet"))


def show(
    ctx: typer.Context,
    run_id: RunArg = None,
    path: PathOpt = Path("."),
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """A run's trajectory: the plan tree, each edit as a diff with its causes, costs."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        store = RunStore(root)
        record = store.load(run_id or store.latest())
        result = result_of(record, Workspace.open(root, record.id))
        if output_format is OutputFormat.JSON:
            data = result.to_json()
            data["events"] = store.events(record.id)
            streams.out.file.write(json.dumps(data, indent=2) + "\n")
            return
        streams.out.print(result)
        streams.out.print(trajectory(record.plan))
        streams.out.print(Text(usage_line(record.progress.usage), style="dim"))


def apply(
    ctx: typer.Context,
    run_id: RunArg = None,
    path: PathOpt = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Apply a run that is not done (stopped, unresolved).")
    ] = False,
) -> None:
    """Bring a run's changes into your working tree (refused where you have edited the
    same files since; nothing is half-applied)."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        store = RunStore(root)
        record = store.load(run_id or store.latest())
        if record.progress.status != "done" and not force:
            raise PlanError(f"run {record.id} is {record.progress.status}; --force to apply anyway")
        workspace = Workspace.open(root, record.id)
        result = result_of_applied(result_of(record, workspace), workspace.apply_to_user_tree())
        written = ", ".join(result.applied) or "nothing (already applied)"
        streams.out.print(f"applied: {written}", highlight=False)
