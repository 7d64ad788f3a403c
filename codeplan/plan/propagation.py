"""From changed files to new obligations: diff the blocks, classify, apply the may-impact
rules, and add an obligation (with its cause) for every block that may need an edit.

Used for the planner's own edits and for the user's edits that `propagate` starts from.
The graph is updated in place; the "graph before" is a neighbourhood copy taken first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from codeplan.graph.builder import GraphBuilder
from codeplan.graph.model import Block
from codeplan.impact.analysis import ImpactReport, analyze_impact
from codeplan.impact.callsites import file_reader
from codeplan.impact.classify import ChangeLabel
from codeplan.impact.diff import diff_blocks
from codeplan.impact.rules import Follow
from codeplan.plan.model import Cause, PlanGraph

DERIVED_INSTRUCTION = (
    "Update this block so that it stays consistent with the earlier edits listed as its "
    "causes, in the spirit of the task. If it needs no change, answer NO CHANGE."
)


@dataclass(frozen=True)
class FileChange:
    path: str
    before: bytes | None  # None: the file is new
    after: bytes | None  # None: the file is deleted


def update_graph(
    builder: GraphBuilder,
    changes: list[FileChange],
    rules: Mapping[ChangeLabel, tuple[Follow, ...]],
    *,
    screen_calls: bool = False,
) -> ImpactReport:
    """Bring the graph from the `before` to the `after` contents and analyse the impact.

    The graph must currently reflect the `before` contents.  `screen_calls` drops the
    callers whose calls still bind the same way after a signature change (opt-in: on real
    histories developers edit most of those callers anyway, see the README)."""
    paths = [c.path for c in changes]
    old_view = builder.graph.neighbourhood(paths)
    old_blocks = [b for p in paths for b in builder.current_blocks(p)]
    for change in changes:
        builder.update_file(
            change.path, change.after, keep_stale=True, deleted=change.after is None
        )
    new_blocks = [b for p in paths for b in builder.current_blocks(p)]
    old_sources = {c.path: c.before for c in changes if c.before is not None}
    new_sources = {c.path: c.after for c in changes if c.after is not None}
    block_changes = diff_blocks(old_blocks, new_blocks, old_sources, new_sources)
    return analyze_impact(
        old_view,
        builder.graph,
        block_changes,
        old_sources,
        new_sources,
        rules,
        # the graph reflects the files on disk, so callers in other files are read there
        read_source=file_reader(builder.root) if screen_calls else None,
    )


def add_impacted(
    plan: PlanGraph,
    report: ImpactReport,
    edit_for_block: Mapping[str, int],
    *,
    depth: int,
    max_edits_per_block: int,
) -> list[str]:
    """Add an obligation for each impacted block; returns their ids.  `edit_for_block`
    maps a changed block's id to the edit that changed it (the cause)."""
    added: list[str] = []
    for item in report.impacted:
        edit_id = edit_for_block.get(item.cause.id)
        cause = Cause(
            kind="edit",
            reason=_sentence(item.block, item.cause, item.relation, item.reason),
            edit_id=edit_id,
            relation=item.relation,
        )
        obligation = plan.add(
            item.block.id, DERIVED_INSTRUCTION, cause, depth=depth, priority=item.priority
        )
        if plan.edits_of_block(item.block.id) >= max_edits_per_block:
            plan.settle(
                obligation.id,
                obligation.status.SKIPPED,
                f"re-edit bound reached ({max_edits_per_block} edits of this block)",
            )
            continue
        added.append(item.block.id)
    return added


def labels_of(report: ImpactReport) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for change in report.changes:
        for label in change.labels:
            seen.setdefault(label.value, None)
    return tuple(seen)


def _sentence(block: Block, cause: Block, relation: str, reason: str) -> str:
    """E.g. "it calls `f` (pkg/mod.py), whose signature changed [params-reordered]"."""
    phrase = _PHRASES.get(relation, f"is related ({relation}) to")
    what = reason.split(": ", 1)[1] if ": " in reason else reason
    head, _, rest = what.partition(" ")
    if head in ("deleted", "renamed"):
        what = f"which was {what}"
    elif rest.startswith("added"):  # "method added [...]"
        what = f"which has a new {head}{rest[len('added') :]}"
    else:
        what = f"whose {what}"
    return f"it {phrase} `{cause.qualname or cause.path}` ({cause.path}), {what}"


# how the impacted block relates to the changed one, by the relation followed from it
_PHRASES = {
    "CalledBy": "calls",
    "ImportedBy": "imports",
    "InstantiatedBy": "instantiates",
    "UsedBy": "uses",
    "OverriddenBy": "overrides",
    "Overrides": "is overridden by",
    "BaseClassOf": "derives from",
    "DerivedClassOf": "is a base class of",
    "ConstructedBy": "constructs",
    "Constructs": "is the class constructed by",
    "ParentOf": "is inside",
    "ChildOf": "contains",
}
