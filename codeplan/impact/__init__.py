"""Stage 2 of the pipeline: what changed, and what else may have to change (in progress)."""

from codeplan.impact.analysis import (
    ClassifiedChange,
    ImpactedBlock,
    ImpactReport,
    analyze_impact,
    is_test,
)
from codeplan.impact.classify import ChangeLabel, classify, parse_signature
from codeplan.impact.diff import BlockChange, ChangeKind, diff_blocks
from codeplan.impact.escape import EscapeVerdict, body_change_escapes
from codeplan.impact.rules import DEFAULT_RULES, Follow

__all__ = [
    "DEFAULT_RULES",
    "BlockChange",
    "ChangeKind",
    "ChangeLabel",
    "ClassifiedChange",
    "EscapeVerdict",
    "Follow",
    "ImpactReport",
    "ImpactedBlock",
    "analyze_impact",
    "body_change_escapes",
    "classify",
    "diff_blocks",
    "is_test",
    "parse_signature",
]
