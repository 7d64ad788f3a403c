"""Change may-impact analysis: from classified block changes to the blocks that may need
an edit next, each with the relation followed, its cause and a priority."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind
from codeplan.impact.callsites import (
    SignatureChange,
    caller_verdict,
    counterparts,
    signature_change,
)
from codeplan.impact.classify import ESCAPE_LABELS, ChangeLabel, classify, parse_signature
from codeplan.impact.diff import BlockChange, ChangeKind
from codeplan.impact.erasure import same_at_runtime
from codeplan.impact.escape import EscapeVerdict, body_change_escapes
from codeplan.impact.rules import BOTH, DEFAULT_RULES, NEW, OLD, Follow

_WHAT_CHANGED = {
    ChangeLabel.MMB: "body changed",
    ChangeLabel.MMS: "signature changed",
    ChangeLabel.MF: "field changed",
    ChangeLabel.MC: "class declaration changed",
    ChangeLabel.MCC: "constructor signature changed",
    ChangeLabel.MI: "import changed",
    ChangeLabel.AM: "method added",
    ChangeLabel.AF: "field added",
    ChangeLabel.ACC: "constructor added",
    ChangeLabel.DM: "deleted",
    ChangeLabel.DF: "field deleted",
    ChangeLabel.DC: "class deleted",
    ChangeLabel.DCC: "constructor deleted",
    ChangeLabel.DI: "import deleted",
    ChangeLabel.RENAMED: "renamed",
    ChangeLabel.EXPORTS_CHANGED: "exports (__all__) changed",
}
# a signature change reaches its calls along these; the callers whose calls still bind the
# same way are dropped (when the callers' text can be read)
_SIGNATURE_LABELS = (ChangeLabel.MMS, ChangeLabel.MCC)
_CALL_RELATIONS = frozenset({"CalledBy", "InstantiatedBy"})


@dataclass(frozen=True)
class ClassifiedChange:
    change: BlockChange
    labels: tuple[ChangeLabel, ...]
    escape: EscapeVerdict | None  # for body changes: do callers see it?


@dataclass(frozen=True)
class ImpactedBlock:
    block: Block
    relation: str  # the relation followed from the cause, e.g. "CalledBy"
    cause: Block
    label: ChangeLabel
    is_test: bool
    priority: int  # lower: more likely to need an edit
    reason: str


@dataclass(frozen=True)
class ImpactReport:
    changes: tuple[ClassifiedChange, ...]
    impacted: tuple[ImpactedBlock, ...]


def analyze_impact(
    old_graph: CodeGraph,
    new_graph: CodeGraph,
    changes: Sequence[BlockChange],
    old_sources: Mapping[str, bytes],
    new_sources: Mapping[str, bytes],
    rules: Mapping[ChangeLabel, tuple[Follow, ...]] = DEFAULT_RULES,
    read_source: Callable[[str], bytes | None] | None = None,
) -> ImpactReport:
    """`read_source(path)`: any file's bytes in the new state.  With it, a caller reached
    by a signature change is kept only when one of its calls binds differently now (or
    can't be checked); without it, every caller is kept."""
    classified = [_classify(c, old_sources, new_sources) for c in changes]
    changed_ids = {b.id for c in changes for b in (c.old, c.new) if b is not None}
    read = _memoized(read_source, new_sources) if read_source is not None else None
    found: dict[str, ImpactedBlock] = {}
    for item in classified:
        signature = _checkable(item, old_sources, new_sources) if read is not None else None
        for label in item.labels:
            if label is ChangeLabel.MMB and item.escape is not None and not item.escape.escapes:
                continue
            for follow in rules.get(label, ()):
                for impacted in _follow(item, label, follow, old_graph, new_graph):
                    if impacted.block.id in changed_ids:
                        continue
                    if signature is not None and read is not None and label in _SIGNATURE_LABELS:
                        screened = _screened(impacted, signature, read)
                        if screened is None:
                            continue
                        impacted = screened
                    known = found.get(impacted.block.id)
                    if known is None or impacted.priority < known.priority:
                        found[impacted.block.id] = impacted
    ordered = sorted(found.values(), key=lambda i: (i.priority, i.block.path, i.block.start_line))
    return ImpactReport(tuple(c for c in classified if c.labels), tuple(ordered))


def _classify(
    change: BlockChange, old_sources: Mapping[str, bytes], new_sources: Mapping[str, bytes]
) -> ClassifiedChange:
    labels = classify(change)
    escape = None
    old, new = change.old, change.new
    if ChangeLabel.MMB in labels and old is not None and new is not None:
        escape = body_change_escapes(_text(old, old_sources), _text(new, new_sources))
        labels += tuple(ESCAPE_LABELS[aspect] for aspect in escape.aspects)
    if (
        labels
        and change.kind is ChangeKind.MODIFIED
        and old is not None
        and new is not None
        and new.language == "python"
        and same_at_runtime(_lines(old, old_sources), _lines(new, new_sources))
    ):
        labels += (ChangeLabel.NO_RUNTIME_CHANGE,)
    return ClassifiedChange(change, labels, escape)


def _memoized(
    read_source: Callable[[str], bytes | None], new_sources: Mapping[str, bytes]
) -> Callable[[str], bytes | None]:
    # the changed files' new text is at hand; the callers of one change share a few files
    cache: dict[str, bytes | None] = dict(new_sources)

    def read(path: str) -> bytes | None:
        if path not in cache:
            cache[path] = read_source(path)
        return cache[path]

    return read


def _checkable(
    item: ClassifiedChange, old_sources: Mapping[str, bytes], new_sources: Mapping[str, bytes]
) -> SignatureChange | None:
    """The signature change whose callers can be screened call by call; None when they all
    need a look: a rename, a decorator that may change the signature, a changed return
    annotation (adding one where there was none is fine), or a body change that escapes."""
    change = item.change
    if change.kind is not ChangeKind.MODIFIED or change.old is None or change.new is None:
        return None
    if not any(label in _SIGNATURE_LABELS for label in item.labels):
        return None
    signature = signature_change(change.old, change.new)
    if signature is None:
        return None
    returns_before = parse_signature(change.old.signature).returns
    if ChangeLabel.RETURN_ANNOTATION_CHANGED in item.labels and returns_before is not None:
        return None
    # the body's uses of a renamed parameter are not a change callers can observe
    renamed = {
        old: new
        for old, new in counterparts(signature.old_params, signature.new_params).items()
        if old != new
    }
    old_text = _renamed(_text(change.old, old_sources), renamed)
    if body_change_escapes(old_text, _text(change.new, new_sources)).escapes:
        return None
    return signature


def _renamed(source: str, names: Mapping[str, str]) -> str:
    if not names:
        return source
    # a name, not an attribute (`self.name` stays when the parameter `name` is renamed)
    pattern = r"(?<![.\w])(" + "|".join(re.escape(name) for name in names) + r")\b"
    return re.sub(pattern, lambda match: names[match.group(1)], source)


def _screened(
    impacted: ImpactedBlock, signature: SignatureChange, read: Callable[[str], bytes | None]
) -> ImpactedBlock | None:
    """The caller, with the call that needs the edit in its reason; None when every call
    binds as before."""
    if impacted.relation not in _CALL_RELATIONS:
        return impacted
    source = read(impacted.block.path)
    if source is None:
        return impacted
    verdict = caller_verdict(signature, source, impacted.block)
    if not verdict.keep:
        return None
    if not verdict.reason:
        return impacted
    return replace(impacted, reason=f"{impacted.reason}; {verdict.reason}")


def _text(block: Block, sources: Mapping[str, bytes]) -> str:
    source = sources.get(block.path, b"")
    return source[block.start_byte : block.end_byte].decode("utf-8", "replace")


def _lines(block: Block, sources: Mapping[str, bytes]) -> str:
    """The block from the start of its first line: its decorators' indentation included."""
    source = sources.get(block.path, b"")
    start = source.rfind(b"\n", 0, block.start_byte) + 1
    return source[start : block.end_byte].decode("utf-8", "replace")


def _follow(
    item: ClassifiedChange,
    label: ChangeLabel,
    follow: Follow,
    old_graph: CodeGraph,
    new_graph: CodeGraph,
) -> list[ImpactedBlock]:
    sides = []
    if follow.graph in (OLD, BOTH) and item.change.old is not None:
        sides.append((old_graph, item.change.old))
    if follow.graph in (NEW, BOTH) and item.change.new is not None:
        sides.append((new_graph, item.change.new))
    impacted = []
    for graph, block in sides:
        anchor = _class_of(graph, block) if follow.from_class else block
        if anchor is None:
            continue
        for related in graph.related(anchor.id, (follow.relation,), inverse=follow.inverse):
            current = new_graph.get(related.block.id) or related.block
            impacted.append(
                ImpactedBlock(
                    block=current,
                    relation=follow.name,
                    cause=item.change.block,
                    label=label,
                    is_test=is_test(current, new_graph),
                    priority=follow.priority,
                    reason=_reason(item, label, follow, anchor),
                )
            )
    return impacted


def _class_of(graph: CodeGraph, block: Block) -> Block | None:
    if block.kind is BlockKind.CLASS:
        return block
    parent = graph.get(block.parent) if block.parent else None
    return parent if parent is not None and parent.kind is BlockKind.CLASS else None


def _reason(item: ClassifiedChange, label: ChangeLabel, follow: Follow, anchor: Block) -> str:
    what = _WHAT_CHANGED.get(label, label.value)
    if label is ChangeLabel.MMB and item.escape is not None:
        what = f"body change escapes ({item.escape.reason})"
    details = [lab.value for lab in item.labels if lab not in _WHAT_CHANGED]
    suffix = f" [{', '.join(details)}]" if details else ""
    changed = {b.id for b in (item.change.old, item.change.new) if b is not None}
    via = "" if anchor.id in changed else f" through {anchor.qualname}"
    return f"{follow.name} {item.change.block.qualname}{via}: {what}{suffix}"


def is_test(block: Block, graph: CodeGraph) -> bool:
    """pytest functions, unittest methods and fixtures, in test files."""
    filename = block.path.rsplit("/", 1)[-1]
    in_test_file = (
        filename.startswith("test_")
        or filename.endswith("_test.py")
        or filename == "conftest.py"
        or "/tests/" in f"/{block.path}"
    )
    if not in_test_file or block.kind not in (BlockKind.FUNCTION, BlockKind.METHOD):
        return False
    if any("fixture" in decorator for decorator in block.decorators):
        return True
    if not block.name.startswith("test"):
        return False
    if block.kind is BlockKind.FUNCTION:
        return "." not in block.qualname  # pytest does not collect nested functions
    owner = graph.get(block.parent) if block.parent else None
    return owner is not None and (owner.name.startswith("Test") or "TestCase" in owner.signature)
