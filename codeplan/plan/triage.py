"""Triage: which of the blocks earlier edits may have impacted need an edit at all.

The may-impact rules are generous on purpose (every caller of a function whose signature
changed *may* need a change), and asked one by one most such blocks come back "no
change", an editor call each.  With an editor that can triage, the planner first shows
the derived obligations of one plan depth together, in groups within a size budget and
with the edits that caused them, and sends edit requests only for the blocks the triage
keeps.  Seeds and the oracle's findings are never triaged: they were asked for.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from codeplan.edit.apply import block_text
from codeplan.edit.model import TriageCandidate, TriageRequest
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block
from codeplan.plan.context import ContextLimits, ReadFile, shown_edits
from codeplan.plan.model import Edit, Obligation, PlanGraph

T = TypeVar("T")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# words on almost every changed line: a long block's excerpt would show it whole
_COMMON = frozenset(
    [
        "self",
        "cls",
        "def",
        "class",
        "return",
        "None",
        "True",
        "False",
        "and",
        "not",
        "for",
        "while",
        "import",
        "from",
        "with",
        "pass",
        "this",
        "const",
        "let",
        "var",
        "function",
        "new",
        "public",
        "private",
        "protected",
        "static",
        "void",
        "final",
    ]
)


@dataclass(frozen=True)
class TriageLimits:
    chars: int = 24_000  # the candidates' shown text in one triage
    blocks: int = 20  # candidates in one triage
    excerpt_above_lines: int = 40  # a longer block is shown around its mentions
    excerpt_context: int = 2  # lines kept around each mention


@dataclass(frozen=True)
class TriageGroup:
    obligations: tuple[Obligation, ...]
    request: TriageRequest


def triage_groups(
    plan: PlanGraph,
    graph: CodeGraph,
    read: ReadFile,
    task: str,
    limits: ContextLimits,
    triage_limits: TriageLimits | None = None,
) -> list[TriageGroup]:
    """The triages due before the next obligation is taken: the untriaged derived
    obligations of the shallowest pending depth, grouped by the edits that caused them.
    Empty when fewer than two are due (a triage of one block saves no call)."""
    triage_limits = triage_limits or TriageLimits()
    schedule = plan.schedule()
    if not schedule:
        return []
    depth = schedule[0].depth
    due = [o for o in schedule if o.depth == depth and not o.triaged and _derived(o)]
    if len(due) < 2:
        return []
    # blocks impacted by the same edit share a triage, so it shows few earlier edits
    due.sort(key=lambda o: min(c.edit_id or 0 for c in o.causes))
    members: list[tuple[Obligation, TriageCandidate]] = []
    for obligation in due:
        block = graph.get(obligation.block_id)
        file = read(block.path) if block is not None else None
        if block is None or file is None:
            continue  # the planner settles it when it is taken
        names = changed_names(_cause_edits(plan, obligation))
        causes = tuple(c.reason for c in obligation.causes)
        members.append((obligation, candidate_of(block, file, names, causes, triage_limits)))
    groups = chunks(members, lambda member: len(member[1].shown), triage_limits)
    return [_group(plan, task, group, limits) for group in groups if len(group) > 1]


def chunks(items: Iterable[T], size: Callable[[T], int], limits: TriageLimits) -> list[list[T]]:
    """`items` in order, cut into triages of at most `limits.blocks` items and
    `limits.chars` characters (one larger item goes alone)."""
    groups: list[list[T]] = [[]]
    spent = 0
    for item in items:
        current = groups[-1]
        if current and (spent + size(item) > limits.chars or len(current) >= limits.blocks):
            groups.append([])
            spent = 0
        groups[-1].append(item)
        spent += size(item)
    return [group for group in groups if group]


def _derived(obligation: Obligation) -> bool:
    return bool(obligation.causes) and all(c.kind == "edit" for c in obligation.causes)


def _cause_edits(plan: PlanGraph, obligation: Obligation) -> list[Edit]:
    ids = {c.edit_id for c in obligation.causes if c.edit_id is not None}
    return [plan.edits[i] for i in sorted(ids) if i in plan.edits]


def candidate_of(
    block: Block, file: bytes, names: Iterable[str], causes: tuple[str, ...], limits: TriageLimits
) -> TriageCandidate:
    """The block as a triage shows it: whole, or when long, around its mentions of the
    changed `names`."""
    source = block_text(file, block)
    excerpt = None
    if source.count("\n") + 1 > limits.excerpt_above_lines:
        excerpt = excerpt_around(source, names, limits.excerpt_context, limits.excerpt_above_lines)
    return TriageCandidate(
        path=block.path,
        qualname=block.qualname,
        kind=block.kind.value,
        language=block.language,
        source=source,
        excerpt=excerpt,
        causes=causes,
    )


def _group(
    plan: PlanGraph,
    task: str,
    members: list[tuple[Obligation, TriageCandidate]],
    limits: ContextLimits,
) -> TriageGroup:
    edits: dict[int, Edit] = {}
    for obligation, _ in members:
        for edit in _cause_edits(plan, obligation):
            edits.setdefault(edit.id, edit)
    shown = shown_edits(plan, list(edits.values())[: limits.earlier_edits], limits)
    request = TriageRequest(task, shown, tuple(candidate for _, candidate in members))
    return TriageGroup(tuple(obligation for obligation, _ in members), request)


def changed_names(edits: Iterable[Edit]) -> set[str]:
    """The identifiers on the lines the edits changed, and the edited blocks' names."""
    names: set[str] = set()
    for edit in edits:
        if edit.qualname:
            names.add(edit.qualname.rsplit(".", 1)[-1])
        before, after = edit.before.splitlines(), edit.after.splitlines()
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            for line in before[i1:i2] + after[j1:j2]:
                names.update(
                    word
                    for word in _IDENTIFIER.findall(line)
                    if len(word) > 2 and word not in _COMMON
                )
    return names


def excerpt_around(text: str, names: Iterable[str], context: int, head_lines: int) -> str:
    """`text`'s first line and the lines around its mentions of `names`, the rest elided;
    its first `head_lines` lines when it mentions none of them."""
    lines = text.splitlines()
    wanted = sorted(names)
    hits: list[int] = []
    if wanted:
        mention = re.compile(r"\b(?:" + "|".join(map(re.escape, wanted)) + r")\b")
        hits = [i for i, line in enumerate(lines) if mention.search(line)]
    kept = {0}
    for hit in hits:
        kept.update(range(max(0, hit - context), min(len(lines), hit + context + 1)))
    if not hits:
        kept.update(range(min(len(lines), head_lines)))
    shown: list[str] = []
    previous = -1
    for index in sorted(kept):
        if index > previous + 1:
            shown.append(_indentation(lines[index]) + "...")
        shown.append(lines[index])
        previous = index
    if previous < len(lines) - 1:
        shown.append(_indentation(lines[-1]) + "...")
    return "\n".join(shown)


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
