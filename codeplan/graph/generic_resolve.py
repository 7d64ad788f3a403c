"""Name-based resolution of the references `generic_extract` records, into edges.

A name is looked up, in order: through the import that binds it; among the definitions
visible from the referring block in the same file; (Java) among the class's inherited
members, the file's package and its wildcard imports; finally as a unique top-level
definition of that name in the language.  Several equally good candidates make the
reference unresolved rather than guessed: a missing edge costs less than a wrong one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from codeplan.graph.analyzer import ResolutionIndex
from codeplan.graph.generic_extract import Reference
from codeplan.graph.generic_modules import (
    CLASS_KINDS,
    DEFAULT_EXPORT,
    FileView,
    Found,
    ModuleIndex,
    ModuleSystem,
    Scope,
    unique_blocks,
)
from codeplan.graph.model import Block, BlockKind, Edge, Relation, UnresolvedRef
from codeplan.graph.records import FileFacts, FileResolution

_FIELD = frozenset({BlockKind.FIELD})
_METHOD = frozenset({BlockKind.METHOD})
# A member call may reach a method, a module's function, or a field holding a function.
_MEMBER_CALLABLE = frozenset({BlockKind.METHOD, BlockKind.FUNCTION, BlockKind.FIELD})
_MAX_HIERARCHY = 64  # classes visited when walking bases, against pathological input


class Output:
    """Edges (one per source, target and relation) and unresolved references, in order."""

    def __init__(self) -> None:
        self.edges: dict[tuple[str, str, Relation], Edge] = {}
        self.unresolved: dict[UnresolvedRef, None] = {}

    def edge(self, source: str, target: str, relation: Relation, line: int = 0) -> None:
        self.edges.setdefault((source, target, relation), Edge(source, target, relation, line))

    def note(self, ref: Reference, found: Found, context: str) -> None:
        """Record the import a reference went through, or that it went nowhere."""
        if found.via_import is not None and found.via_import != ref.owner:
            self.edge(ref.owner, found.via_import, Relation.IMPORTS, ref.line)
        if not found.targets and found.unresolved_name:
            self.unresolve(UnresolvedRef(ref.owner, found.unresolved_name, ref.line, context))

    def unresolve(self, ref: UnresolvedRef) -> None:
        self.unresolved.setdefault(ref, None)


class GenericResolver:
    """Resolves one language's files; long-lived, with caches `invalidate` keeps honest."""

    def __init__(self, modules: ModuleIndex, index: ResolutionIndex, *, implicit_this: bool):
        self._modules = modules
        self._index = index
        self._implicit_this = implicit_this
        # Without implicit `this`, a bare call can only reach a free function.
        self._bare_callable = (
            _METHOD | {BlockKind.FUNCTION} if implicit_this else frozenset({BlockKind.FUNCTION})
        )

    def resolve(self, facts: FileFacts) -> FileResolution:
        view = self._modules.view(facts)
        out = Output()
        with self._index.tracking() as consulted:
            for block in view.blocks.values():
                if block.parent is not None and block.parent in view.blocks:
                    out.edge(block.parent, block.id, Relation.PARENT_OF)
                if block.id in view.constructors and block.parent is not None:
                    out.edge(block.id, block.parent, Relation.CONSTRUCTS)
            self._import_edges(view, out)
            for ref in view.references:
                self._reference(view, ref, out)
            self._overrides(view, out)
        return FileResolution(
            path=facts.path,
            edges=tuple(out.edges.values()),
            unresolved=tuple(out.unresolved),
            depends_on=frozenset(consulted),
        )

    def invalidate(self, path: str, keys: frozenset[str]) -> None:
        """Forget what was derived from file `path`, and results that consulted `keys`."""
        self._modules.invalidate(path, keys)

    def resolve_name(self, name: str, scope: str) -> list[str]:
        view = self._modules.view_at(scope.split("::", 1)[0])
        receiver, _, last = name.rpartition(".")
        every_kind = frozenset(BlockKind)
        found = (
            self._resolve_member(view, scope, receiver, last, every_kind)
            if receiver
            else self._resolve_bare(view, scope, name, every_kind)
        )
        return [block.id for block in found.targets]

    def _import_edges(self, view: FileView, out: Output) -> None:
        for record in view.imports:
            scope = self._modules.scope(view, record.source)
            wanted: list[tuple[str | None, str]] = [
                (name, f"{record.source}.{name}") for name, _ in record.names
            ]
            if record.default is not None:
                wanted.append((DEFAULT_EXPORT, record.source))
            if record.namespace is not None or not (wanted or record.wildcard):
                wanted.append((None, record.source))  # side-effect imports name the module
            if record.wildcard and scope is None:
                wanted.append((None, record.source))
            for imported, external in wanted:
                if scope is None:
                    targets: list[Block] = []
                elif imported in (None, DEFAULT_EXPORT):
                    targets = self._modules.whole(scope, imported)
                else:
                    targets = self._modules.members_in(scope, imported)
                for target in targets:
                    out.edge(record.block, target.id, Relation.IMPORTS, record.line)
                if not targets:
                    out.unresolve(UnresolvedRef(record.block, external, record.line, "import"))

    def _resolve_bare(
        self, view: FileView, owner: str, name: str, kinds: frozenset[BlockKind]
    ) -> Found:
        bound = self._modules.binding(view, name)
        if bound is not None:
            return bound.only(kinds)
        candidates = [b for b in view.named.get(name, []) if b.kind in kinds]
        for scope_block in view.chain(owner):  # the nearest enclosing scope wins
            visible = [b for b in candidates if b.parent == scope_block.id]
            if visible:
                return Found(tuple(visible))
        if self._implicit_this and kinds & (_METHOD | _FIELD):
            cls = view.enclosing_class(owner)
            inherited = self._hierarchy(cls, name, kinds, include_self=False) if cls else []
            if inherited:
                return Found(tuple(inherited))
        if self._modules.module_system is ModuleSystem.PACKAGE:
            scopes = [Scope(files=tuple(v.path for v in self._modules.package_files(view)))]
            scopes += [
                scope
                for record in view.imports
                if record.wildcard
                and (scope := self._modules.scope(view, record.source)) is not None
            ]
            implicit = [
                b
                for scope in scopes
                for b in self._modules.members_in(scope, name, kinds)
                if b.path != view.path
            ]
            if implicit:
                return self._choose(view, implicit, name)
        everywhere = [
            b
            for other in self._modules.lookup(f"{self._modules.language}:name:{name}")
            if other.path != view.path
            for b in other.top_level(name, kinds)
        ]
        return self._choose(view, everywhere, name)

    def _choose(self, view: FileView, candidates: list[Block], name: str) -> Found:
        """One candidate, else the one in a file this file imports, else unresolved."""
        candidates = unique_blocks(candidates)
        if len(candidates) > 1:
            imported = self._modules.imported_files(view)
            candidates = [c for c in candidates if c.path in imported]
        if len(candidates) == 1:
            return Found((candidates[0],))
        return Found(unresolved_name=name)

    def _resolve_member(
        self,
        view: FileView,
        owner: str,
        receiver: str,
        name: str,
        kinds: frozenset[BlockKind],
        *,
        guess: bool = False,
    ) -> Found:
        """`receiver.name`: through what the receiver denotes, or a guess among the classes
        of this file and the files it imports when only a local variable is known."""
        qualified = f"{receiver}.{name}" if receiver else name
        if receiver in ("this", "super"):
            cls = view.enclosing_class(owner)
            hits = self._hierarchy(cls, name, kinds, include_self=receiver == "this") if cls else []
            return Found(tuple(hits), unresolved_name=qualified)
        container = self._receiver(view, owner, receiver) if receiver else None
        if container is None:  # a local of unknown class: guess, or give up on complex ones
            return (
                self._guess(view, name, qualified)
                if guess and receiver
                else Found(unresolved_name=qualified)
            )
        hits = []
        for target in container.targets:
            if target.kind is BlockKind.MODULE:
                hits += self._modules.members_in(Scope(files=(target.path,)), name, kinds)
            elif target.kind is BlockKind.CLASS:
                hits += self._hierarchy(target, name, kinds, include_self=True)
        if container.unresolved_name:  # e.g. `react.useState`, `java.util.List.add`
            qualified = f"{container.unresolved_name}.{name}"
        return Found(tuple(unique_blocks(hits)), container.via_import, qualified)

    def _receiver(self, view: FileView, owner: str, receiver: str) -> Found | None:
        """The modules or classes a receiver denotes, Found() if it is known but outside
        the repository, None if it is a variable of unknown class."""
        head, *rest = receiver.split(".")
        if head in ("this", "super"):
            type_name = self._field_type(view, owner, rest[0]) if len(rest) == 1 else None
            return self._resolve_bare(view, owner, type_name, CLASS_KINDS) if type_name else None
        found = self._modules.binding(view, head)
        if found is None:
            local = next(
                (
                    view.bindings[(b.id, head)]
                    for b in view.chain(owner)
                    if (b.id, head) in view.bindings
                ),
                "",
            )
            if local is None:
                return None  # a variable whose class the source does not say
            if local:
                found = self._resolve_bare(view, owner, local, CLASS_KINDS)
            else:  # not a variable: maybe a class, for a static member
                found = self._resolve_bare(view, owner, head, CLASS_KINDS)
                if not found.targets:
                    return Found(unresolved_name=receiver)
        for position, segment in enumerate(rest):  # `Outer.Inner.m()`, `ns.Class.m()`
            if not found.targets:
                unknown = [found.unresolved_name or head, *rest[position:]]
                return replace(found, unresolved_name=".".join(unknown))
            inner = tuple(m for t in found.targets for m in self._members_of(t, segment))
            found = replace(found, targets=inner, unresolved_name=None if inner else receiver)
        return found

    def _members_of(self, target: Block, name: str) -> list[Block]:
        if target.kind is BlockKind.MODULE:
            return self._modules.members_in(Scope(files=(target.path,)), name, CLASS_KINDS)
        return self._modules.view_of(target).members(target.id, name, CLASS_KINDS)

    def _field_type(self, view: FileView, owner: str, field_name: str) -> str | None:
        """The declared class of `this.<field>`: a field, or a TS constructor parameter
        property."""
        cls = view.enclosing_class(owner)
        if cls is None:
            return None
        holders = [cls.id] + [c.id for c in view.constructors_of(cls.id)]
        return next((t for h in holders if (t := view.bindings.get((h, field_name)))), None)

    def _guess(self, view: FileView, name: str, qualified: str) -> Found:
        """Methods named `name` in this file, its imports and (Java) its package: accepted
        only when they all belong to one class (its overloads)."""

        def compute() -> tuple[Block, ...]:
            paths = {view.path} | self._modules.imported_files(view)
            if self._modules.module_system is ModuleSystem.PACKAGE:
                paths |= {v.path for v in self._modules.package_files(view)}
            found = [
                b
                for path in sorted(paths)
                for b in self._modules.view_at(path).named.get(name, [])
                if b.kind is BlockKind.METHOD
            ]
            return tuple(found) if len({b.parent for b in found}) == 1 else ()

        hits = self._modules.memoized(("guess", view.path, name), compute)
        return Found(hits, unresolved_name=qualified)

    def _hierarchy(
        self, cls: Block, name: str, kinds: frozenset[BlockKind], *, include_self: bool
    ) -> list[Block]:
        """The nearest members named `name` along each inheritance path from `cls`."""
        frontier = [cls] if include_self else self._direct_bases(cls)
        visited = {cls.id}
        found: list[Block] = []
        while frontier and len(visited) < _MAX_HIERARCHY:
            next_frontier: list[Block] = []
            for current in frontier:
                visited.add(current.id)
                hits = self._modules.view_of(current).members(current.id, name, kinds)
                found += hits
                if not hits:
                    next_frontier += self._direct_bases(current)
            frontier = [c for c in unique_blocks(next_frontier) if c.id not in visited]
        return unique_blocks(found)

    def _direct_bases(self, cls: Block) -> list[Block]:
        def compute() -> list[Block]:
            view = self._modules.view_of(cls)
            bases: list[Block] = []
            for ref in view.bases.get(cls.id, []):
                found = self._resolve_class(view, cls.id, ref.name, ref.receiver)
                bases += [b for b in found.targets if b.id != cls.id]
            return unique_blocks(bases)

        return self._modules.memoized(("bases", cls.id), compute)

    def _resolve_class(self, view: FileView, owner: str, name: str, receiver: str | None) -> Found:
        if receiver is None:
            return self._resolve_bare(view, owner, name, CLASS_KINDS)
        return self._resolve_member(view, owner, receiver, name, CLASS_KINDS)

    def _arity_filter(self, targets: Iterable[Block], arity: int | None) -> list[Block]:
        """Overloads with as many parameters as the call has arguments, if any."""
        targets = list(targets)
        if len(targets) < 2 or arity is None:
            return targets
        fitting = [t for t in targets if self._modules.view_of(t).arity.get(t.id, arity) == arity]
        return fitting or targets

    # -- references -----------------------------------------------------------------------

    def _reference(self, view: FileView, ref: Reference, out: Output) -> None:
        if ref.kind == "identifier":
            self._identifier(view, ref, out)
        elif ref.kind == "field":
            for used in self._field_targets(view, ref):
                out.edge(ref.owner, used.id, Relation.USES, ref.line)
        elif ref.kind in ("extends", "implements"):
            found = self._resolve_class(view, ref.owner, ref.name, ref.receiver)
            for base in found.targets:
                if base.id != ref.owner:
                    out.edge(base.id, ref.owner, Relation.BASE_CLASS_OF, ref.line)
            out.note(ref, found, "base")
        elif ref.kind == "new":
            found = self._resolve_class(view, ref.owner, ref.name, ref.receiver)
            for cls in found.targets:
                out.edge(ref.owner, cls.id, Relation.INSTANTIATES, ref.line)
                constructors = self._modules.view_of(cls).constructors_of(cls.id)
                for constructor in self._arity_filter(constructors, ref.arity):
                    out.edge(ref.owner, constructor.id, Relation.CALLS, ref.line)
            out.note(ref, found, "call")
        elif ref.kind == "call" and ref.receiver is None and ref.name in ("super", "this"):
            # `super(...)` / `this(...)` in a constructor: a sibling or base constructor.
            enclosing = view.enclosing_class(ref.owner)
            classes = (
                []
                if enclosing is None
                else [enclosing]
                if ref.name == "this"
                else self._direct_bases(enclosing)
            )
            constructors = [
                constructor
                for target in classes
                for constructor in self._modules.view_of(target).constructors_of(target.id)
            ]
            for constructor in self._arity_filter(constructors, ref.arity):
                out.edge(ref.owner, constructor.id, Relation.CALLS, ref.line)
            # A repository base without an explicit constructor is no unresolved reference.
            unresolved = None if classes else ref.name
            out.note(ref, Found(tuple(constructors), unresolved_name=unresolved), "call")
        elif ref.kind == "call":
            if ref.receiver is None:
                found = self._resolve_bare(view, ref.owner, ref.name, self._bare_callable)
            else:
                found = self._resolve_member(
                    view, ref.owner, ref.receiver, ref.name, _MEMBER_CALLABLE, guess=True
                )
            for callee in self._arity_filter(found.targets, ref.arity):
                out.edge(ref.owner, callee.id, Relation.CALLS, ref.line)
            out.note(ref, found, "call")

    def _identifier(self, view: FileView, ref: Reference, out: Output) -> None:
        entry = view.bound.get(ref.name)
        if entry is not None:
            out.edge(ref.owner, entry[0].block, Relation.IMPORTS, ref.line)
            return
        owner = view.blocks.get(ref.owner)
        if not self._implicit_this or owner is None or owner.kind is not BlockKind.METHOD:
            return
        # A bare name in a method is a field unless a local or parameter shadows it.
        for scope_block in view.chain(ref.owner):
            if scope_block.kind is BlockKind.CLASS:
                for used in self._hierarchy(scope_block, ref.name, _FIELD, include_self=True):
                    out.edge(ref.owner, used.id, Relation.USES, ref.line)
                return
            if (scope_block.id, ref.name) in view.bindings:
                return

    def _field_targets(self, view: FileView, ref: Reference) -> list[Block]:
        """Fields read or written as `this.x`, `typedLocal.x` or `other.x` inside x's class."""
        receiver = ref.receiver or ""
        if receiver in ("this", "super"):
            found = self._resolve_member(view, ref.owner, receiver, ref.name, _FIELD)
            return list(found.targets)
        if receiver and self._receiver(view, ref.owner, receiver) is not None:
            # The receiver's class is known (maybe outside the repository): only its fields.
            return list(self._resolve_member(view, ref.owner, receiver, ref.name, _FIELD).targets)
        cls = view.enclosing_class(ref.owner)
        return self._hierarchy(cls, ref.name, _FIELD, include_self=True) if cls else []

    def _overrides(self, view: FileView, out: Output) -> None:
        for method in view.blocks.values():
            parent = view.blocks.get(method.parent or "")
            if (
                method.kind is not BlockKind.METHOD
                or method.id in view.constructors
                or parent is None
                or parent.kind is not BlockKind.CLASS
            ):
                continue
            name = view.name_of.get(method.id, method.name)
            overridden = [
                base_method
                for base_method in self._hierarchy(parent, name, _METHOD, include_self=False)
                if base_method.id not in self._modules.view_of(base_method).constructors
            ]
            for target in self._arity_filter(overridden, view.arity.get(method.id)):
                out.edge(method.id, target.id, Relation.OVERRIDES)
