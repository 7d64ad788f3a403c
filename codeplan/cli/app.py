"""The `codeplan` command: one typer app; each command group lives in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from codeplan import __version__
from codeplan.cli import (
    commit_cmd,
    experiences_cmd,
    graph_cmd,
    impact_cmd,
    pr_cmd,
    run_cmd,
    runs_cmd,
    sandbox_cmd,
    tests_cmd,
)
from codeplan.cli.common import consoles

app = typer.Typer(
    name="codeplan",
    help="Repository-level coding agent: dependency graph, impact analysis and planning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("graph")(graph_cmd.graph)
app.command("impact")(impact_cmd.impact)
app.command("run")(run_cmd.run)
app.command("propagate")(run_cmd.propagate)
app.command("plan")(run_cmd.plan)
app.command("resume")(runs_cmd.resume)
app.command("runs")(runs_cmd.runs)
app.command("show")(runs_cmd.show)
app.command("apply")(runs_cmd.apply)
app.command("commit-message")(commit_cmd.commit_message)
app.command("pr")(pr_cmd.pr)
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(experiences_cmd.app, name="experiences")
app.add_typer(tests_cmd.app, name="tests")


def _print_version(value: bool) -> None:
    if value:
        from codeplan.graph import analysis_build

        typer.echo(f"codeplan {__version__} (graph analysis: {analysis_build()})")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Repository-level coding agent: dependency graph, impact analysis and planning."""
    consoles(ctx)


def main() -> None:
    """The console script `codeplan`."""
    app(prog_name="codeplan")
