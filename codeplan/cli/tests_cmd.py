"""`codeplan tests impacted`: the tests a change reaches, why, and (with --run) whether
they now fail, pass on altered behaviour, or are unaffected."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from codeplan.cli.common import BaseOpt, Consoles, HeadOpt, RepoPathArg, consoles, reported_errors
from codeplan.cli.run_options import (
    ApplyOpt,
    EditorOpt,
    FormatOpt,
    ModelOpt,
    OutputFormat,
    RunFlags,
)
from codeplan.cli.sandbox_cmd import BackendOpt, open_sandbox_for_cli
from codeplan.deliver.gitops import revision_tree
from codeplan.edit.model import TriagingEditor
from codeplan.errors import ConfigError
from codeplan.evolve.changes import production_changes
from codeplan.evolve.evolve import evolve_tests
from codeplan.evolve.identify import DEFAULT_DEPTH, UNNAMED_HELPER_SCORE, identify, run_impacted
from codeplan.evolve.judge import judge_passing_tests
from codeplan.evolve.model import ImpactedTest, TestStatus
from codeplan.evolve.sweep import sweep_suite

app = typer.Typer(help="The tests a change affects.", no_args_is_help=True)

_STYLES = {
    TestStatus.BROKEN: "bold red",
    TestStatus.STALE: "yellow",
    TestStatus.UNAFFECTED: "green",
    TestStatus.UNKNOWN: "",
}


JudgeOpt = Annotated[
    bool,
    typer.Option(
        "--judge",
        help="Ask the editor which passing tests check behaviour the change altered (stale)"
        " and which do not (unaffected).",
    ),
]


@app.command()
def impacted(
    ctx: typer.Context,
    path: RepoPathArg = Path("."),
    base: BaseOpt = "HEAD",
    head: HeadOpt = None,
    run: Annotated[
        bool, typer.Option("--run", help="Run the tests found in the sandbox, for verdicts.")
    ] = False,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep/--no-sweep",
            help="With --run: run the whole suite, so that tests the change breaks are found"
            " even where no static link reaches them (failures are checked against BASE).",
        ),
    ] = True,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="With --run: run the passing tests that run the changed code on BASE too, and"
            " call stale those to which the changed files answer otherwise (slower).",
        ),
    ] = False,
    backend: BackendOpt = None,
    max_depth: Annotated[
        int, typer.Option("--max-depth", min=1, help="Steps through helpers and fixtures.")
    ] = DEFAULT_DEPTH,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Skip the evidence of past co-changes.")
    ] = False,
    min_score: Annotated[
        float,
        typer.Option(
            "--min-score",
            min=0.0,
            help="Leave out tests whose static evidence scores lower: 1.0 calls a changed"
            " block, 0.5-0.8 reaches one through helpers and names it, 0.45 changed with it"
            " before, 0.4 reaches one without naming it, 0.3 naming convention only.",
        ),
    ] = 0.0,
    judge: JudgeOpt = False,
    editor: EditorOpt = None,
    model: ModelOpt = None,
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List the tests the production changes from BASE to HEAD reach, best first."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        if judge and not run:
            raise ConfigError("--judge judges the tests a run found passing: add --run")
        if compare and not (run and sweep):
            raise ConfigError("--compare compares the runs of the whole suite: add --run")
        judging = _judging_editor(path, editor, model) if judge else None
        with streams.err.status("finding the impacted tests"):
            found = identify(
                path,
                base,
                head,
                max_depth=max_depth,
                history=not no_history,
                min_score=min_score,
            )
        tests = found.tests
        if run and (tests or sweep):
            sandbox = open_sandbox_for_cli(streams, path, backend)
            with ExitStack() as trees:
                tree = path.resolve()
                if head is not None:
                    tree = trees.enter_context(revision_tree(path, head))
                if sweep:
                    base_tree = trees.enter_context(revision_tree(path, base))
                    with streams.err.status("running the whole suite"):
                        tests = sweep_suite(found, sandbox, tree, base_tree, compare=compare)
                else:
                    with streams.err.status(f"running {len(tests)} tests"):
                        tests = run_impacted(tests, sandbox, tree)
                if judging is not None and found.graph is not None:
                    changes = production_changes(path, base, head)
                    with streams.err.status("asking the editor which passing tests are stale"):
                        tests = judge_passing_tests(
                            tests, changes, found.graph, _reader(tree), judging
                        )
        if output_format is OutputFormat.JSON:
            streams.out.file.write(json.dumps([to_json(t) for t in tests], indent=2) + "\n")
        else:
            _print(streams, tests)
        if any(t.status is TestStatus.BROKEN for t in tests):
            raise typer.Exit(1)


def _judging_editor(path: Path, editor: str | None, model: str | None) -> TriagingEditor:
    chosen = RunFlags(editor=editor, model=model).plain_editor(path.resolve())
    if not isinstance(chosen, TriagingEditor):
        raise ConfigError(
            "--judge needs an editor that can sort many blocks at once (a `triage` method);"
            " the LLM editor can"
        )
    return chosen


def _reader(tree: Path) -> Callable[[str], bytes | None]:
    def read(path: str) -> bytes | None:
        file = tree / path
        return file.read_bytes() if file.is_file() else None

    return read


def to_json(test: ImpactedTest) -> dict[str, Any]:
    return {
        "path": test.path,
        "qualname": test.qualname,
        "status": test.status.value,
        "reasons": [{"kind": r.kind, "detail": r.detail} for r in test.reasons],
        "score": test.score,
    }


def _print(streams: Consoles, tests: list[ImpactedTest]) -> None:
    if not tests:
        streams.out.print("no test reaches the changed production code")
        return
    # groups that can be most of a suite (a framework's core, a library's entry point):
    # listed in JSON, counted here once they outgrow a screen
    folds = [(what, [t for t in tests if belongs(t)]) for belongs, what in _FOLDS]
    folds = [(what, group) for what, group in folds if len(group) > FOLD_AT]
    folded = {id(t) for _, group in folds for t in group}
    table = Table("test", "status", "score", "why")
    for test in tests:
        if id(test) in folded:
            continue
        why = "\n".join(f"{r.kind}: {r.detail}" for r in test.reasons)
        table.add_row(
            Text(test.node_id),
            Text(test.status.value, style=_STYLES[test.status]),
            f"{test.score:.2f}",
            Text(why),
        )
    streams.out.print(table)
    for what, group in folds:
        streams.out.print(f"and {len(group)} more tests {what} (--format json lists them)")


FOLD_AT = 10


def _only_seen_running(test: ImpactedTest) -> bool:
    return test.status is TestStatus.UNAFFECTED and {r.kind for r in test.reasons} <= {
        "executes",
        "run",
    }


def _reaches_without_naming(test: ImpactedTest) -> bool:
    """Not run, and linked only by a helper path the test never names (ranked last)."""
    return (
        test.status is TestStatus.UNKNOWN
        and test.score <= UNNAMED_HELPER_SCORE
        and {r.kind for r in test.reasons} == {"helper"}
    )


_FOLDS = (
    (_only_seen_running, "no static link reaches run the changed code and pass"),
    (_reaches_without_naming, "reach the changed code through a helper but never name it"),
)


@app.command()
def evolve(
    ctx: typer.Context,
    path: RepoPathArg = Path("."),
    base: BaseOpt = "HEAD",
    apply: ApplyOpt = False,
    backend: BackendOpt = None,
    editor: EditorOpt = None,
    model: ModelOpt = None,
    attempts: Annotated[
        int, typer.Option("--attempts", min=1, max=10, help="Answers asked for per test.")
    ] = 3,
    judge: JudgeOpt = False,
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Update the tests that your production changes (BASE to the working tree) made
    obsolete, with examples from the repository's history; each update must pass in the
    sandbox and keep every assertion.  The work is on a branch; --apply brings it in."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        sandbox = open_sandbox_for_cli(streams, root, backend)
        chosen = (
            _judging_editor(root, editor, model)
            if judge
            else RunFlags(editor=editor, model=model).plain_editor(root)
        )
        with streams.err.status("finding and updating the obsolete tests"):
            result = evolve_tests(
                root, sandbox, chosen, base=base, attempts=attempts, apply=apply, judge=judge
            )
        if output_format is OutputFormat.JSON:
            streams.out.file.write(json.dumps(result.to_json(), indent=2) + "\n")
        else:
            streams.out.print(result)
        failed = [o for o in result.outcomes if not o.settled]
        raise typer.Exit(1 if failed else 0)
