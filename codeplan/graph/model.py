"""The dependency graph's vocabulary: blocks, relations, edges and per-file analysis facts.

Everything here is frozen and JSON-serialisable, so per-file facts can be cached on disk
and compared across runs.  Analysis produces these values; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import marshal
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, NamedTuple


class BlockKind(str, Enum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    METHOD = "method"
    FIELD = "field"
    IMPORT = "import"
    STATEMENT = "statement"


class Relation(str, Enum):
    """The eight relation pairs of the CodePlan paper.

    An edge `source -R-> target` reads "source R target": `f -Calls-> g` means f calls g;
    `Base -BaseClassOf-> Derived`; `__init__ -Constructs-> Class`; `user -Imports-> import`
    and `import -Imports-> imported definition`; `Parent -ParentOf-> child`.  The inverse
    relation (`CalledBy`, `DerivedClassOf`, ...) is the same edge read backwards.
    """

    PARENT_OF = "ParentOf"
    CONSTRUCTS = "Constructs"
    IMPORTS = "Imports"
    BASE_CLASS_OF = "BaseClassOf"
    OVERRIDES = "Overrides"
    CALLS = "Calls"
    INSTANTIATES = "Instantiates"
    USES = "Uses"

    @property
    def inverse_name(self) -> str:
        return _INVERSE_NAMES[self]

    @classmethod
    def parse(cls, name: str) -> tuple[Relation, bool]:
        """Map a relation name, forward or inverse, to (relation, is_inverse)."""
        for relation in cls:
            if name == relation.value:
                return relation, False
            if name == relation.inverse_name:
                return relation, True
        raise ValueError(f"unknown relation {name!r}")


# Decoding a cached build looks up a quarter of a million values: a dict is five times
# faster than calling the enum.
_KIND_BY_VALUE = {kind.value: kind for kind in BlockKind}
_RELATION_BY_VALUE = {relation.value: relation for relation in Relation}


_INVERSE_NAMES = {
    Relation.PARENT_OF: "ChildOf",
    Relation.CONSTRUCTS: "ConstructedBy",
    Relation.IMPORTS: "ImportedBy",
    Relation.BASE_CLASS_OF: "DerivedClassOf",
    Relation.OVERRIDES: "OverriddenBy",
    Relation.CALLS: "CalledBy",
    Relation.INSTANTIATES: "InstantiatedBy",
    Relation.USES: "UsedBy",
}


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def block_id(path: str, qualname: str) -> str:
    """A block's stable id: `path::qualname`; the module block's id is its path."""
    return f"{path}::{qualname}" if qualname else path


@dataclass(frozen=True, slots=True)
class Block:
    """A unit of code the planner can edit: module, class, function, field, import, ..."""

    id: str
    kind: BlockKind
    language: str
    path: str
    module: str
    qualname: str
    start_line: int  # 1-based, inclusive
    end_line: int
    start_byte: int
    end_byte: int
    signature: str
    content_hash: str
    parent: str | None = None
    decorators: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The name code calls it by: a same-named sibling's `#n` (an overload, a
        property's setter) is only in its qualname, to keep ids apart."""
        if not self.qualname:
            return self.module
        return self.qualname.rsplit(".", 1)[-1].split("#", 1)[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "language": self.language,
            "path": self.path,
            "module": self.module,
            "qualname": self.qualname,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "start_byte": self.start_byte,
            "end_byte": self.end_byte,
            "signature": self.signature,
            "content_hash": self.content_hash,
            "parent": self.parent,
            "decorators": list(self.decorators),
        }

    def to_row(self) -> tuple[Any, ...]:
        """The fields in declaration order, the kind by value: a cache record's form."""
        return (
            self.id,
            self.kind.value,
            self.language,
            self.path,
            self.module,
            self.qualname,
            self.start_line,
            self.end_line,
            self.start_byte,
            self.end_byte,
            self.signature,
            self.content_hash,
            self.parent,
            self.decorators,
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Block:
        # a build decodes a block per definition of the repository: its slots are set
        # directly, as a frozen dataclass's __init__ cannot (through object.__setattr__,
        # half again as slow), and a mapping's keyword arguments would cost a third more
        if len(row) != len(_BLOCK_SLOT_SETTERS):  # defaults to fill: only __init__ knows
            return cls(row[0], _KIND_BY_VALUE[row[1]], *row[2:])
        block = _new_object(cls)
        for set_slot, value in zip(_BLOCK_SLOT_SETTERS, row, strict=True):
            set_slot(block, value)
        _BLOCK_SLOT_SETTERS[1](block, _KIND_BY_VALUE[row[1]])
        return block

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Block:
        return cls(
            id=data["id"],
            kind=_KIND_BY_VALUE[data["kind"]],
            language=data["language"],
            path=data["path"],
            module=data["module"],
            qualname=data["qualname"],
            start_line=data["start_line"],
            end_line=data["end_line"],
            start_byte=data["start_byte"],
            end_byte=data["end_byte"],
            signature=data["signature"],
            content_hash=data["content_hash"],
            parent=data["parent"],
            decorators=tuple(data["decorators"]),
        )


_new_object = object.__new__
# `Block.from_row`'s: the setters of Block's slots, in the order of its fields (and rows)
_BLOCK_SLOT_SETTERS = tuple(getattr(Block, f.name).__set__ for f in fields(Block))
_new_tuple = tuple.__new__


class Edge(NamedTuple):
    """A resolved relation.  `stale` marks an edge kept after its target changed or vanished
    (the source has not been re-edited yet), so propagation can still follow it.

    A NamedTuple rather than a frozen dataclass: large repositories have hundreds of
    thousands of edges, and tuple construction is an order of magnitude cheaper."""

    source: str
    target: str
    relation: Relation
    line: int = 0  # where the reference occurs (0 for structural relations)
    stale: bool = False

    def to_json(self) -> list[Any]:
        return [self.source, self.target, self.relation.value, self.line]

    @classmethod
    def from_json(cls, data: list[Any]) -> Edge:
        return cls(data[0], data[1], _RELATION_BY_VALUE[data[2]], data[3])

    @classmethod
    def from_row(cls, row: tuple[str, str, str, int]) -> Edge:
        """`from_json` of a cache record's (source, target, relation value, line).
        tuple.__new__ skips the NamedTuple's Python-level constructor, a third of the
        cost when a warm build decodes a quarter of a million edges."""
        source, target, relation, line = row
        return _new_tuple(cls, (source, target, _RELATION_BY_VALUE[relation], line, False))


class UnresolvedRef(NamedTuple):
    """A reference to something the repository does not define (stdlib, third party,
    dynamic).  `name` is the best dotted name known, e.g. `os.path.join`, `requests.get`."""

    source: str
    name: str
    line: int
    context: str  # "call", "load", "store", "import", "base", "decorator"

    def to_json(self) -> list[Any]:
        return [self.source, self.name, self.line, self.context]

    @classmethod
    def from_json(cls, data: list[Any]) -> UnresolvedRef:
        return cls(data[0], data[1], data[2], data[3])


_PACK_LEVEL = 1  # zlib: the fastest level still shrinks a payload tenfold


class PackedData(Mapping[str, Any]):
    """An analyzer payload kept as compressed marshal bytes, unpacked on first access.

    Cached facts carry a large payload that a warm build never reads (only the files it
    re-resolves need it); forked workers send it back as one small blob rather than as
    millions of small objects; the cache stores the blob as is.  marshal, not JSON: the
    payload is JSON-shaped (checked by the tests) and marshal packs it five times faster.
    zlib's checksum makes a damaged blob an error rather than a wrong value.
    """

    __slots__ = ("_unpacked", "blob")

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self._unpacked: dict[str, Any] | None = None

    @classmethod
    def of(cls, value: Mapping[str, Any]) -> PackedData:
        if isinstance(value, PackedData):
            return value
        return cls(zlib.compress(marshal.dumps(dict(value)), _PACK_LEVEL))

    def unpacked(self) -> dict[str, Any]:
        if self._unpacked is None:
            value = marshal.loads(zlib.decompress(self.blob))
            if not isinstance(value, dict):
                raise ValueError("a packed analyzer payload is not a mapping")
            self._unpacked = value
        return self._unpacked

    def __getitem__(self, key: str) -> Any:
        # the resolvers' hottest path: one call, not two
        unpacked = self._unpacked
        if unpacked is None:
            unpacked = self.unpacked()
        return unpacked[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.unpacked())

    def __len__(self) -> int:
        return len(self.unpacked())

    def __reduce__(self) -> tuple[Any, ...]:
        return (PackedData, (self.blob,))


@dataclass(frozen=True)
class FileFacts:
    """What one file says about itself, independent of every other file.

    `data` is analyzer-specific and JSON-serialisable.  `interface_hash` covers exactly what
    other files may consult while resolving their own references (definitions, signatures,
    imports, inferred types) and not what they cannot (positions, bodies' calls): when it is
    unchanged after an edit, no other file needs re-resolution.  `provides` are the
    dependency keys under which other files' resolutions record that they consulted this
    file (module names for Python).
    """

    path: str
    language: str
    analyzer_version: str
    content_hash: str
    blocks: tuple[Block, ...]
    interface_hash: str
    provides: frozenset[str]
    syntax_error_lines: tuple[int, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "language": self.language,
            "analyzer_version": self.analyzer_version,
            "content_hash": self.content_hash,
            "blocks": [b.to_json() for b in self.blocks],
            "interface_hash": self.interface_hash,
            "provides": sorted(self.provides),
            "syntax_error_lines": list(self.syntax_error_lines),
            "data": dict(self.data),
        }

    def to_record(self) -> tuple[Any, ...]:
        """A marshal-able tuple for the cache (and for the trip back from a worker): the
        fields in order, blocks as rows, the payload packed.  Positional rather than
        `to_json`'s mapping, since decoding records is most of a warm build."""
        return (
            self.path,
            self.language,
            self.analyzer_version,
            self.content_hash,
            tuple(block.to_row() for block in self.blocks),
            self.interface_hash,
            tuple(sorted(self.provides)),
            tuple(self.syntax_error_lines),
            PackedData.of(self.data).blob,
        )

    @classmethod
    def from_record(cls, record: tuple[Any, ...]) -> FileFacts:
        path, language, version, digest, rows, interface, provides, errors, blob = record
        return cls(
            path=path,
            language=language,
            analyzer_version=version,
            content_hash=digest,
            blocks=tuple(map(Block.from_row, rows)),
            interface_hash=interface,
            provides=frozenset(provides),
            syntax_error_lines=tuple(errors),
            data=PackedData(blob),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileFacts:
        return cls(
            path=data["path"],
            language=data["language"],
            analyzer_version=data["analyzer_version"],
            content_hash=data["content_hash"],
            blocks=tuple(Block.from_json(b) for b in data["blocks"]),
            interface_hash=data["interface_hash"],
            provides=frozenset(data["provides"]),
            syntax_error_lines=tuple(data["syntax_error_lines"]),
            data=data["data"],
        )


@dataclass(frozen=True)
class FileResolution:
    """The edges whose source lies in one file, and what resolving them consulted."""

    path: str
    edges: tuple[Edge, ...]
    unresolved: tuple[UnresolvedRef, ...]
    depends_on: frozenset[str]  # dependency keys (see FileFacts.provides) consulted
    # the interfaces of what was consulted, when resolved: a cached resolution is reused
    # only while the same fingerprint is computed from the current files
    fingerprint: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "edges": [e.to_json() for e in self.edges],
            "unresolved": [u.to_json() for u in self.unresolved],
            "depends_on": sorted(self.depends_on),
            "fingerprint": self.fingerprint,
        }

    def to_record(self) -> tuple[Any, ...]:
        """A marshal-able tuple for the cache and for the trip back from a worker (see
        `FileFacts.to_record`); like `to_json`, it leaves out `Edge.stale`, always false
        for a resolution's own edges."""
        return (
            self.path,
            tuple((e.source, e.target, e.relation.value, e.line) for e in self.edges),
            tuple(tuple(ref) for ref in self.unresolved),
            tuple(sorted(self.depends_on)),
            self.fingerprint,
        )

    @classmethod
    def from_record(cls, record: tuple[Any, ...]) -> FileResolution:
        path, edges, unresolved, depends_on, fingerprint = record
        return cls(
            path=path,
            edges=tuple(map(Edge.from_row, edges)),
            unresolved=tuple(map(UnresolvedRef._make, unresolved)),
            depends_on=frozenset(depends_on),
            fingerprint=fingerprint,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileResolution:
        return cls(
            path=data["path"],
            edges=tuple(Edge.from_json(e) for e in data["edges"]),
            unresolved=tuple(UnresolvedRef.from_json(u) for u in data["unresolved"]),
            depends_on=frozenset(data["depends_on"]),
            fingerprint=data.get("fingerprint", ""),
        )
