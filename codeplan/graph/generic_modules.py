"""What the other files of a repository say, for the query-driven resolver.

`ModuleIndex` turns `FileFacts` into indexed `FileView`s, finds what an import source
denotes (a JS/TS file, a Java package or class) and what an import-bound name refers to.
Every other file is reached through `ResolutionIndex.lookup`, so the keys consulted are
recorded; results it caches replay their keys when reused, and `invalidate` forgets them
when a file they consulted changes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import TypeVar, cast

from codeplan.graph.analyzer import ResolutionIndex
from codeplan.graph.generic_extract import ImportRecord, Reference
from codeplan.graph.model import Block, BlockKind
from codeplan.graph.records import FileFacts

_T = TypeVar("_T")
CLASS_KINDS = frozenset({BlockKind.CLASS})
ANY_KIND = frozenset(BlockKind)
DEFAULT_EXPORT = "default"  # the imported name of a default import, as in `{ default as x }`
_MAX_REEXPORT_DEPTH = 8


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
        self.constructor_ids: tuple[str, ...] = tuple(data.get("constructors", []))
        self.constructors = frozenset(self.constructor_ids)
        self.arity: dict[str, int] = dict(data.get("arity", {}))
        self.package: str = data.get("package", "")
        self.default_export: str | None = data.get("default_export")
        self.imports = tuple(ImportRecord.from_json(i) for i in data.get("imports", []))
        self.bound: dict[str, tuple[ImportRecord, str | None]] = {}  # local -> import, name
        for record in self.imports:
            if not record.reexport:
                self.bound.update((local, (record, name)) for name, local in record.names)
                if record.default is not None:
                    self.bound[record.default] = (record, DEFAULT_EXPORT)
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

    def top_level(self, name: str, kinds: frozenset[BlockKind] = ANY_KIND) -> list[Block]:
        return self.members(self.path, name, kinds)

    def members(self, container: str, name: str, kinds: frozenset[BlockKind]) -> list[Block]:
        return [b for b in self.named.get(name, []) if b.parent == container and b.kind in kinds]

    def constructors_of(self, class_id: str) -> list[Block]:
        return [
            self.blocks[c]
            for c in self.constructor_ids
            if c in self.blocks and self.blocks[c].parent == class_id
        ]

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


class ModuleIndex:
    """Views of the repository's files, and what their imports denote."""

    def __init__(
        self,
        *,
        language: str,
        module_system: ModuleSystem,
        import_languages: tuple[str, ...],
        import_extensions: tuple[str, ...],
        index: ResolutionIndex,
    ) -> None:
        self.language = language
        self.module_system = module_system
        self._import_languages = import_languages
        self._import_extensions = import_extensions
        self._index = index
        self._views: dict[str, tuple[FileFacts, FileView]] = {}
        self._memo: dict[tuple[str, ...], tuple[object, frozenset[str]]] = {}

    def invalidate(self, path: str, keys: frozenset[str]) -> None:
        """Forget what was derived from file `path`, and results that consulted `keys`."""
        self._views.pop(path, None)
        own_blocks = path + "::"
        self._memo = {
            key: hit
            for key, hit in self._memo.items()
            if key[1] != path and not key[1].startswith(own_blocks) and not (hit[1] & keys)
        }

    def view(self, facts: FileFacts) -> FileView:
        cached = self._views.get(facts.path)
        if cached is not None and cached[0] is facts:
            return cached[1]
        view = FileView(facts)
        self._views[facts.path] = (facts, view)
        return view

    def view_at(self, path: str) -> FileView:
        """The current view of a file named by a cached result (it may have been edited
        since, keeping its interface, or removed)."""
        facts = self._index.facts(path)
        return self.view(facts) if facts is not None else FileView(empty_facts(path))

    def view_of(self, block: Block) -> FileView:
        return self.view_at(block.path)

    def lookup(self, key: str) -> list[FileView]:
        return [self.view(facts) for facts in self._index.lookup(key)]

    def memoized(self, key: tuple[str, ...], compute: Callable[[], _T]) -> _T:
        hit = self._memo.get(key)
        if hit is not None:
            self._index.consult(hit[1])  # the caller depends on what the result consulted
            return cast(_T, hit[0])
        with self._index.tracking() as consulted:
            value = compute()
        self._memo[key] = (value, frozenset(consulted))
        return value

    # -- modules and imports --------------------------------------------------------------

    def scope(self, view: FileView, source: str) -> Scope | None:
        """The files or classes an import source names; None when outside the repository."""
        return self.memoized(("scope", view.path, source), lambda: self._find_scope(view, source))

    def _find_scope(self, view: FileView, source: str) -> Scope | None:
        if self.module_system is ModuleSystem.PACKAGE:
            files = self.lookup(f"{self.language}:package:{source}")
            if files:
                return Scope(files=tuple(v.path for v in files))
            package, _, class_name = source.rpartition(".")
            classes = [
                cls
                for v in self.lookup(f"{self.language}:package:{package}")
                for cls in v.top_level(class_name, CLASS_KINDS)
            ]
            return Scope(classes=tuple(classes)) if classes else None
        if not source.startswith("."):
            return None  # a package from node_modules
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(view.path), source))
        if joined == ".." or joined.startswith("../"):
            return None
        stem, extension = posixpath.splitext(joined)
        if extension in self._import_extensions:  # `./util.js` may name util.ts
            joined = stem
        module = "" if joined == "." else joined.replace("/", ".")
        for candidate in (module, f"{module}.index") if module else ("index",):
            paths = sorted(
                {
                    v.path
                    for language in self._import_languages
                    for v in self.lookup(f"{language}:module:{candidate}")
                }
            )
            if paths:
                return Scope(files=tuple(paths))
        return None

    def members_in(
        self, scope: Scope, name: str, kinds: frozenset[BlockKind] = ANY_KIND, depth: int = 0
    ) -> list[Block]:
        found: list[Block] = []
        for path in scope.files:
            view = self.view_at(path)
            hits = view.top_level(name, kinds)
            if not hits and depth < _MAX_REEXPORT_DEPTH:  # follow barrel files' re-exports
                for record in view.imports:
                    sub = self.scope(view, record.source) if record.reexport else None
                    if sub is None:
                        continue
                    for imported, exported in record.names:
                        if exported == name:
                            hits += self.members_in(sub, imported, kinds, depth + 1)
                    if record.wildcard:
                        hits += self.members_in(sub, name, kinds, depth + 1)
            found += hits
        for cls in scope.classes:
            found += self.view_of(cls).members(cls.id, name, kinds)
        return unique_blocks(found)

    def whole(self, scope: Scope, imported: str | None) -> list[Block]:
        """What a namespace (None) or default import denotes: module or default export."""
        found = list(scope.classes)
        for path in scope.files:
            view = self.view_at(path)
            default = view.blocks.get(view.default_export or "")
            module = view.blocks.get(path)
            chosen = default if imported == DEFAULT_EXPORT and default else module
            if chosen is not None:
                found.append(chosen)
        return found

    def binding(self, view: FileView, local: str) -> Found | None:
        """What an import-bound local name denotes, or None if no import binds it."""
        entry = view.bound.get(local)
        if entry is None:
            return None
        record, imported = entry
        external = (
            record.source if imported in (None, DEFAULT_EXPORT) else f"{record.source}.{imported}"
        )
        scope = self.scope(view, record.source)
        if scope is None:
            return Found(via_import=record.block, unresolved_name=external)
        targets = (
            self.whole(scope, imported)
            if imported in (None, DEFAULT_EXPORT)
            else self.members_in(scope, imported)
        )
        return Found(tuple(targets), record.block, None if targets else external)

    def imported_files(self, view: FileView) -> frozenset[str]:
        """Files this one imports from: where ambiguous names are looked for first."""

        def compute() -> frozenset[str]:
            paths: set[str] = set()
            for record in view.imports:
                scope = self.scope(view, record.source)
                if scope is None:
                    continue
                paths.update(scope.files)
                paths.update(cls.path for cls in scope.classes)
            return frozenset(paths)

        return self.memoized(("imported", view.path), compute)

    def package_files(self, view: FileView) -> list[FileView]:
        return self.lookup(f"{self.language}:package:{view.package}")


def unique_blocks(blocks: Iterable[Block]) -> list[Block]:
    return list({b.id: b for b in blocks}.values())


def empty_facts(path: str) -> FileFacts:
    return FileFacts(
        path=path,
        language="",
        analyzer_version="",
        content_hash="",
        blocks=(),
        interface_hash="",
        provides=frozenset(),
    )
