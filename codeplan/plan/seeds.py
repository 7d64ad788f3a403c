"""Where a plan starts: named blocks, every user of a module or symbol, or edits the user
has already made (`propagate`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from codeplan.edit.apply import block_text
from codeplan.errors import PlanError
from codeplan.graph.builder import GraphBuilder
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind, Relation
from codeplan.impact.classify import ChangeLabel
from codeplan.impact.rules import Follow
from codeplan.plan.model import Cause, Edit, ObligationStatus, PlanGraph
from codeplan.plan.propagation import FileChange, add_impacted, update_graph

_USES = (Relation.CALLS, Relation.INSTANTIATES, Relation.USES, Relation.IMPORTS)


def find_block(graph: CodeGraph, name: str) -> Block:
    """The one block `name` denotes (`PATH::QUALNAME`, `QUALNAME`, `module.QUALNAME`)."""
    found = graph.find(name)
    if not found:
        raise PlanError(f"no block named {name!r} (use PATH::QUALNAME, e.g. pkg/mod.py::func)")
    if len(found) > 1:
        listed = ", ".join(b.id for b in found[:6])
        raise PlanError(f"{name!r} is ambiguous: {listed}; give PATH::QUALNAME")
    return found[0]


def users_of(builder: GraphBuilder, target: str) -> list[Block]:
    """Blocks that use a module or symbol, resolved through imports, not by text.

    An in-repository symbol or module gives its callers, instantiators, users and
    importers; anything else is taken as an external dotted name (`requests`,
    `logging.getLogger`) and gives the blocks whose unresolved references start with it.
    """
    graph = builder.graph
    internal = graph.find(target)
    found: dict[str, Block] = {}
    for block in internal:
        targets = [block]
        if block.kind is BlockKind.MODULE:
            targets += [b for b in graph.blocks_in(block.path) if b.parent == block.id]
        for each in targets:
            for related in graph.related(each.id, _USES, inverse=True):
                if related.block.path != block.path or block.kind is not BlockKind.MODULE:
                    found[related.block.id] = related.block
    if not internal:
        for block in graph.users_of_external(target):
            found[block.id] = block
    if not found:
        raise PlanError(f"nothing in the repository uses {target!r}")
    return sorted(found.values(), key=lambda b: (b.path, b.start_line))


def seed_blocks(
    plan: PlanGraph, blocks: Sequence[Block], instruction: str, reason: str = "the task"
) -> None:
    for block in blocks:
        plan.add(block.id, instruction, Cause("seed", reason), depth=0)


def seed_user_changes(
    builder: GraphBuilder,
    changes: list[FileChange],
    plan: PlanGraph,
    rules: Mapping[ChangeLabel, tuple[Follow, ...]],
    *,
    max_edits_per_block: int,
    screen_calls: bool = False,
) -> int:
    """Record the user's own edits as done seed obligations and add what they impact.

    The graph must reflect the files *before* the user's edits; it ends reflecting them
    after.  Returns the number of user edits recorded."""
    report = update_graph(builder, changes, rules, screen_calls=screen_calls)
    before = {c.path: c.before or b"" for c in changes}
    after = {c.path: c.after or b"" for c in changes}
    edit_for_block: dict[str, int] = {}
    for item in report.changes:
        change = item.change
        block = change.block
        obligation = plan.add(block.id, "(edited by the user)", Cause("seed", "your edit"), depth=0)
        old_text = block_text(before.get(change.old.path, b""), change.old) if change.old else ""
        new_text = block_text(after.get(change.new.path, b""), change.new) if change.new else ""
        edit = Edit(
            id=plan.next_edit_id(),
            obligation_id=obligation.id,
            path=block.path,
            qualname=(change.old or block).qualname,
            before=old_text,
            after=new_text,
            labels=tuple(label.value for label in item.labels),
            impacted=(),
        )
        plan.record_edit(edit)
        plan.settle(obligation.id, ObligationStatus.EDITED)
        for each in (change.old, change.new):
            if each is not None:
                edit_for_block[each.id] = edit.id
    add_impacted(plan, report, edit_for_block, depth=1, max_edits_per_block=max_edits_per_block)
    return len(report.changes)
