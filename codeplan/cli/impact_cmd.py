"""`codeplan impact`: which blocks a change may impact, and why."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from codeplan.cli.common import BaseOpt, HeadOpt, RepoPathArg, consoles, reported_errors
from codeplan.graph import GraphOptions
from codeplan.impact.render import impact_to_json, impact_tree
from codeplan.impact.states import impact_between


class ImpactFormat(str, Enum):
    TABLE = "table"
    JSON = "json"


def impact(
    ctx: typer.Context,
    path: RepoPathArg = Path("."),
    base: BaseOpt = "HEAD",
    head: HeadOpt = None,
    output_format: Annotated[
        ImpactFormat, typer.Option("--format", "-f", help="table: a tree; json: for tools.")
    ] = ImpactFormat.TABLE,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Re-analyse every file; ignore .codeplan/.")
    ] = False,
) -> None:
    """Classify the changes from BASE to HEAD and list the blocks they may impact."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        report = impact_between(path, base, head, GraphOptions(use_cache=not no_cache))
        if output_format is ImpactFormat.JSON:
            streams.out.file.write(json.dumps(impact_to_json(report), indent=2) + "\n")
        else:
            streams.out.print(impact_tree(report))
