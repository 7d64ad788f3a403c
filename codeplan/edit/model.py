"""The editor boundary: what an editor is asked and what it may answer.

An editor is any callable `EditRequest -> str | None`: the block's new text, or None for
"no change".  The LLM editor, a replay of recorded answers, a codemod or a human reviewer
all fit; the planner never knows which one it talks to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from codeplan.graph.model import Block


@dataclass(frozen=True)
class EarlierEdit:
    """Temporal context: an edit made earlier on a plan path that led to this request."""

    path: str
    qualname: str
    before: str
    after: str
    cause: str  # why that block was edited ("the task", "`f` calls `g`, whose ...")


@dataclass(frozen=True)
class RelatedCode:
    """Spatial context: a block related to the one being edited, as much as fits."""

    path: str
    qualname: str
    relation: str  # how it relates to the edited block: "calls", "called by", "base class"...
    text: str  # its signature, or its whole text when small


@dataclass(frozen=True)
class EditContext:
    task: str
    causes: tuple[str, ...] = ()  # why this block may need an edit, one sentence each
    earlier_edits: tuple[EarlierEdit, ...] = ()
    related: tuple[RelatedCode, ...] = ()
    # the enclosing class with the block in place and the other members' bodies folded
    sketch: str | None = None
    # why earlier answers to this same request were rejected (malformed, changed too much)
    feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class EditRequest:
    path: str  # relative to the repository root, "/"-separated
    qualname: str  # dotted inside its module: "Class.method", "outer.inner"; "" for a module
    kind: str  # a BlockKind value: "function", "method", "class", "field", "import"...
    language: str
    source: str  # the block's exact text, from the start of its first line
    instruction: str
    context: EditContext = field(default_factory=lambda: EditContext(task=""))

    @property
    def block_id(self) -> str:
        return block_id_of(self.path, self.qualname)

    @classmethod
    def of_block(
        cls, block: Block, source: str, instruction: str, context: EditContext
    ) -> EditRequest:
        return cls(
            path=block.path,
            qualname=block.qualname,
            kind=block.kind.value,
            language=block.language,
            source=source,
            instruction=instruction,
            context=context,
        )


class Editor(Protocol):
    def __call__(self, request: EditRequest) -> str | None: ...


@dataclass(frozen=True)
class TriageCandidate:
    """A block that earlier edits may have impacted, as a triage shows it."""

    path: str
    qualname: str
    kind: str
    language: str
    source: str  # the block's exact current text
    # a long block is shown as the lines around its mentions of what the edits changed
    excerpt: str | None
    causes: tuple[str, ...]  # why it may need a change, one sentence each

    @property
    def block_id(self) -> str:
        return block_id_of(self.path, self.qualname)

    @property
    def shown(self) -> str:
        return self.excerpt if self.excerpt is not None else self.source


@dataclass(frozen=True)
class TriageRequest:
    """Several blocks the same earlier edits may have impacted, asked about at once: which
    of them need an edit at all?  One call instead of an edit request per block."""

    task: str
    earlier_edits: tuple[EarlierEdit, ...]
    candidates: tuple[TriageCandidate, ...]


@runtime_checkable
class TriagingEditor(Protocol):
    """An editor that can also sort many blocks at once (the LLM editor can).  The planner
    asks it before sending the blocks of one plan depth one by one; a block it leaves out
    is closed as "no change".  It returns the ids of the blocks that need an edit, and
    should return them all when unsure: a block left out is never asked about again."""

    def __call__(self, request: EditRequest) -> str | None: ...

    def triage(self, request: TriageRequest) -> frozenset[str]: ...


def block_id_of(path: str, qualname: str) -> str:
    return f"{path}::{qualname}" if qualname else path


@dataclass(frozen=True)
class Usage:
    """What an editor has consumed so far (for budgets and reports)."""

    calls: int = 0  # requests answered, cache hits included
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.calls + other.calls,
            self.cached_calls + other.cached_calls,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
        )


@runtime_checkable
class MeteredEditor(Protocol):
    """An editor that accounts for what it spends (the LLM editor does)."""

    def __call__(self, request: EditRequest) -> str | None: ...

    @property
    def usage(self) -> Usage: ...
