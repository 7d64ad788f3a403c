"""The `make demo` walkthrough: CodePlan's dependency graph of the bundled example.

Builds the graph of `examples/inventory` through the library API, prints the build summary
and the relations of `price_with_tax`, the function whose signature later demos change.
No network, no API key: this stage is pure static analysis.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.render import block_tree, summary_table

EXAMPLE = Path(__file__).resolve().parent / "inventory"
FOCUS = "inventory/pricing.py::price_with_tax"


def main() -> None:
    console = Console()
    console.print(Rule("CodePlan stage 1: the dependency graph"))
    builder = build_graph(EXAMPLE, GraphOptions())
    console.print(summary_table(builder.report))
    console.print()
    console.print(f"Relations of [bold]{FOCUS}[/bold], both ways:")
    console.print(block_tree(builder.graph, FOCUS))
    console.print()
    console.print(
        "Next stages (not built yet): given the edit 'add a `currency` parameter to "
        "`price_with_tax`', impact analysis follows CalledBy edges (line_total, stock_report, "
        "...) to the blocks that may need derived edits, the planner orders them into a plan, "
        "and the editor, sandbox and test co-evolution apply and validate it."
    )
    console.print(
        "Try the CLI: [bold]codeplan graph examples/inventory --block price_with_tax[/bold]"
    )


if __name__ == "__main__":
    main()
