"""What every command shares: its consoles and the error policy.

Commands receive their consoles through the typer context (`ctx.obj`), so a test can pass
recording consoles as `CliRunner().invoke(app, args, obj=Consoles(...))`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from codeplan.errors import CodePlanError


@dataclass(frozen=True)
class Consoles:
    """Where a command writes: `out` for results, `err` for messages and progress."""

    out: Console
    err: Console

    @classmethod
    def default(cls) -> Consoles:
        return cls(out=Console(), err=Console(stderr=True))


def consoles(ctx: typer.Context) -> Consoles:
    """The consoles of this invocation: the ones passed as `obj`, else the defaults."""
    root = ctx.find_root()
    if not isinstance(root.obj, Consoles):
        root.obj = Consoles.default()
    return root.obj


@contextmanager
def reported_errors(err: Console) -> Iterator[None]:
    """Turn an expected `CodePlanError` into `error: <message>` and its exit code.

    Anything else is a bug and propagates with its traceback.
    """
    try:
        yield
    except CodePlanError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from exc


# the arguments of the commands that compare two states of a repository
RepoPathArg = Annotated[
    Path, typer.Argument(metavar="PATH", help="A git repository or a folder inside one.")
]
BaseOpt = Annotated[str, typer.Option("--base", help="The state before the change.")]
HeadOpt = Annotated[
    str | None,
    typer.Option("--head", help="The state after the change (default: the working tree)."),
]
