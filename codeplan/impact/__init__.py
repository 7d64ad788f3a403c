"""Stage 2 of the pipeline: what changed, and what else may have to change (in progress)."""

from codeplan.impact.classify import ChangeLabel, classify, parse_signature
from codeplan.impact.diff import BlockChange, ChangeKind, diff_blocks

__all__ = [
    "BlockChange",
    "ChangeKind",
    "ChangeLabel",
    "classify",
    "diff_blocks",
    "parse_signature",
]
