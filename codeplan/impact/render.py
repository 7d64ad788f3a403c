"""The impact report as JSON and as a rich tree (no printing here)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from rich.tree import Tree

from codeplan.graph.model import Block
from codeplan.impact.analysis import ImpactReport


def impact_to_json(report: ImpactReport) -> dict[str, Any]:
    return {
        "changes": [
            {
                "path": item.change.block.path,
                "qualname": item.change.block.qualname,
                "kind": item.change.block.kind.value,
                "change": item.change.kind.value,
                "labels": [label.value for label in item.labels],
                **({"escape": item.escape.reason} if item.escape is not None else {}),
            }
            for item in report.changes
        ],
        "impacted": [
            {
                "path": impacted.block.path,
                "qualname": impacted.block.qualname,
                "kind": impacted.block.kind.value,
                "start_line": impacted.block.start_line,
                "end_line": impacted.block.end_line,
                "relation": impacted.relation,
                "is_test": impacted.is_test,
                "priority": impacted.priority,
                "cause": {
                    "path": impacted.cause.path,
                    "qualname": impacted.cause.qualname,
                    "label": impacted.label.value,
                },
                "reason": impacted.reason,
            }
            for impacted in report.impacted
        ],
    }


def impact_tree(report: ImpactReport) -> Tree:
    """Changed blocks, each with the blocks it may impact and why."""
    tree = Tree(
        Text(f"{len(report.changes)} changed blocks, {len(report.impacted)} may be impacted")
    )
    for item in report.changes:
        labels = ", ".join(label.value for label in item.labels)
        node = tree.add(Text(f"{_where(item.change.block)} [{item.change.kind.value}: {labels}]"))
        if item.escape is not None:
            node.add(Text(f"escape analysis: {item.escape.reason}", style="dim"))
        caused = [i for i in report.impacted if i.cause.id == item.change.block.id]
        for impacted in caused:
            test = " (test)" if impacted.is_test else ""
            node.add(
                Text(f"{impacted.relation} → {_where(impacted.block)}{test}: {impacted.reason}")
            )
    return tree


def _where(block: Block) -> str:
    return f"{block.path}:{block.start_line} {block.qualname or block.module} ({block.kind.value})"
