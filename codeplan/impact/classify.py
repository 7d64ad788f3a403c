"""Change classification: the CodePlan paper's sixteen labels, refined for Python.

One change may carry several labels: renaming a parameter of `__init__` is `MCC` plus
`param-renamed`.  Signatures are compared parameter by parameter (parsed with
tree-sitter from the block's signature text), so a new optional parameter is told apart
from a new required one, a rename from a removal, a reorder from both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tree_sitter import Node

from codeplan.graph.model import Block, BlockKind
from codeplan.graph.python import parse_python
from codeplan.graph.python.exprs import text
from codeplan.impact.diff import BlockChange, ChangeKind


class ChangeLabel(str, Enum):
    # the paper's labels: Modified / Added / Deleted x Method body / signature, Field,
    # Class, Constructor (CC), Import
    MMB = "MMB"
    MMS = "MMS"
    MF = "MF"
    MC = "MC"
    MCC = "MCC"
    MI = "MI"
    AM = "AM"
    AF = "AF"
    AC = "AC"
    ACC = "ACC"
    AI = "AI"
    DM = "DM"
    DF = "DF"
    DC = "DC"
    DCC = "DCC"
    DI = "DI"
    # Python refinements
    RENAMED = "renamed"
    PARAM_ADDED_REQUIRED = "param-added-required"
    PARAM_ADDED_OPTIONAL = "param-added-optional"
    PARAM_REMOVED = "param-removed"
    PARAM_RENAMED = "param-renamed"
    PARAMS_REORDERED = "params-reordered"
    PARAM_KIND_CHANGED = "param-kind-changed"  # e.g. made keyword-only
    DEFAULT_CHANGED = "default-changed"
    RETURN_ANNOTATION_CHANGED = "return-annotation-changed"
    DECORATOR_ADDED = "decorator-added"
    DECORATOR_REMOVED = "decorator-removed"
    PROPERTY_TO_METHOD = "property-to-method"
    METHOD_TO_PROPERTY = "method-to-property"
    BASES_CHANGED = "bases-changed"
    EXPORTS_CHANGED = "exports-changed"  # __all__
    # what a body change lets callers observe (from escape analysis)
    RETURNS_CHANGED = "returns-changed"
    YIELDS_CHANGED = "yields-changed"
    RAISES_CHANGED = "raises-changed"
    MUTATIONS_CHANGED = "parameter-mutation-changed"
    GLOBALS_CHANGED = "global-state-changed"
    IO_CHANGED = "io-changed"
    MODULE_VARIABLE = "module-variable"
    CLASS_ATTRIBUTE = "class-attribute"
    INSTANCE_ATTRIBUTE = "instance-attribute"
    # Python: only annotations, docstrings, comments or layout changed (impact/erasure.py)
    NO_RUNTIME_CHANGE = "no-runtime-change"


ESCAPE_LABELS = {
    "returns": ChangeLabel.RETURNS_CHANGED,
    "yields": ChangeLabel.YIELDS_CHANGED,
    "raises": ChangeLabel.RAISES_CHANGED,
    "mutations": ChangeLabel.MUTATIONS_CHANGED,
    "globals": ChangeLabel.GLOBALS_CHANGED,
    "io": ChangeLabel.IO_CHANGED,
}


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # positional-only | positional | var-positional | keyword-only | var-keyword
    default: str | None
    annotation: str | None


@dataclass(frozen=True)
class Signature:
    parameters: tuple[Parameter, ...]
    returns: str | None


def classify(change: BlockChange) -> tuple[ChangeLabel, ...]:
    """The labels of one block change (empty for blocks no rule is about)."""
    if change.old is not None and change.new is not None and change.old.kind != change.new.kind:
        # e.g. an attribute became a property method: what read the attribute, and what
        # the new method affects, both matter
        gone = classify(BlockChange(ChangeKind.DELETED, change.old, None))
        came = classify(BlockChange(ChangeKind.ADDED, None, change.new))
        return tuple(dict.fromkeys(gone + came))
    block = change.block
    labels: list[ChangeLabel] = []
    if block.kind in (BlockKind.FUNCTION, BlockKind.METHOD):
        labels += _callable_labels(change)
    elif block.kind is BlockKind.FIELD:
        labels.append(_by_kind(change, ChangeLabel.AF, ChangeLabel.MF, ChangeLabel.DF))
        labels.append(_field_scope(block))
        if block.name == "__all__":
            labels.append(ChangeLabel.EXPORTS_CHANGED)
    elif block.kind is BlockKind.CLASS:
        labels.append(_by_kind(change, ChangeLabel.AC, ChangeLabel.MC, ChangeLabel.DC))
        if change.old is not None and change.new is not None:
            if _bases(change.old.signature) != _bases(change.new.signature):
                labels.append(ChangeLabel.BASES_CHANGED)
            labels += _decorator_labels(change.old, change.new)
    elif block.kind is BlockKind.IMPORT:
        labels.append(_by_kind(change, ChangeLabel.AI, ChangeLabel.MI, ChangeLabel.DI))
    if change.kind is ChangeKind.RENAMED:
        labels.append(ChangeLabel.RENAMED)
    return tuple(dict.fromkeys(labels))


def _field_scope(block: Block) -> ChangeLabel:
    if block.parent == block.path:
        return ChangeLabel.MODULE_VARIABLE
    # an instance attribute's block is its first `self.x = ...` assignment
    if block.signature.startswith(("self.", "cls.")):
        return ChangeLabel.INSTANCE_ATTRIBUTE
    return ChangeLabel.CLASS_ATTRIBUTE


def _by_kind(
    change: BlockChange, added: ChangeLabel, modified: ChangeLabel, deleted: ChangeLabel
) -> ChangeLabel:
    if change.kind is ChangeKind.ADDED:
        return added
    if change.kind is ChangeKind.DELETED:
        return deleted
    return modified


def _callable_labels(change: BlockChange) -> list[ChangeLabel]:
    block = change.block
    constructor = block.kind is BlockKind.METHOD and block.name == "__init__"
    if change.kind is ChangeKind.ADDED:
        return [ChangeLabel.ACC if constructor else ChangeLabel.AM]
    if change.kind is ChangeKind.DELETED:
        return [ChangeLabel.DCC if constructor else ChangeLabel.DM]
    assert change.old is not None and change.new is not None
    old, new = parse_signature(change.old.signature), parse_signature(change.new.signature)
    refinements = _signature_labels(old, new) + _decorator_labels(change.old, change.new)
    if not refinements and change.kind is ChangeKind.MODIFIED:
        return [ChangeLabel.MMB]
    return [ChangeLabel.MCC if constructor else ChangeLabel.MMS, *refinements]


def _signature_labels(old: Signature, new: Signature) -> list[ChangeLabel]:
    labels: list[ChangeLabel] = []
    old_names = [p.name for p in old.parameters]
    new_names = [p.name for p in new.parameters]
    removed = [p for p in old.parameters if p.name not in new_names]
    added = [p for p in new.parameters if p.name not in old_names]
    if (
        removed
        and len(removed) == len(added)
        and all(
            old_names.index(r.name) == new_names.index(a.name)
            for r, a in zip(removed, added, strict=True)
        )
    ):
        labels.append(ChangeLabel.PARAM_RENAMED)
    else:
        if removed:
            labels.append(ChangeLabel.PARAM_REMOVED)
        for parameter in added:
            optional = parameter.default is not None or parameter.kind.startswith("var-")
            labels.append(
                ChangeLabel.PARAM_ADDED_OPTIONAL if optional else ChangeLabel.PARAM_ADDED_REQUIRED
            )
    common = [n for n in old_names if n in new_names]
    if common != [n for n in new_names if n in old_names]:
        labels.append(ChangeLabel.PARAMS_REORDERED)
    old_by_name = {p.name: p for p in old.parameters}
    for parameter in new.parameters:
        before = old_by_name.get(parameter.name)
        if before is None:
            continue
        if before.kind != parameter.kind:
            labels.append(ChangeLabel.PARAM_KIND_CHANGED)
        if before.default != parameter.default:
            labels.append(ChangeLabel.DEFAULT_CHANGED)
    if old.returns != new.returns:
        labels.append(ChangeLabel.RETURN_ANNOTATION_CHANGED)
    return list(dict.fromkeys(labels))


def _decorator_labels(old: Block, new: Block) -> list[ChangeLabel]:
    labels = []
    before, after = set(old.decorators), set(new.decorators)
    if after - before:
        labels.append(ChangeLabel.DECORATOR_ADDED)
    if before - after:
        labels.append(ChangeLabel.DECORATOR_REMOVED)
    if "property" in before and "property" not in after:
        labels.append(ChangeLabel.PROPERTY_TO_METHOD)
    if "property" in after and "property" not in before:
        labels.append(ChangeLabel.METHOD_TO_PROPERTY)
    return labels


def parse_signature(signature: str) -> Signature:
    """Parameters and return annotation of a `def` header (`def f(a, *, b=1) -> int`)."""
    tree = parse_python(f"{signature}:\n    pass\n".encode())
    definition = _first(tree.root_node, "function_definition")
    if definition is None:
        return Signature((), None)
    returns = definition.child_by_field_name("return_type")
    parameters = definition.child_by_field_name("parameters")
    found: list[Parameter] = []
    kind = "positional"
    for node in parameters.named_children if parameters is not None else ():
        if node.type == "positional_separator":
            found = [Parameter(p.name, "positional-only", p.default, p.annotation) for p in found]
        elif node.type == "keyword_separator":
            kind = "keyword-only"
        elif (splat := _splat(node)) is not None:
            name = (_text(splat.named_children[0]) if splat.named_children else None) or "*"
            star = "var-positional" if splat.type == "list_splat_pattern" else "var-keyword"
            found.append(Parameter(name, star, None, _text(node.child_by_field_name("type"))))
            kind = "keyword-only"
        else:
            found.append(_parameter(node, kind))
    return Signature(tuple(found), _text(returns))


def _splat(node: Node) -> Node | None:
    """`*args` / `**kwargs`, also annotated (`*args: int` is a typed parameter)."""
    splats = ("list_splat_pattern", "dictionary_splat_pattern")
    if node.type in splats:
        return node
    if node.type == "typed_parameter" and node.named_children:
        first = node.named_children[0]
        return first if first.type in splats else None
    return None


def _parameter(node: Node, kind: str) -> Parameter:
    if node.type == "identifier":
        return Parameter(_text(node) or "", kind, None, None)
    name = node.child_by_field_name("name") or (
        node.named_children[0] if node.named_children else None
    )
    return Parameter(
        _text(name) or "",
        kind,
        _text(node.child_by_field_name("value")),
        _text(node.child_by_field_name("type")),
    )


def _text(node: Node | None) -> str | None:
    return text(node) if node is not None else None


def _first(node: Node, kind: str) -> Node | None:
    for child in node.named_children:
        if child.type == kind:
            return child
        if child.type == "decorated_definition":
            return _first(child, kind)
    return None


def _bases(signature: str) -> str:
    open_paren = signature.find("(")
    return signature[open_paren:] if open_paren != -1 else ""
