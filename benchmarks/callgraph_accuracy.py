"""Call-graph accuracy of the Python analyzer, measured on hand-labelled projects.

Every folder under `benchmarks/cases/callgraph/` is a small multi-file Python project with
an `expected.json` listing *every* `Calls` and `Instantiates` edge the project has, in the
graph's id convention (`path::qualname`; the module block's id is the bare path).  For each
case the script builds the graph from scratch (`build_graph(case_dir,
options=GraphOptions(use_cache=False))`), keeps the reported edges of those two relations,
and counts true positives (reported and expected), false positives (reported, not
expected) and false negatives (expected, not reported).  Precision and recall are
micro-averaged: counts are summed over all cases before dividing.  A case whose analysis
raises counts all its expected edges as missed.

Targets: precision >= 0.99 (a wrong Calls edge sends the planner to edit code that has
nothing to do with the change) and recall >= 0.97 (a missed one hides a caller that may
break).  `tests/test_callgraph_cases.py` demands an exact match on every case.

Usage (from the repository root, with the dev venv):

    .venv/bin/python benchmarks/callgraph_accuracy.py            # table of all cases
    .venv/bin/python benchmarks/callgraph_accuracy.py -v         # plus missed/spurious edges
    .venv/bin/python benchmarks/callgraph_accuracy.py --case diamond_mro --case star_imports
    .venv/bin/python benchmarks/callgraph_accuracy.py --json     # machine-readable report
    .venv/bin/python benchmarks/callgraph_accuracy.py --fail-under-precision 0.99 \\
        --fail-under-recall 0.97                                 # exit 1 below the targets

The exit code is 0 unless a `--fail-under-*` threshold is given and not met (1), or the
command line is invalid (2).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

if __package__:
    from ._callgraph import (
        CASES_DIR,
        CaseResult,
        Totals,
        discover_cases,
        format_edge,
        load_case,
        run_case,
        totals,
    )
else:  # run as a script: benchmarks/ is on sys.path
    from _callgraph import (
        CASES_DIR,
        CaseResult,
        Totals,
        discover_cases,
        format_edge,
        load_case,
        run_case,
        totals,
    )

TARGET_PRECISION = 0.99
TARGET_RECALL = 0.97


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure the Python analyzer's Calls/Instantiates edges against "
        "hand-labelled cases (targets: precision >= 0.99, recall >= 0.97)."
    )
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this case (repeatable); default: all cases",
    )
    parser.add_argument(
        "--cases-dir",
        type=Path,
        default=CASES_DIR,
        help=f"folder holding the case folders (default: {CASES_DIR})",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list missed and spurious edges per case"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report instead")
    parser.add_argument(
        "--fail-under-precision",
        type=float,
        metavar="P",
        help="exit with status 1 if overall precision is below P",
    )
    parser.add_argument(
        "--fail-under-recall",
        type=float,
        metavar="R",
        help="exit with status 1 if overall recall is below R",
    )
    args = parser.parse_args(argv)

    available = {p.name: p for p in discover_cases(args.cases_dir)}
    if not available:
        parser.error(f"no cases (folders with expected.json) under {args.cases_dir}")
    unknown = [name for name in args.case if name not in available]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(available)}")
    args.case_dirs = [available[n] for n in args.case] if args.case else list(available.values())
    return args


# -- output ------------------------------------------------------------------------------


def _edges_json(edges: list[tuple[str, str, str]]) -> list[list[str]]:
    return [list(e) for e in edges]


def report_json(results: list[CaseResult], overall: Totals) -> dict[str, Any]:
    return {
        "cases": [
            {
                "name": r.case.name,
                "description": r.case.description,
                "expected": len(r.case.expected),
                "tp": r.tp,
                "fp": r.fp,
                "fn": r.fn,
                "precision": r.precision,
                "recall": r.recall,
                "exact": r.comparison is not None and r.comparison.ok,
                "missing": _edges_json(r.missing),
                "spurious": _edges_json(r.spurious),
                "error": r.error,
            }
            for r in results
        ],
        "totals": {
            "cases": overall.cases,
            "exact": overall.exact,
            "tp": overall.tp,
            "fp": overall.fp,
            "fn": overall.fn,
            "precision": overall.precision,
            "recall": overall.recall,
            "f1": overall.f1,
        },
        "targets": {"precision": TARGET_PRECISION, "recall": TARGET_RECALL},
    }


def _status(result: CaseResult) -> Text:
    if result.error is not None:
        return Text("error", style="bold red")
    if result.comparison is not None and result.comparison.ok:
        return Text("ok", style="green")
    return Text("mismatch", style="yellow")


def print_report(console: Console, results: list[CaseResult], overall: Totals, verbose: bool):
    table = Table(title="Call-graph accuracy (Calls + Instantiates)")
    table.add_column("case", no_wrap=True)
    for column in ("expected", "tp", "fp", "fn", "precision", "recall"):
        table.add_column(column, justify="right")
    table.add_column("status")
    for r in results:
        table.add_row(
            r.case.name,
            str(len(r.case.expected)),
            str(r.tp),
            str(r.fp),
            str(r.fn),
            f"{r.precision:.3f}",
            f"{r.recall:.3f}",
            _status(r),
        )
    table.add_section()
    table.add_row(
        Text(f"overall ({overall.exact}/{overall.cases} exact)", style="bold"),
        str(overall.tp + overall.fn),
        str(overall.tp),
        str(overall.fp),
        str(overall.fn),
        f"{overall.precision:.3f}",
        f"{overall.recall:.3f}",
        "",
    )
    console.print(table)

    if verbose:
        for r in results:
            if r.error is None and not r.missing and not r.spurious:
                continue
            console.print(Text(r.case.name, style="bold"))
            if r.error is not None:
                console.print(Text(f"  error: {r.error}", style="red"), soft_wrap=True)
            for edge in r.missing:
                line = Text(f"  - missed   {format_edge(edge)}", style="red")
                console.print(line, soft_wrap=True)
            for edge in r.spurious:
                line = Text(f"  + spurious {format_edge(edge)}", style="yellow")
                console.print(line, soft_wrap=True)

    verdict = (
        f"precision {overall.precision:.4f} (target {TARGET_PRECISION}), "
        f"recall {overall.recall:.4f} (target {TARGET_RECALL}), F1 {overall.f1:.4f}"
    )
    met = overall.precision >= TARGET_PRECISION and overall.recall >= TARGET_RECALL
    console.print(Text(verdict, style="bold green" if met else "bold yellow"))
    errors = [r for r in results if r.error is not None]
    if errors:
        console.print(
            Text(f"{len(errors)} case(s) failed to analyze, e.g. {errors[0].error}", style="red")
        )


# -- main --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = [run_case(load_case(path)) for path in args.case_dirs]
    overall = totals(results)

    if args.json:
        print(json.dumps(report_json(results, overall), indent=2))
    else:
        console = Console()
        if not console.is_terminal:  # piped or captured: do not squeeze the table to 80
            console = Console(width=max(console.width, 120))
        print_report(console, results, overall, args.verbose)

    failed = []
    if args.fail_under_precision is not None and overall.precision < args.fail_under_precision:
        failed.append(f"precision {overall.precision:.4f} < {args.fail_under_precision}")
    if args.fail_under_recall is not None and overall.recall < args.fail_under_recall:
        failed.append(f"recall {overall.recall:.4f} < {args.fail_under_recall}")
    if failed:
        print("FAIL: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
