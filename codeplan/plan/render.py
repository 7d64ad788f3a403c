"""Plans and runs as rich trees, diffs and JSON (no printing here)."""

from __future__ import annotations

import difflib
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from rich.tree import Tree

from codeplan.edit.model import Usage
from codeplan.plan.model import Edit, Obligation, ObligationStatus, PlanGraph

_STATUS_STYLE = {
    ObligationStatus.PENDING: "yellow",
    ObligationStatus.EDITED: "green",
    ObligationStatus.NO_CHANGE: "dim",
    ObligationStatus.REJECTED: "red",
    ObligationStatus.SKIPPED: "magenta",
}


def plan_tree(plan: PlanGraph, title: str, estimates: dict[int, int] | None = None) -> Tree:
    """Roots are the seeds (and oracle seeds); under an edited obligation, the
    obligations its edit caused, each with the reason."""
    tree = Tree(Text(title, style="bold"))
    shown: set[int] = set()
    roots = [o for o in plan.obligations.values() if not any(c.edit_id for c in o.causes)]
    for obligation in roots:
        _add(tree, plan, obligation, shown, estimates or {})
    orphans = [o for o in plan.obligations.values() if o.id not in shown]
    for obligation in orphans:  # caused by edits whose obligation was pruned
        _add(tree, plan, obligation, shown, estimates or {})
    return tree


def _add(
    parent: Tree,
    plan: PlanGraph,
    obligation: Obligation,
    shown: set[int],
    estimates: dict[int, int],
) -> None:
    if obligation.id in shown:
        return
    shown.add(obligation.id)
    label = Text()
    label.append(f"[{obligation.status.value}] ", style=_STATUS_STYLE[obligation.status])
    label.append(obligation.block_id)
    if obligation.id in estimates:
        label.append(f"  ~{estimates[obligation.id]:,} tokens", style="dim")
    node = parent.add(label)
    for cause in obligation.causes:
        node.add(Text(f"because {cause.reason}", style="dim"))
    if obligation.note:
        node.add(Text(obligation.note, style="italic"))
    for edit in plan.edits.values():
        if edit.obligation_id != obligation.id:
            continue
        if edit.labels:
            node.add(Text(f"change: {', '.join(edit.labels)}", style="cyan"))
        for child in plan.children_of(edit.id):
            _add(node, plan, child, shown, estimates)


def edit_diff(edit: Edit) -> str:
    lines = difflib.unified_diff(
        edit.before.splitlines(keepends=True),
        edit.after.splitlines(keepends=True),
        fromfile=f"a/{edit.path}",
        tofile=f"b/{edit.path}",
        n=2,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def trajectory(plan: PlanGraph) -> RenderableType:
    """Every edit in order, as a diff with its causes."""
    parts: list[RenderableType] = []
    for edit in plan.edits.values():
        owner = plan.obligations.get(edit.obligation_id)
        causes = "; ".join(c.reason for c in owner.causes) if owner else ""
        parts.append(Text(f"edit {edit.id}: {edit.path}::{edit.qualname}", style="bold"))
        if causes:
            parts.append(Text(f"  because {causes}", style="dim"))
        parts.append(Syntax(edit_diff(edit) or "(no textual change)\n", "diff", theme="ansi_dark"))
    return Group(*parts) if parts else Text("no edits")


def usage_line(usage: Usage) -> str:
    cached = f" ({usage.cached_calls} cached)" if usage.cached_calls else ""
    return (
        f"{usage.calls} editor calls{cached}, {usage.prompt_tokens:,} prompt + "
        f"{usage.completion_tokens:,} completion tokens, ${usage.cost_usd:.4f}"
    )


def plan_to_json(plan: PlanGraph) -> dict[str, Any]:
    data = plan.to_json()
    data["counts"] = plan.counts()
    return data
