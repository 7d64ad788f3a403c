"""`codeplan experiences build|search|stats`: past production/test co-changes."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from codeplan.cli.common import consoles, reported_errors
from codeplan.cli.run_options import FormatOpt, OutputFormat
from codeplan.errors import ConfigError
from codeplan.evolve.experiences import ExperienceBank
from codeplan.evolve.retrieve import ExperienceIndex
from codeplan.evolve.rules import learn_rules

app = typer.Typer(
    help="Mine and search past commits that changed code and its tests together.",
    no_args_is_help=True,
)

PathArg = Annotated[
    Path, typer.Argument(metavar="PATH", help="A git repository or a folder inside one.")
]


@app.command()
def build(
    ctx: typer.Context,
    path: PathArg = Path("."),
    max_commits: Annotated[
        int | None,
        typer.Option("--max-commits", min=0, help="Mine at most N new commits (newest first)."),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Forget what was mined and start over.")
    ] = False,
) -> None:
    """Mine the history's co-changes into .codeplan/experiences.sqlite3 (only new commits)."""
    streams = consoles(ctx)
    with reported_errors(streams.err), ExperienceBank(path) as bank:
        started = time.monotonic()
        with streams.err.status("mining commits") as status:

            def progress(done: int, total: int) -> None:
                status.update(f"mining commits: {done}/{total}")

            mine = bank.rebuild if rebuild else bank.build
            result = mine(max_commits, progress)
        streams.out.print(
            f"commits scanned: {result.commits_scanned}"
            f" ({result.commits_skipped} skipped: unparsable or incomplete)\n"
            f"experiences added: {result.experiences_added}\n"
            f"experiences in all: {result.total_experiences}\n"
            f"time: {time.monotonic() - started:.1f}s",
            highlight=False,
        )


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words or code to look for.")],
    path: PathArg = Path("."),
    k: Annotated[int, typer.Option("-k", min=1, help="How many results.")] = 5,
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The past co-changes most like QUERY (BM25 over their production changes)."""
    streams = consoles(ctx)
    with reported_errors(streams.err), ExperienceBank(path) as bank:
        experiences = bank.experiences()
        if not experiences:
            raise ConfigError("no experiences yet: run `codeplan experiences build` first")
        results = ExperienceIndex.build(experiences).search(query, k)
        if output_format is OutputFormat.JSON:
            rows = [{"score": round(score, 4), **asdict(found)} for found, score in results]
            streams.out.file.write(json.dumps(rows, indent=2) + "\n")
            return
        table = Table()
        table.add_column("score", no_wrap=True, min_width=5)
        table.add_column("commit", no_wrap=True, min_width=10)
        table.add_column("production", overflow="fold", min_width=16)
        table.add_column("test", overflow="fold", min_width=16)
        table.add_column("message")
        for found, score in results:
            table.add_row(
                f"{score:.2f}",
                found.commit[:10],
                found.production_qualname,
                found.test_qualname,
                _shortened(found.message.partition("\n")[0], 60),
            )
        streams.out.print(table)


@app.command()
def stats(ctx: typer.Context, path: PathArg = Path(".")) -> None:
    """How much history is mined, and which production files have the most experiences."""
    streams = consoles(ctx)
    with reported_errors(streams.err), ExperienceBank(path) as bank:
        numbers = bank.stats()
        streams.out.print(
            f"commits mined: {numbers.commits_mined}\n"
            f"experiences: {numbers.experiences}\n"
            f"newest commit mined: {numbers.newest_commit or '-'}",
            highlight=False,
        )
        if numbers.top_production_files:
            table = Table("production file", "experiences")
            for file, count in numbers.top_production_files:
                table.add_row(file, str(count))
            streams.out.print(table)
        rules = learn_rules(bank.experiences())
        if rules:
            streams.out.print("rules learnt from the history (shown to the test editor):")
            for rule in rules[:STATS_RULES]:
                streams.out.print(f"  {rule}", highlight=False)


STATS_RULES = 10


def _shortened(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
