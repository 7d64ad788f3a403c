"""Running the CLI in-process with recording consoles, for the CLI tests."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from codeplan.cli.app import app
from codeplan.cli.common import Consoles


@dataclass
class Outcome:
    exit_code: int
    out: str
    err: str
    exception: BaseException | None


def run(*args: str | Path, width: int = 100) -> Outcome:
    """Invoke the CLI with recording consoles (`width` columns) and return what it wrote."""
    out = Console(file=io.StringIO(), width=width)
    err = Console(file=io.StringIO(), width=width)
    result = CliRunner().invoke(app, [str(a) for a in args], obj=Consoles(out=out, err=err))
    assert isinstance(out.file, io.StringIO) and isinstance(err.file, io.StringIO)
    return Outcome(result.exit_code, out.file.getvalue(), err.file.getvalue(), result.exception)
