"""Name-based resolution of the references `generic_extract` records, into edges.

A name is looked up, in order: through the import that binds it; among the definitions
visible from the referring block in the same file; (Java) among the class's inherited
members, the file's package and its wildcard imports; finally as a unique top-level
definition of that name in the language.  Several equally good candidates make the
reference unresolved rather than guessed: a missing edge costs less than a wrong one.

Every other file is reached through `ResolutionIndex.lookup`, so the keys consulted are
recorded; results cached inside one resolver replay their keys when reused.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import TypeVar, cast

from codeplan.graph.analyzer import ResolutionIndex
from codeplan.graph.generic_extract import ImportRecord, Reference
from codeplan.graph.model import (
    Block,
    BlockKind,
    Edge,
    FileFacts,
    FileResolution,
    Relation,
    UnresolvedRef,
)

_T = TypeVar("_T")
_CLASS = frozenset({BlockKind.CLASS})
_FIELD = frozenset({BlockKind.FIELD})
_METHOD = frozenset({BlockKind.METHOD})
# A member call may reach a method, a module's function, or a field holding a function.
_MEMBER_CALLABLE = frozenset({BlockKind.METHOD, BlockKind.FUNCTION, BlockKind.FIELD})
_ANY = frozenset(BlockKind)
_DEFAULT = "default"  # the imported name of a default import, as in `{ default as x }`
_MAX_REEXPORT_DEPTH = 8
_MAX_HIERARCHY = 64  # classes visited when walking bases, against pathological input


class ModuleSystem(str, Enum):
    RELATIVE_PATH = "relative_path"  # JS/TS: './x' names a file relative to the importer
    PACKAGE = "package"  # Java: 'a.b' names a package; same-package names need no import


@dataclass(frozen=True)
class Scope:
    """What an import source denotes: files (members are their top-level definitions) or
    classes (members are their children, for Java static imports)."""

    files: tuple[str, ...] = ()
    classes: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Found:
    """The outcome of resolving one name."""

    targets: tuple[Block, ...] = ()
    via_import: str | None = None  # the import block that binds the name
    unresolved_name: str | None = None  # best dotted name when nothing matched

    def only(self, kinds: frozenset[BlockKind]) -> Found:
        return replace(self, targets=tuple(t for t in self.targets if t.kind in kinds))


class FileView:
    """One file's facts indexed for resolution."""

    def __init__(self, facts: FileFacts) -> None:
        data = facts.data
        self.path = facts.path
        self.blocks = {b.id: b for b in facts.blocks}
        self.named: dict[str, list[Block]] = {}
        self.name_of: dict[str, str] = {}
        for name, block_id in data.get("definitions", []):
            if block_id in self.blocks:
                self.named.setdefault(name, []).append(self.blocks[block_id])
                self.name_of.setdefault(block_id, name)
        self.constructors = frozenset(data.get("constructors", []))
        self.arity: dict[str, int] = dict(data.get("arity", {}))
        self.package: str = data.get("package", "")
        self.default_export: str | None = data.get("default_export")
        self.imports = tuple(ImportRecord.from_json(i) for i in data.get("imports", []))
        self.bound: dict[str, tuple[ImportRecord, str | None]] = {}  # local -> import, name
        for record in self.imports:
            if not record.reexport:
                self.bound.update((local, (record, name)) for name, local in record.names)
                if record.default is not None:
                    self.bound[record.default] = (record, _DEFAULT)
                if record.namespace is not None:
                    self.bound[record.namespace] = (record, None)
        self.references = tuple(Reference(*r) for r in data.get("references", []))
        self.bindings: dict[tuple[str, str], str | None] = {
            (owner, name): type_name for owner, name, type_name in data.get("bindings", [])
        }
        self.bases: dict[str, list[Reference]] = {}
        for ref in self.references:
            if ref.kind in ("extends", "implements"):
                self.bases.setdefault(ref.owner, []).append(ref)

    def top_level(self, name: str, kinds: frozenset[BlockKind] = _ANY) -> list[Block]:
        return self.members(self.path, name, kinds)

    def members(self, container: str, name: str, kinds: frozenset[BlockKind]) -> list[Block]:
        return [b for b in self.named.get(name, []) if b.parent == container and b.kind in kinds]

    def chain(self, block_id: str) -> list[Block]:
        """The block and its ancestors, innermost first."""
        found: list[Block] = []
        block = self.blocks.get(block_id)
        while block is not None:
            found.append(block)
            block = self.blocks.get(block.parent) if block.parent else None
        return found

    def enclosing_class(self, block_id: str) -> Block | None:
        return next((b for b in self.chain(block_id) if b.kind is BlockKind.CLASS), None)


class _Output:
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
            self.unresolved[UnresolvedRef(ref.owner, found.unresolved_name, ref.line, context)] = (
                None
            )


class GenericResolver:
    def __init__(
        self,
        *,
        language: str,
        module_system: ModuleSystem,
        implicit_this: bool,
        import_languages: tuple[str, ...],
        import_extensions: tuple[str, ...],
        index: ResolutionIndex,
    ) -> None:
        self._language = language
        self._module_system = module_system
        self._implicit_this = implicit_this
        self._import_languages = import_languages
        self._import_extensions = import_extensions
        self._index = index
        self._views: dict[str, tuple[FileFacts, FileView]] = {}
        self._memo: dict[tuple[str, ...], tuple[object, frozenset[str]]] = {}
        # Without implicit `this`, a bare call can only reach a free function.
        self._bare_callable = (
            _METHOD | {BlockKind.FUNCTION} if implicit_this else frozenset({BlockKind.FUNCTION})
        )

    def resolve(self, facts: FileFacts) -> FileResolution:
        view = self._view(facts)
        out = _Output()
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

    # -- plumbing -------------------------------------------------------------------------

    def invalidate(self, path: str, keys: frozenset[str]) -> None:
        """Forget what was derived from file `path`, and results that consulted `keys`."""
        self._views.pop(path, None)
        own_blocks = path + "::"
        self._memo = {
            key: hit
            for key, hit in self._memo.items()
            if key[1] != path and not key[1].startswith(own_blocks) and not (hit[1] & keys)
        }

    def _view(self, facts: FileFacts) -> FileView:
        cached = self._views.get(facts.path)
        if cached is not None and cached[0] is facts:
            return cached[1]
        view = FileView(facts)
        self._views[facts.path] = (facts, view)
        return view

    def _view_at(self, path: str) -> FileView:
        """The current view of a file named by a cached result (it may have been edited
        since, keeping its interface, or removed)."""
        facts = self._index.facts(path)
        return self._view(facts) if facts is not None else FileView(_empty_facts(path))

    def _view_of(self, block: Block) -> FileView:
        return self._view_at(block.path)

    def _lookup(self, key: str) -> list[FileView]:
        return [self._view(facts) for facts in self._index.lookup(key)]

    def _memoized(self, key: tuple[str, ...], compute: Callable[[], _T]) -> _T:
        hit = self._memo.get(key)
        if hit is not None:
            self._index.consult(hit[1])  # the caller depends on what the result consulted
            return cast(_T, hit[0])
        with self._index.tracking() as consulted:
            value = compute()
        self._memo[key] = (value, frozenset(consulted))
        return value

    # -- modules and imports --------------------------------------------------------------

    def _scope(self, view: FileView, source: str) -> Scope | None:
        """The files or classes an import source names; None when outside the repository."""
        return self._memoized(("scope", view.path, source), lambda: self._find_scope(view, source))

    def _find_scope(self, view: FileView, source: str) -> Scope | None:
        if self._module_system is ModuleSystem.PACKAGE:
            files = self._lookup(f"{self._language}:package:{source}")
            if files:
                return Scope(files=tuple(v.path for v in files))
            package, _, class_name = source.rpartition(".")
            classes = [
                cls
                for v in self._lookup(f"{self._language}:package:{package}")
                for cls in v.top_level(class_name, _CLASS)
            ]
            return Scope(classes=tuple(classes)) if classes else None
        if not source.startswith("."):
            return None  # a package from node_modules
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(view.path), source))
        if joined == ".." or joined.startswith("../"):
            return None
        for extension in self._import_extensions:  # `./util.js` may name util.ts
            if joined.endswith(extension):
                joined = joined[: -len(extension)]
                break
        module = "" if joined == "." else joined.replace("/", ".")
        for candidate in (module, f"{module}.index") if module else ("index",):
            paths = sorted(
                {
                    v.path
                    for language in self._import_languages
                    for v in self._lookup(f"{language}:module:{candidate}")
                }
            )
            if paths:
                return Scope(files=tuple(paths))
        return None

    def _members(
        self, scope: Scope, name: str, kinds: frozenset[BlockKind] = _ANY, depth: int = 0
    ) -> list[Block]:
        found: list[Block] = []
        for path in scope.files:
            view = self._view_at(path)
            hits = view.top_level(name, kinds)
            if not hits and depth < _MAX_REEXPORT_DEPTH:  # follow barrel files' re-exports
                for record in view.imports:
                    sub = self._scope(view, record.source) if record.reexport else None
                    if sub is None:
                        continue
                    for imported, exported in record.names:
                        if exported == name:
                            hits += self._members(sub, imported, kinds, depth + 1)
                    if record.wildcard:
                        hits += self._members(sub, name, kinds, depth + 1)
            found += hits
        for cls in scope.classes:
            found += self._view_of(cls).members(cls.id, name, kinds)
        return _unique(found)

    def _whole(self, scope: Scope, imported: str | None) -> list[Block]:
        """What a namespace (None) or default import denotes: module or default export."""
        found = list(scope.classes)
        for path in scope.files:
            view = self._view_at(path)
            default = view.blocks.get(view.default_export or "")
            module = view.blocks.get(path)
            chosen = default if imported == _DEFAULT and default else module
            if chosen is not None:
                found.append(chosen)
        return found

    def _binding(self, view: FileView, local: str) -> Found | None:
        """What an import-bound local name denotes, or None if no import binds it."""
        entry = view.bound.get(local)
        if entry is None:
            return None
        record, imported = entry
        external = record.source if imported in (None, _DEFAULT) else f"{record.source}.{imported}"
        scope = self._scope(view, record.source)
        if scope is None:
            return Found(via_import=record.block, unresolved_name=external)
        targets = (
            self._whole(scope, imported)
            if imported in (None, _DEFAULT)
            else self._members(scope, imported)
        )
        return Found(tuple(targets), record.block, None if targets else external)

    def _import_edges(self, view: FileView, out: _Output) -> None:
        for record in view.imports:
            scope = self._scope(view, record.source)
            wanted: list[tuple[str | None, str]] = [
                (name, f"{record.source}.{name}") for name, _ in record.names
            ]
            if record.default is not None:
                wanted.append((_DEFAULT, record.source))
            if record.namespace is not None or not (wanted or record.wildcard):
                wanted.append((None, record.source))  # side-effect imports name the module
            if record.wildcard and scope is None:
                wanted.append((None, record.source))
            for imported, external in wanted:
                if scope is None:
                    targets: list[Block] = []
                elif imported in (None, _DEFAULT):
                    targets = self._whole(scope, imported)
                else:
                    targets = self._members(scope, imported)
                for target in targets:
                    out.edge(record.block, target.id, Relation.IMPORTS, record.line)
                if not targets:
                    ref = UnresolvedRef(record.block, external, record.line, "import")
                    out.unresolved[ref] = None

    def _imported_files(self, view: FileView) -> frozenset[str]:
        """Files this one imports from: where ambiguous names are looked for first."""

        def compute() -> frozenset[str]:
            paths: set[str] = set()
            for record in view.imports:
                scope = self._scope(view, record.source)
                if scope is None:
                    continue
                paths.update(scope.files)
                paths.update(cls.path for cls in scope.classes)
            return frozenset(paths)

        return self._memoized(("imported", view.path), compute)

    # -- names ----------------------------------------------------------------------------

    def _resolve_bare(
        self, view: FileView, owner: str, name: str, kinds: frozenset[BlockKind]
    ) -> Found:
        bound = self._binding(view, name)
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
        if self._module_system is ModuleSystem.PACKAGE:
            scopes = [Scope(files=tuple(v.path for v in self._package_files(view)))]
            scopes += [
                scope
                for record in view.imports
                if record.wildcard and (scope := self._scope(view, record.source)) is not None
            ]
            implicit = [
                b
                for scope in scopes
                for b in self._members(scope, name, kinds)
                if b.path != view.path
            ]
            if implicit:
                return self._choose(view, implicit, name)
        everywhere = [
            b
            for other in self._lookup(f"{self._language}:name:{name}")
            if other.path != view.path
            for b in other.top_level(name, kinds)
        ]
        return self._choose(view, everywhere, name)

    def _package_files(self, view: FileView) -> list[FileView]:
        return self._lookup(f"{self._language}:package:{view.package}")

    def _choose(self, view: FileView, candidates: list[Block], name: str) -> Found:
        """One candidate, else the one in a file this file imports, else unresolved."""
        candidates = _unique(candidates)
        if len(candidates) > 1:
            imported = self._imported_files(view)
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
                hits += self._members(Scope(files=(target.path,)), name, kinds)
            elif target.kind is BlockKind.CLASS:
                hits += self._hierarchy(target, name, kinds, include_self=True)
        if container.unresolved_name:  # e.g. `react.useState`, `java.util.List.add`
            qualified = f"{container.unresolved_name}.{name}"
        return Found(tuple(_unique(hits)), container.via_import, qualified)

    def _receiver(self, view: FileView, owner: str, receiver: str) -> Found | None:
        """The modules or classes a receiver denotes, Found() if it is known but outside
        the repository, None if it is a variable of unknown class."""
        head, *rest = receiver.split(".")
        if head in ("this", "super"):
            type_name = self._field_type(view, owner, rest[0]) if len(rest) == 1 else None
            return self._resolve_bare(view, owner, type_name, _CLASS) if type_name else None
        found = self._binding(view, head)
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
                found = self._resolve_bare(view, owner, local, _CLASS)
            else:  # not a variable: maybe a class, for a static member
                found = self._resolve_bare(view, owner, head, _CLASS)
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
            return self._members(Scope(files=(target.path,)), name, _CLASS)
        return self._view_of(target).members(target.id, name, _CLASS)

    def _field_type(self, view: FileView, owner: str, field_name: str) -> str | None:
        """The declared class of `this.<field>`: a field, or a TS constructor parameter
        property."""
        cls = view.enclosing_class(owner)
        if cls is None:
            return None
        holders = [cls.id] + [c for c in view.constructors if view.blocks[c].parent == cls.id]
        return next((t for h in holders if (t := view.bindings.get((h, field_name)))), None)

    def _guess(self, view: FileView, name: str, qualified: str) -> Found:
        """Methods named `name` in this file, its imports and (Java) its package: accepted
        only when they all belong to one class (its overloads)."""

        def compute() -> tuple[Block, ...]:
            paths = {view.path} | self._imported_files(view)
            if self._module_system is ModuleSystem.PACKAGE:
                paths |= {v.path for v in self._package_files(view)}
            found = [
                b
                for path in sorted(paths)
                for b in self._view_at(path).named.get(name, [])
                if b.kind is BlockKind.METHOD
            ]
            return tuple(found) if len({b.parent for b in found}) == 1 else ()

        hits = self._memoized(("guess", view.path, name), compute)
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
                hits = self._view_of(current).members(current.id, name, kinds)
                found += hits
                if not hits:
                    next_frontier += self._direct_bases(current)
            frontier = [c for c in _unique(next_frontier) if c.id not in visited]
        return _unique(found)

    def _direct_bases(self, cls: Block) -> list[Block]:
        def compute() -> list[Block]:
            view = self._view_of(cls)
            bases: list[Block] = []
            for ref in view.bases.get(cls.id, []):
                found = self._resolve_class(view, cls.id, ref.name, ref.receiver)
                bases += [b for b in found.targets if b.id != cls.id]
            return _unique(bases)

        return self._memoized(("bases", cls.id), compute)

    def _resolve_class(self, view: FileView, owner: str, name: str, receiver: str | None) -> Found:
        if receiver is None:
            return self._resolve_bare(view, owner, name, _CLASS)
        return self._resolve_member(view, owner, receiver, name, _CLASS)

    def _arity_filter(self, targets: Iterable[Block], arity: int | None) -> list[Block]:
        """Overloads with as many parameters as the call has arguments, if any."""
        targets = list(targets)
        if len(targets) < 2 or arity is None:
            return targets
        fitting = [t for t in targets if self._view_of(t).arity.get(t.id, arity) == arity]
        return fitting or targets

    # -- references -----------------------------------------------------------------------

    def _reference(self, view: FileView, ref: Reference, out: _Output) -> None:
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
                cls_view = self._view_of(cls)
                constructors = [
                    cls_view.blocks[c]
                    for c in cls_view.constructors
                    if cls_view.blocks[c].parent == cls.id
                ]
                for constructor in self._arity_filter(constructors, ref.arity):
                    out.edge(ref.owner, constructor.id, Relation.CALLS, ref.line)
            out.note(ref, found, "call")
        elif ref.kind == "call" and ref.receiver is None and ref.name in ("super", "this"):
            # `super(...)` / `this(...)` in a constructor: a sibling or base constructor.
            cls = view.enclosing_class(ref.owner)
            classes = (
                [] if cls is None else [cls] if ref.name == "this" else self._direct_bases(cls)
            )
            constructors = [
                c
                for target in classes
                for c in self._view_of(target).blocks.values()
                if c.parent == target.id and c.id in self._view_of(target).constructors
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

    def _identifier(self, view: FileView, ref: Reference, out: _Output) -> None:
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
        container = self._receiver(view, ref.owner, receiver) if receiver else None
        if container is not None and container.targets:
            return list(self._resolve_member(view, ref.owner, receiver, ref.name, _FIELD).targets)
        cls = view.enclosing_class(ref.owner)
        return self._hierarchy(cls, ref.name, _FIELD, include_self=True) if cls else []

    def _overrides(self, view: FileView, out: _Output) -> None:
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
                if base_method.id not in self._view_of(base_method).constructors
            ]
            for target in self._arity_filter(overridden, view.arity.get(method.id)):
                out.edge(method.id, target.id, Relation.OVERRIDES)


def _unique(blocks: Iterable[Block]) -> list[Block]:
    return list({b.id: b for b in blocks}.values())


def _empty_facts(path: str) -> FileFacts:
    return FileFacts(
        path=path,
        language="",
        analyzer_version="",
        content_hash="",
        blocks=(),
        interface_hash="",
        provides=frozenset(),
    )
