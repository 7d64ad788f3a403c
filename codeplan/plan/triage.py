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
from collections.abc import Iterable
from dataclasses import dataclass

from codeplan.edit.apply import block_text
from codeplan.edit.model import TriageCandidate, TriageRequest
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block
from codeplan.plan.context import ContextLimits, ReadFile, shown_edits
from codeplan.plan.model import Edit, Obligation, PlanGraph

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
    groups: list[list[tuple[Obligation, TriageCandidate]]] = [[]]
    spent = 0
    for obligation in due:
        block = graph.get(obligation.block_id)
        file = read(block.path) if block is not None else None
        if block is None or file is None:
            continue  # the planner settles it when it is taken
        candidate = _candidate(plan, obligation, block, file, triage_limits)
        size = len(candidate.shown)
        current = groups[-1]
        if current and (spent + size > triage_limits.chars or len(current) >= triage_limits.blocks):
            groups.append([])
            spent = 0
        groups[-1].append((obligation, candidate))
        spent += size
    return [_group(plan, task, members, limits) for members in groups if len(members) > 1]


def _derived(obligation: Obligation) -> bool:
    return bool(obligation.causes) and all(c.kind == "edit" for c in obligation.causes)


def _cause_edits(plan: PlanGraph, obligation: Obligation) -> list[Edit]:
    ids = {c.edit_id for c in obligation.causes if c.edit_id is not None}
    return [plan.edits[i] for i in sorted(ids) if i in plan.edits]


def _candidate(
    plan: PlanGraph, obligation: Obligation, block: Block, file: bytes, limits: TriageLimits
) -> TriageCandidate:
    source = block_text(file, block)
    excerpt = None
    if source.count("\n") + 1 > limits.excerpt_above_lines:
        names = changed_names(_cause_edits(plan, obligation))
        excerpt = excerpt_around(source, names, limits.excerpt_context, limits.excerpt_above_lines)
    return TriageCandidate(
        path=block.path,
        qualname=block.qualname,
        kind=block.kind.value,
        language=block.language,
        source=source,
        excerpt=excerpt,
        causes=tuple(c.reason for c in obligation.causes),
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
