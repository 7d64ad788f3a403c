"""The dependency graph's vocabulary: blocks, relations, edges, unresolved references.

Everything here is immutable and JSON-serialisable, so it can be cached on disk and
compared across runs; the per-file records that carry it are in records.py.  Analysis
produces these values; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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
KIND_BY_VALUE = {kind.value: kind for kind in BlockKind}
RELATION_BY_VALUE = {relation.value: relation for relation in Relation}


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


def path_of(block_id: str) -> str:
    """The path of the file a block id names (see `block_id`)."""
    return block_id.split("::", 1)[0]


class Block(NamedTuple):
    """A unit of code the planner can edit: module, class, function, field, import, ...

    A NamedTuple rather than a frozen dataclass, as `Edge` is: a build decodes one per
    definition of the repository, and a tuple is built several times faster."""

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
        # tuple.__new__ skips the NamedTuple's Python-level constructor (see Edge.from_row)
        if len(row) != _BLOCK_FIELDS:  # defaults to fill: only the constructor knows
            return cls(row[0], KIND_BY_VALUE[row[1]], *row[2:])
        return _new_tuple(cls, (row[0], KIND_BY_VALUE[row[1]], *row[2:]))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Block:
        return cls(
            id=data["id"],
            kind=KIND_BY_VALUE[data["kind"]],
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


_BLOCK_FIELDS = len(Block._fields)
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
        return cls(data[0], data[1], RELATION_BY_VALUE[data[2]], data[3])

    @classmethod
    def from_row(cls, row: tuple[str, str, str, int]) -> Edge:
        """`from_json` of a cache record's (source, target, relation value, line).
        tuple.__new__ skips the NamedTuple's Python-level constructor, a third of the
        cost when a warm build decodes a quarter of a million edges."""
        source, target, relation, line = row
        return _new_tuple(cls, (source, target, RELATION_BY_VALUE[relation], line, False))


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
