"""`codeplan graph`: build a repository's dependency graph, then summarise or export it."""

from __future__ import annotations

import difflib
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn

from codeplan.cli.common import consoles, reported_errors
from codeplan.errors import ConfigError
from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind
from codeplan.graph.render import (
    block_tree,
    graph_to_dot,
    graph_to_json,
    summary_table,
    write_graphml,
)

# Below this many files the build is quick enough that a progress bar would only flicker.
PROGRESS_THRESHOLD = 200
# Width of rich views written to a file (a terminal uses its own width).
FILE_WIDTH = 120


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    DOT = "dot"
    GRAPHML = "graphml"


def graph(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(metavar="PATH", help="The repository, or a folder inside one, to analyse."),
    ] = Path("."),
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="table: build summary; json, dot, graphml: export."),
    ] = OutputFormat.TABLE,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Re-analyse every file; ignore .codeplan/.")
    ] = False,
    block: Annotated[
        str | None,
        typer.Option(
            "--block",
            "-b",
            metavar="QUALNAME|PATH::QUALNAME",
            help="Show one block's relations, both ways, instead of the summary.",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", metavar="GLOB", help="Skip matching files (repeatable)."),
    ] = None,
) -> None:
    """Build the dependency graph of PATH and summarise it, export it, or show one block."""
    streams = consoles(ctx)
    out, err = streams.out, streams.err
    with reported_errors(err):
        root = _repository_root(path)
        _check_format(output_format, output, block)
        options = GraphOptions(use_cache=not no_cache, exclude=tuple(exclude or ()))
        with _progress_bar(err) as progress:
            builder = build_graph(root, options, progress=progress)
        code_graph = builder.graph
        if block is not None:
            _emit_view(block_tree(code_graph, _pick_block(code_graph, block, root)), output, out)
        elif output_format is OutputFormat.TABLE:
            _emit_view(summary_table(builder.report), output, out)
        elif output_format is OutputFormat.JSON:
            _emit_text(json.dumps(graph_to_json(code_graph), indent=2) + "\n", output, out)
        elif output_format is OutputFormat.DOT:
            _emit_text(graph_to_dot(code_graph), output, out)
        else:
            assert output is not None  # _check_format demands a file for GraphML
            _write(output, lambda target: write_graphml(code_graph, target))
        if output is not None:
            err.print(
                f"Wrote {output} ({len(code_graph)} blocks, {code_graph.edge_count()} edges)",
                markup=False,
                highlight=False,
            )


def _repository_root(path: Path) -> Path:
    if not path.exists():
        raise ConfigError(f"{path} does not exist")
    if not path.is_dir():
        raise ConfigError(f"{path} is not a directory")
    # outside git every source file under the folder is analysed; inside git only what
    # git tracks or would track (see codeplan.graph.files)
    return path.resolve()


def _check_format(output_format: OutputFormat, output: Path | None, block: str | None) -> None:
    if block is not None and output_format is not OutputFormat.TABLE:
        raise ConfigError(
            f"--block shows a tree; it cannot be combined with --format {output_format.value}"
        )
    if output_format is OutputFormat.GRAPHML and output is None:
        raise ConfigError("--format graphml writes a file: give one with -o FILE")


def _pick_block(code_graph: CodeGraph, name: str, root: Path) -> Block:
    """The one block `name` designates, or a ConfigError that lists the candidates."""
    if "::" in name:
        # Accept `./pkg/mod.py::f` and absolute paths as well as the id's own `pkg/mod.py::f`.
        path, _, qualname = name.partition("::")
        given = Path(path)
        if given.is_absolute() and given.is_relative_to(root):
            given = given.relative_to(root)
        name = f"{given.as_posix()}::{qualname}" if qualname else given.as_posix()
    matches = code_graph.find(name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = "\n".join(f"  {b.id} ({b.kind.value}, line {b.start_line})" for b in matches)
        raise ConfigError(
            f"--block {name!r} is ambiguous; {len(matches)} blocks match:\n{listed}\n"
            "name one of them as PATH::QUALNAME"
        )
    known = sorted(
        {b.qualname for b in code_graph.blocks() if b.qualname and b.kind is not BlockKind.IMPORT}
    )
    close = difflib.get_close_matches(name.rpartition("::")[2], known, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ConfigError(f"no block named {name!r} in the graph{hint}")


def _emit_text(text: str, output: Path | None, out: Console) -> None:
    if output is None:
        # Straight to the stream: JSON or DOT must not be wrapped, highlighted or re-flowed.
        out.file.write(text)
        out.file.flush()
    else:
        _write(output, lambda target: target.write_text(text, encoding="utf-8"))


def _emit_view(view: RenderableType, output: Path | None, out: Console) -> None:
    if output is None:
        out.print(view)
        return
    recorder = Console(file=io.StringIO(), record=True, width=FILE_WIDTH, color_system=None)
    recorder.print(view)
    text = recorder.export_text()
    _write(output, lambda target: target.write_text(text, encoding="utf-8"))


def _write(output: Path, write: Callable[[Path], object]) -> None:
    try:
        write(output)
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror or exc}") from exc


class _ProgressBar:
    """A `progress(done, total)` callback that shows a bar only for large repositories."""

    def __init__(self, console: Console, threshold: int = PROGRESS_THRESHOLD) -> None:
        self._console = console
        self._threshold = threshold
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if total <= self._threshold:
            return
        if self._progress is None or self._task is None:
            self._progress = Progress(
                "Analysing files",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("analyse", total=total)
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@contextmanager
def _progress_bar(console: Console) -> Iterator[_ProgressBar]:
    bar = _ProgressBar(console)
    try:
        yield bar
    finally:
        bar.close()
