"""Call sites and argument binding: does a caller's call still bind under a new signature?

A signature change (MMS, MCC) reaches every caller through the graph, but most callers need
no edit: an optional parameter was appended, an annotation changed, a parameter was renamed
and the caller passes it positionally.  A call needs an edit only when its arguments would
bind differently (or not at all) under the new parameter list than under the old one.
Whatever can't be told (argument splats, unknown decorators, unparsable text) needs a look.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tree_sitter import Node, Tree

from codeplan.graph.model import Block, BlockKind, content_hash
from codeplan.graph.python import parse_python
from codeplan.graph.python.exprs import text
from codeplan.impact.classify import Parameter, parse_signature

# an argument of a call: ("pos", i), ("kw", name) or ("self", 0) for the implicit self/cls
Slot = tuple[str, int | str]
Binding = dict[str, tuple[Slot, ...]]  # parameter -> its arguments; () takes the default
SELF: Slot = ("self", 0)

# decorators that leave the way a call binds alone; any other one may wrap the function in
# something with another signature, so its callers are all kept
_TRANSPARENT = frozenset(
    {"staticmethod", "classmethod", "abstractmethod", "cache", "lru_cache", "override",
     "final", "contextmanager", "asynccontextmanager"}
)  # fmt: skip
_POSITIONAL = ("positional-only", "positional")
_NAMED = ("positional", "keyword-only")  # what a caller can pass by name


@dataclass(frozen=True)
class CallSite:
    line: int  # 1-based, in the file
    positional: int
    keywords: tuple[str, ...]
    star_args: bool
    star_kwargs: bool
    receiver: str = "plain"  # plain | self | cls | super | class | instance | constructor


@dataclass(frozen=True)
class SignatureChange:
    """A function whose parameters changed, as its callers see it."""

    name: str
    class_name: str | None  # a constructor's class: `Class(...)` calls it too
    old_params: tuple[Parameter, ...]
    new_params: tuple[Parameter, ...]
    old_kind: str  # function | method | staticmethod | classmethod
    new_kind: str


@dataclass(frozen=True)
class CallerVerdict:
    keep: bool
    reason: str  # the call that needs the edit, when one was found


def signature_change(old: Block, new: Block) -> SignatureChange | None:
    """None when the callers can't be checked (renamed, or wrapped by a decorator)."""
    callables = (BlockKind.FUNCTION, BlockKind.METHOD)
    if old.kind not in callables or new.kind not in callables or old.name != new.name:
        return None
    old_kind, new_kind = _callable_kind(old), _callable_kind(new)
    if old_kind is None or new_kind is None:
        return None
    constructor = new.kind is BlockKind.METHOD and new.name == "__init__" and "." in new.qualname
    return SignatureChange(
        name=new.name,
        class_name=new.qualname.rsplit(".", 2)[-2] if constructor else None,
        old_params=parse_signature(old.signature).parameters,
        new_params=parse_signature(new.signature).parameters,
        old_kind=old_kind,
        new_kind=new_kind,
    )


def _callable_kind(block: Block) -> str | None:
    names = {d.split("(", 1)[0].rsplit(".", 1)[-1].strip() for d in block.decorators}
    if not names <= _TRANSPARENT:
        return None
    if block.kind is BlockKind.FUNCTION:
        return "function"
    return next((k for k in ("staticmethod", "classmethod") if k in names), "method")


def calls_to(
    source: bytes, caller: Block, name: str, *, class_name: str | None = None
) -> list[CallSite] | None:
    """The calls inside `caller` whose callee is `name` (bare, or as an attribute of anything)
    or, for a constructor, `class_name`.  None when the text can't be analysed: the block's
    bytes are not what the graph saw, or they don't parse."""
    start, end = caller.start_byte, caller.end_byte
    if (
        not 0 <= start <= end <= len(source)
        or content_hash(source[start:end]) != caller.content_hash
    ):
        return None
    found: list[CallSite] = []
    stack = [_tree(source).root_node]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end:
            continue
        if node.is_error or node.is_missing:
            return None
        if node.type == "call" and start <= node.start_byte:
            callee = node.child_by_field_name("function")
            receiver = _receiver(callee, name, class_name) if callee is not None else None
            if receiver is not None:
                found.append(_call_site(node, receiver))
        stack.extend(reversed(node.children))
    return found


@lru_cache(maxsize=16)
def _tree(source: bytes) -> Tree:
    # the callers of one change mostly live in a few files
    return parse_python(source)


def _receiver(callee: Node, name: str, class_name: str | None) -> str | None:
    if callee.type == "identifier":
        called = text(callee)
        if called == name:
            return "plain"
        return "constructor" if class_name and called in (class_name, "cls") else None
    if callee.type != "attribute":
        return None
    attribute, owner = callee.child_by_field_name("attribute"), callee.child_by_field_name("object")
    called = text(attribute) if attribute is not None else ""
    if class_name and called == class_name:
        return "constructor"  # `module.Class(...)`
    if called != name or owner is None:
        return None
    if owner.type == "call":
        function = owner.child_by_field_name("function")
        return "super" if function is not None and text(function) == "super" else "instance"
    last = text(owner).rsplit(".", 1)[-1]
    if owner.type == "identifier" and last in ("self", "cls"):
        return last
    return "class" if last[:1].isupper() else "instance"


def _call_site(call: Node, receiver: str) -> CallSite:
    arguments = call.child_by_field_name("arguments")
    positional, keywords, star_args, star_kwargs = 0, [], False, False
    if arguments is not None and arguments.type == "generator_expression":
        positional = 1  # f(x for x in xs)
    elif arguments is not None:
        for argument in arguments.named_children:
            if argument.type == "keyword_argument":
                keyword = argument.child_by_field_name("name")
                keywords.append(text(keyword) if keyword is not None else "")
            elif argument.type == "list_splat":
                star_args = True
            elif argument.type == "dictionary_splat":
                star_kwargs = True
            elif argument.type != "comment":
                positional += 1
    line = call.start_point[0] + 1
    return CallSite(line, positional, tuple(keywords), star_args, star_kwargs, receiver)


def binding(
    parameters: Sequence[Parameter], call: CallSite, *, implicit_first: bool = False
) -> Binding | None:
    """Bind a call's arguments to parameters as Python does; None when that fails (a
    required argument missing, an unknown keyword, too many positional arguments).
    `implicit_first`: the call goes through an instance, `self`, `cls` or `super()`, so
    the first parameter is bound already."""
    bound = _bind(parameters, call, implicit_first)
    return bound if isinstance(bound, dict) else None


def _bind(parameters: Sequence[Parameter], call: CallSite, implicit_first: bool) -> Binding | str:
    """The binding, or why there is none."""
    arguments: list[Slot] = [SELF] if implicit_first else []
    arguments += [("pos", i) for i in range(call.positional)]
    positional = [p for p in parameters if p.kind in _POSITIONAL]
    star = next((p for p in parameters if p.kind == "var-positional"), None)
    double_star = next((p for p in parameters if p.kind == "var-keyword"), None)
    bound: Binding = {p.name: (slot,) for p, slot in zip(positional, arguments, strict=False)}
    extra = arguments[len(positional) :]
    if extra and star is None:
        return f"it passes {len(arguments)} positional arguments, which is too many"
    if star is not None:
        bound[star.name] = tuple(extra)
    by_keyword = {p.name: p for p in parameters if p.kind in ("positional", "keyword-only")}
    spilled: list[Slot] = []
    for keyword in call.keywords:
        parameter = by_keyword.get(keyword)
        if parameter is None and double_star is None:
            return f"no parameter takes `{keyword}=` any more"
        if parameter is None:
            spilled.append(("kw", keyword))
        elif parameter.name in bound:
            return f"`{keyword}` would be passed twice"
        else:
            bound[parameter.name] = (("kw", keyword),)
    if double_star is not None:
        bound[double_star.name] = tuple(spilled)
    for parameter in parameters:
        if parameter.name in bound:
            continue
        if parameter.default is None and not parameter.kind.startswith("var-"):
            return f"it doesn't pass the required `{parameter.name}`"
        bound[parameter.name] = ()
    return bound


def call_needs_update(
    old_params: Sequence[Parameter],
    new_params: Sequence[Parameter],
    call: CallSite,
    *,
    implicit_old: bool = False,
    implicit_new: bool = False,
) -> bool:
    return why_update(old_params, new_params, call, implicit_old, implicit_new) is not None


def why_update(
    old_params: Sequence[Parameter],
    new_params: Sequence[Parameter],
    call: CallSite,
    implicit_old: bool = False,
    implicit_new: bool = False,
) -> str | None:
    """Why the call needs an edit, or None when it binds as before."""
    where = f"the call at line {call.line}"
    if call.star_args or call.star_kwargs:
        return f"{where} unpacks */** arguments, so its binding can't be checked"
    old, new = _bind(old_params, call, implicit_old), _bind(new_params, call, implicit_new)
    if isinstance(old, str):
        return f"{where} did not bind to the old signature either ({old})"
    if isinstance(new, str):
        return f"{where} no longer binds: {new}"
    renamed = counterparts(old_params, new_params)
    identity = {new_name: old_name for old_name, new_name in renamed.items()}
    before = _targets(old, old_params, {p.name: p.name for p in old_params})
    after = _targets(new, new_params, identity)
    for slot in sorted(before.keys() | after.keys(), key=str):
        if before.get(slot) != after.get(slot):
            target = _name_of(new, slot) or "no parameter"
            return f"{where} passes {_describe(slot)}, which now binds to `{target}`"
    new_by_name = {p.name: p for p in new_params}
    for parameter in old_params:
        counterpart = new_by_name.get(renamed.get(parameter.name, ""))
        if (
            old.get(parameter.name) == ()
            and counterpart is not None
            and not new[counterpart.name]
            and parameter.default != counterpart.default
        ):
            was, now = parameter.default, counterpart.default
            return f"{where} relies on the default of `{parameter.name}`: {was}, now {now}"
    return None


def counterparts(old: Sequence[Parameter], new: Sequence[Parameter]) -> dict[str, str]:
    """Each old parameter's name in the new list: the same name, or, for a rename, the new
    name at the same position (as classify's param-renamed); *args/**kwargs by kind."""
    old_names, new_names = {p.name for p in old}, {p.name for p in new}
    found: dict[str, str] = {}
    for index, parameter in enumerate(old):
        if parameter.kind.startswith("var-"):
            same = next((p for p in new if p.kind == parameter.kind), None)
            if same is not None:
                found[parameter.name] = same.name
        elif parameter.name in new_names:
            found[parameter.name] = parameter.name
        elif (
            index < len(new)
            and new[index].name not in old_names
            and not new[index].kind.startswith("var-")
        ):
            found[parameter.name] = new[index].name
    return found


def _targets(
    bound: Binding, parameters: Sequence[Parameter], identity: dict[str, str]
) -> dict[Slot, str]:
    """Argument -> the parameter it reaches, named as in the old list (new ones get a `+`)."""
    kinds = {p.name: p.kind for p in parameters}
    targets: dict[Slot, str] = {}
    for name, slots in bound.items():
        kind = kinds.get(name, "")
        target = {"var-positional": "*", "var-keyword": "**"}.get(kind) or identity.get(name)
        for slot in slots:
            targets[slot] = target or f"+{name}"
    return targets


def _name_of(bound: Binding, slot: Slot) -> str | None:
    return next((name for name, slots in bound.items() if slot in slots), None)


def _describe(slot: Slot) -> str:
    kind, value = slot
    if kind == "self":
        return "the instance implicitly"
    if kind == "kw":
        return f"`{value}=`"
    return f"positional argument {int(value) + 1}"


def caller_verdict(change: SignatureChange, source: bytes, caller: Block) -> CallerVerdict:
    """Keep the caller unless every call of it to the changed function binds as before
    and it has nothing to pass to a parameter that was added."""
    calls = calls_to(source, caller, change.name, class_name=change.class_name)
    if not calls:
        # unreadable, or the graph links it without a call we recognise (a callback, an
        # alias): it needs a look
        return CallerVerdict(True, "")
    threaded = _names_at_hand(change, source[caller.start_byte : caller.end_byte])
    if threaded:
        # a new optional parameter is threaded through from callers that already hold a
        # value of that name; the others keep working on its default
        return CallerVerdict(True, f"may pass `{threaded[0]}` on to the new parameter")
    for call in calls:
        readings = _interpretations(change, call.receiver)
        # a reading the old signature rejects is not how the call was meant (when none is
        # accepted, each gives its own reason to keep the caller)
        plausible = [r for r in readings if binding(change.old_params, call, implicit_first=r[0])]
        for implicit_old, implicit_new in plausible or readings:
            reason = why_update(
                change.old_params, change.new_params, call, implicit_old, implicit_new
            )
            if reason is not None:
                return CallerVerdict(True, reason)
    return CallerVerdict(False, "")


def _names_at_hand(change: SignatureChange, caller_text: bytes) -> list[str]:
    """The added parameters whose names the caller's own text already uses."""
    before = {parameter.name for parameter in change.old_params}
    added = [p.name for p in change.new_params if p.name not in before and p.kind in _NAMED]
    return [name for name in added if re.search(rb"\b%s\b" % re.escape(name.encode()), caller_text)]


def _interpretations(change: SignatureChange, receiver: str) -> list[tuple[bool, bool]]:
    """Whether self/cls is bound implicitly, old and new: every reading the old signature
    accepts (`Class.method(obj)` may pass self explicitly or call a classmethod)."""
    old, new = _implicit(change.old_kind, receiver), _implicit(change.new_kind, receiver)
    if change.old_kind == change.new_kind:
        return [(b, b) for b in old]
    return list(itertools.product(old, new))


def _implicit(kind: str, receiver: str) -> tuple[bool, ...]:
    if kind in ("function", "staticmethod"):
        return (False,)
    if kind == "classmethod":
        return (True,) if receiver != "plain" else (True, False)
    if receiver in ("self", "super", "instance", "constructor"):
        return (True,)
    return (True, False)  # Class.method(obj, ...) passes self explicitly; or an instance


def file_reader(root: Path) -> Callable[[str], bytes | None]:
    """Read a file's current bytes under `root` (None when it can't be read)."""

    def read(path: str) -> bytes | None:
        try:
            file = root / path
            return file.read_bytes() if file.is_file() else None
        except OSError:
            return None

    return read
