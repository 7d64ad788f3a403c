"""Memoised light type inference for Python: what a function returns, what a field holds,
a class's bases and method resolution order, and which class a member comes from.

Results are memoised with the dependency keys they consulted, so a memo hit still records
the dependency; results computed across a recursion cut are not memoised, which keeps the
outcome independent of evaluation order (an incremental update must equal a full
rebuild).  Evaluating an expression is the resolver's (resolve.py): this base class asks
for it through `_eval`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codeplan.graph.analyzer import ResolutionIndex
from codeplan.graph.model import Relation
from codeplan.graph.python.exprs import Expr
from codeplan.graph.python.lookup import FactsLookup

Value = tuple[str, ...]
MemoKey = tuple[str, str]  # (subject: a block id or `id\0name`, what is inferred about it)
_MAX_INFERENCE_DEPTH = 40
_MAX_VALUES = 6


@dataclass
class Site:
    """Where emitted edges come from: the owner block of one reference."""

    owner: str
    line: int
    edges: dict[tuple[str, str, Relation], int] = field(default_factory=dict)

    def emit(self, target: str, relation: Relation, source: str | None = None) -> None:
        key = (source or self.owner, target, relation)
        if key not in self.edges or self.edges[key] > self.line:
            self.edges[key] = self.line


class Inference(FactsLookup):
    def __init__(self, index: ResolutionIndex) -> None:
        super().__init__(index)
        self._memo: dict[MemoKey, tuple[list[Value], frozenset[str]]] = {}
        # made on the first update, from the memo, and kept from then on: the resolvers of
        # a full build (forked workers) never update, and indexing each entry as it was
        # memoised cost them 3% of resolution
        self._memo_index: _MemoIndex | None = None
        self._active: set[MemoKey] = set()
        self._cuts = 0

    def invalidate(self, path: str, keys: frozenset[str]) -> None:
        if self._memo_index is None:
            self._memo_index = _MemoIndex()
            for memo_key, (_, consulted) in self._memo.items():
                self._memo_index.add(memo_key, consulted)
        for memo_key in self._memo_index.pop(path, keys):
            self._memo.pop(memo_key, None)

    def _eval(self, expr: Expr, path: str, scope_id: str, site: Site | None) -> list[Value]:
        raise NotImplementedError  # the resolver's (resolve.py)

    def _infer_all(self, exprs: list[Expr], path: str, scope_id: str) -> list[Value]:
        return dedupe([v for e in exprs for v in self._eval(e, path, scope_id, None)])

    def _memoised(self, key: MemoKey, compute: Any) -> list[Value]:
        hit = self._memo.get(key)
        if hit is not None:
            return self._recalled(hit)
        if key in self._active or len(self._active) >= _MAX_INFERENCE_DEPTH:
            # a cycle, or a chain of inferences too long to be worth following
            self._cuts += 1
            return []
        cuts_before = self._cuts
        self._active.add(key)
        deps = self.index.open_frame()
        try:
            result: list[Value] = compute()
        finally:
            self.index.close_frame()
            self._active.discard(key)
        if self._cuts == cuts_before:
            consulted = frozenset(deps)
            self._memo[key] = (result, consulted)
            if self._memo_index is not None:
                self._memo_index.add(key, consulted)
        return result

    def _recalled(self, hit: tuple[list[Value], frozenset[str]]) -> list[Value]:
        """A memo hit's value.  A hit depends on what computing it consulted (recorded as
        `consult` does, inlined: four fifths of the memo's use are hits).  The hottest
        callers look the memo up themselves, not through `_memoised`, to spare making the
        closure that only a miss runs."""
        frames = self.index.frames
        if frames:
            frames[-1].update(hit[1])
        return hit[0]

    def _returns(self, function_id: str) -> list[Value]:
        def compute() -> list[Value]:
            path, info = self._function_info(function_id)
            if info is None:
                return []
            if info["ret_ann"]:
                outer = self._scope_parent(path, function_id) or path
                return self._infer_all(info["ret_ann"], path, outer)
            return self._infer_all(info["returns"], path, function_id)

        return self._memoised((function_id, "returns"), compute)

    def _field_values(self, field_id: str) -> list[Value]:
        def compute() -> list[Value]:
            path, info = self._entry("fields", field_id)
            values = info["values"] if info is not None else []
            return dedupe([v for sid, e in values for v in self._eval(e, path, sid, None)])

        return self._memoised((field_id, "field"), compute)

    def _mro(self, class_id: str) -> list[str]:
        hit = self._memo.get((class_id, "mro"))
        if hit is not None:
            return [v[1] for v in self._recalled(hit)]

        def compute() -> list[Value]:
            bases = self._direct_bases(class_id)
            linear = _c3_merge([[class_id]] + [self._mro(b) for b in bases] + [bases])
            return [("blk", c) for c in linear]

        return [v[1] for v in self._memoised((class_id, "mro"), compute)]

    def _direct_bases(self, class_id: str) -> list[str]:
        return [v[1] for v in self._base_values(class_id) if v[0] == "blk" and self._is_class(v[1])]

    def _base_values(self, class_id: str) -> list[Value]:
        hit = self._memo.get((class_id, "bases"))
        if hit is not None:
            return self._recalled(hit)

        def compute() -> list[Value]:
            path, info = self._entry("classes", class_id)
            if info is None:
                return []
            return [v for e in info["bases"] for v in self._eval(e, path, info["scope"], None)]

        return self._memoised((class_id, "bases"), compute)

    def _is_enum(self, class_id: str) -> bool:
        external = self._external_base(class_id)
        return external is not None and external.startswith("enum.")

    def _external_base(self, class_id: str) -> str | None:
        for cls in self._mro(class_id):
            for value in self._base_values(cls):
                if value[0] == "ext":
                    return value[1]
        return None

    def _class_member(self, class_id: str, name: str, skip_self: bool) -> str | None:
        # the same attribute of the same class is looked up from every method using it
        key = (f"{class_id}\0{name}\0{'1' if skip_self else '0'}", "member")
        hit = self._memo.get(key)
        if hit is not None:
            found = self._recalled(hit)
            return found[0][1] if found else None

        def compute() -> list[Value]:
            for cls in self._mro(class_id)[1 if skip_self else 0 :]:
                member = self._members(cls).get(name)
                if member is not None:
                    return [("blk", member)]
            return []

        found = self._memoised(key, compute)
        return found[0][1] if found else None


@dataclass
class _MemoIndex:
    """Memo keys by the file their key names and by the dependency keys they consulted,
    so an update forgets exactly what it must without scanning the whole memo."""

    by_path: dict[str, set[MemoKey]] = field(default_factory=dict)
    by_dependency: dict[str, set[MemoKey]] = field(default_factory=dict)

    def add(self, memo_key: MemoKey, consulted: frozenset[str]) -> None:
        self.by_path.setdefault(_path_of(memo_key[0]), set()).add(memo_key)
        for dependency in consulted:
            self.by_dependency.setdefault(dependency, set()).add(memo_key)

    def pop(self, path: str, dependencies: frozenset[str]) -> set[MemoKey]:
        """Forget, and return, the keys about `path` or that consulted `dependencies`."""
        stale = set(self.by_path.pop(path, ()))
        for dependency in dependencies:
            stale |= self.by_dependency.pop(dependency, set())
        return stale


def _path_of(memo_subject: str) -> str:
    """The file a memo key is about: keys start with a block id or `path\0name`."""
    return memo_subject.split("\0", 1)[0].split("::", 1)[0]


def as_inferred(values: list[Value]) -> list[Value]:
    """Values reached through inference: an external one is a type, not a reference."""
    return [("exti", v[1]) if v[0] == "ext" else v for v in values]


def dedupe(values: list[Value]) -> list[Value]:
    """The distinct `values` in order, at most _MAX_VALUES of them.  Every caller passes a
    list it has just built, so a list too short to hold a repeat is returned as is (most
    evaluations yield one value or none)."""
    if len(values) < 2:
        return values
    seen: list[Value] = []
    for value in values:
        if value not in seen:
            seen.append(value)
            if len(seen) >= _MAX_VALUES:
                break
    return seen


def _c3_merge(sequences: list[list[str]]) -> list[str]:
    """C3 linearisation; on an inconsistent hierarchy, fall back to depth-first order."""
    pending = [list(s) for s in sequences if s]
    result: list[str] = []
    while pending:
        for sequence in pending:
            head = sequence[0]
            if not any(head in other[1:] for other in pending):
                break
        else:
            fallback = [c for s in pending for c in s]
            return result + [c for i, c in enumerate(fallback) if c not in fallback[:i]]
        result.append(head)
        pending = [[c for c in s if c != head] for s in pending]
        pending = [s for s in pending if s]
    return result
