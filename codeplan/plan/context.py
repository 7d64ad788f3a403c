"""What the editor sees for one obligation: the block, its sketch, and its context.

Spatial context is related code from the dependency graph, nearest relations first, cut
to a character budget; temporal context is the earlier edits on the plan paths that led
to this obligation (the CodePlan paper's two kinds of context).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from codeplan.edit.apply import block_text
from codeplan.edit.model import EarlierEdit, EditContext, EditRequest, RelatedCode
from codeplan.edit.sketch import Sketch, make_outline, make_sketch
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind, Relation
from codeplan.plan.model import Edit, Obligation, PlanGraph

ReadFile = Callable[[str], bytes | None]

# The relations worth showing, in the order they matter to an editor of the block: what
# it overrides or is overridden by (signatures must agree), what it calls and
# instantiates, the fields it uses, then who calls it.
_SPATIAL_ORDER: tuple[tuple[Relation, bool, str], ...] = (
    (Relation.OVERRIDES, False, "overrides"),
    (Relation.OVERRIDES, True, "overridden by"),
    (Relation.CALLS, False, "called by this block"),
    (Relation.INSTANTIATES, False, "instantiated by this block"),
    (Relation.USES, False, "field used by this block"),
    (Relation.BASE_CLASS_OF, True, "base class"),
    (Relation.CALLS, True, "calls this block"),
    (Relation.INSTANTIATES, True, "instantiates this block"),
)
_WHOLE_TEXT_MAX_LINES = 12
OUTLINE_NOTE = (
    "The class is too long to show whole, so it is shown as an outline: every member's body "
    "is folded to `...`. Answer the outline edited. Leave a body `...` unless you change that "
    "member's body (then write the member out in full); you may change the class header, "
    "fields, decorators and signatures and add members, but keep every member."
)


@dataclass(frozen=True)
class ContextLimits:
    related_chars: int = 12_000
    earlier_edits: int = 6
    earlier_edit_chars: int = 8_000


def build_request(
    graph: CodeGraph,
    plan: PlanGraph,
    obligation: Obligation,
    block: Block,
    read: ReadFile,
    task: str,
    limits: ContextLimits,
    *,
    outline: bool = False,
) -> tuple[EditRequest, Sketch | None]:
    """The request, and the sketch its answer may be an edit of.  With `outline`, a class
    is shown as its outline instead of its text (it is too long to send whole)."""
    file = read(block.path) or b""
    outlined = make_outline(file, graph, block) if outline else None
    sketch = outlined or make_sketch(file, graph, block)
    exclude = {block.id} | {
        f"{e.path}::{e.qualname}" for e in plan.edits_leading_to(obligation, limits.earlier_edits)
    }
    context = EditContext(
        task=task,
        causes=tuple(cause.reason for cause in obligation.causes),
        earlier_edits=earlier_edits(plan, obligation, limits),
        related=spatial_context(graph, block, read, limits.related_chars, exclude),
        sketch=sketch.text if sketch is not None and outlined is None else None,
    )
    request = EditRequest.of_block(
        block,
        outlined.text if outlined is not None else block_text(file, block),
        obligation.instruction + (f"\n\n{OUTLINE_NOTE}" if outlined else ""),
        context,
    )
    return request, sketch


def earlier_edits(
    plan: PlanGraph, obligation: Obligation, limits: ContextLimits
) -> tuple[EarlierEdit, ...]:
    return shown_edits(plan, plan.edits_leading_to(obligation, limits.earlier_edits), limits)


def shown_edits(
    plan: PlanGraph, edits: Iterable[Edit], limits: ContextLimits
) -> tuple[EarlierEdit, ...]:
    """`edits` as the editor sees them, large ones around their changes, within budget."""
    shown: list[EarlierEdit] = []
    spent = 0
    for edit in edits:
        before, after = edit.before, edit.after
        if len(before) + len(after) > limits.earlier_edit_chars // 2:
            before, after = around_changes(before, after)
        size = len(before) + len(after)
        if shown and spent + size > limits.earlier_edit_chars:
            break
        owner = plan.obligations.get(edit.obligation_id)
        cause = owner.causes[0].reason if owner is not None and owner.causes else ""
        shown.append(EarlierEdit(edit.path, edit.qualname, before, after, cause))
        spent += size
    return tuple(shown)


def around_changes(before: str, after: str, context: int = 3) -> tuple[str, str]:
    """A large edit (a whole class) shown as its changed lines with `context` lines around
    them, the rest elided, on both sides alike."""
    old, new = before.splitlines(), after.splitlines()
    kept_old: list[str] = []
    kept_new: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first_old, first_new = group[0][1], group[0][3]
        if first_old > 0 or first_new > 0:
            if not kept_old and old and new:  # the header says what the block is
                kept_old.append(old[0])
                kept_new.append(new[0])
            kept_old.append("    ...")
            kept_new.append("    ...")
        for _, i1, i2, j1, j2 in group:
            kept_old.extend(old[i1:i2])
            kept_new.extend(new[j1:j2])
    if not kept_old and not kept_new:
        return before, after
    if group[-1][2] < len(old) or group[-1][4] < len(new):
        kept_old.append("    ...")
        kept_new.append("    ...")
    return "\n".join(kept_old), "\n".join(kept_new)


def spatial_context(
    graph: CodeGraph, block: Block, read: ReadFile, budget_chars: int, exclude: Iterable[str]
) -> tuple[RelatedCode, ...]:
    skip = set(exclude)
    anchors = [block]
    owner = graph.get(block.parent) if block.parent else None
    if owner is not None and owner.kind is BlockKind.CLASS:
        anchors.append(owner)  # base classes of a method's class matter too
    found: list[RelatedCode] = []
    spent = 0
    for relation, inverse, label in _SPATIAL_ORDER:
        for anchor in anchors:
            for related in graph.related(anchor.id, (relation,), inverse=inverse):
                other = related.block
                if other.id in skip or other.kind is BlockKind.MODULE:
                    continue
                skip.add(other.id)
                text = _shown_text(other, read)
                if spent + len(text) > budget_chars:
                    continue  # a smaller one further down may still fit
                found.append(RelatedCode(other.path, other.qualname, label, text))
                spent += len(text)
    return tuple(found)


def _shown_text(block: Block, read: ReadFile) -> str:
    """Small blocks in full; larger ones by their signature."""
    if block.end_line - block.start_line + 1 <= _WHOLE_TEXT_MAX_LINES:
        file = read(block.path)
        if file is not None:
            return block_text(file, block)
    return block.signature or block.qualname
