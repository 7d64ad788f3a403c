"""Per-file analysis records: what a file says about itself (`FileFacts`) and what its
references resolve to (`FileResolution`), in the forms the cache stores and the graph
loads lazily.  Pure values; nothing here does I/O.
"""

from __future__ import annotations

import marshal
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import lz4.block

from codeplan.graph.model import (
    KIND_BY_VALUE,
    RELATION_BY_VALUE,
    Block,
    BlockKind,
    Edge,
    Relation,
    UnresolvedRef,
    path_of,
)

# Everything packed here is marshal bytes compressed with LZ4.  LZ4 shrinks Django's
# analyzer payloads fourfold (32 MB to 9 MB), and packs and unpacks them in 0.05 s where
# zlib's fastest level took 0.28 s (for 6 MB): 3% of a cold build's CPU.  Compressing the
# blocks, edges and references too took Django's cache from 51 MB to 28 MB and its warm
# build from 0.24 s to 0.20 s.  Storing payloads uncompressed made a cold build 3-4%
# faster than zlib did, and a warm one, which reads them all from the cache, 15% slower.


def _compressed(value: Any) -> bytes:
    return lz4.block.compress(marshal.dumps(value))  # type: ignore[no-any-return]


def _decompressed(blob: bytes) -> Any:
    return marshal.loads(lz4.block.decompress(blob))


class PackedData(Mapping[str, Any]):
    """An analyzer payload kept as compressed marshal bytes, unpacked on first access.

    Cached facts carry a large payload that a warm build never reads (only the files it
    re-resolves need it); forked workers send it back as one small blob rather than as
    millions of small objects; the cache stores the blob as is.  marshal, not JSON: the
    payload is JSON-shaped (checked by the tests) and marshal packs it five times faster.
    A damaged blob is caught by the CRC-32 over the cache record that carries it.
    """

    __slots__ = ("_unpacked", "blob")

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self._unpacked: dict[str, Any] | None = None

    @classmethod
    def of(cls, value: Mapping[str, Any]) -> PackedData:
        if isinstance(value, PackedData):
            return value
        return cls(_compressed(dict(value)))

    def unpacked(self) -> dict[str, Any]:
        if self._unpacked is None:
            value = _decompressed(self.blob)
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
    blocks: Sequence[Block]  # a tuple, or PackedBlocks when read from a record
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
        fields in order, blocks and the payload packed.  Positional rather than
        `to_json`'s mapping, since decoding records is most of a warm build."""
        return (
            self.path,
            self.language,
            self.analyzer_version,
            self.content_hash,
            *PackedBlocks.of(self.blocks).record(),
            self.interface_hash,
            tuple(sorted(self.provides)),
            tuple(self.syntax_error_lines),
            PackedData.of(self.data).blob,
        )

    @classmethod
    def from_record(cls, record: tuple[Any, ...]) -> FileFacts:
        path, language, version, digest, blocks, count, kinds, interface, provides, errors, blob = (
            record
        )
        return cls(
            path=path,
            language=language,
            analyzer_version=version,
            content_hash=digest,
            blocks=PackedBlocks.from_record(blocks, count, kinds),
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


_Row = TypeVar("_Row")
_Packed = TypeVar("_Packed", bound="_PackedRows[Any]")


class _PackedRows(Sequence[_Row]):
    """Rows kept as compressed marshal bytes until first read (see PackedEdges, PackedRefs and
    PackedBlocks), and how many there are when that is known without reading them."""

    __slots__ = ("_rows", "blob", "length")

    def __init__(
        self, blob: bytes, rows: tuple[_Row, ...] | None = None, length: int | None = None
    ) -> None:
        self.blob = blob
        self._rows = rows
        self.length = length

    @classmethod
    def of(cls: type[_Packed], items: Iterable[Any]) -> _Packed:
        """Packed from decoded items, which it keeps at hand (see `of_rows`)."""
        if isinstance(items, cls):
            return items
        items = tuple(items)
        packed = cls.of_rows(tuple(map(cls._encode, items)))
        packed._rows = items
        return packed

    @classmethod
    def of_rows(cls: type[_Packed], rows: tuple[tuple[Any, ...], ...]) -> _Packed:
        """Packed from encoded rows, without decoding any: how a forked worker hands its
        results over, to be decoded where a query first needs them."""
        raise NotImplementedError

    @staticmethod
    def _encode(item: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def _decode(self, row: Any) -> _Row:
        raise NotImplementedError

    @property
    def decoded(self) -> bool:
        return self._rows is not None

    def rows(self) -> tuple[_Row, ...]:
        if self._rows is None:
            self._rows = self.decode()
        return self._rows

    def decode(self) -> tuple[_Row, ...]:
        """The rows, decoded afresh if they are not at hand, and not kept: the graph
        copies what it loads, so keeping them too would hold a large graph twice."""
        if self._rows is not None:
            return self._rows
        rows = _decompressed(self.blob)
        if not isinstance(rows, tuple):
            raise ValueError("packed rows are not a tuple")
        return tuple(map(self._decode, rows))

    def __getitem__(self, index: Any) -> Any:
        return self.rows()[index]

    def __iter__(self) -> Iterator[_Row]:
        return iter(self.rows())

    def __len__(self) -> int:
        return self.length if self.length is not None else len(self.rows())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _PackedRows):
            return self.blob == other.blob or self.rows() == other.rows()
        if isinstance(other, tuple):
            return self.rows() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.rows())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.blob)} bytes)"


class PackedEdges(_PackedRows[Edge]):
    """A file's resolved edges, packed, with what the graph must know of them before it
    decodes them: the files they point out of and into, and how many edges of each
    relation they make.  A resolution's edges are one per (source, target, relation), as
    the graph keeps them, so these counts are the graph's.  Most start in the resolved
    file, not all: resolving `class B(A)` makes A, wherever it is, the base class of B.

    A warm build of a large repository would otherwise decode a quarter of a million
    edges and fill them into the graph before anyone asks for one; the graph instead
    loads a file's edges when a query first needs them (see `CodeGraph.add_resolution`).
    """

    __slots__ = ("relation_counts", "sources", "targets")

    def __init__(
        self,
        blob: bytes,
        sources: frozenset[str],
        targets: frozenset[str],
        relation_counts: tuple[tuple[Relation, int], ...],
        edges: tuple[Edge, ...] | None = None,
    ) -> None:
        super().__init__(blob, edges)
        self.sources = sources
        self.targets = targets
        self.relation_counts = relation_counts

    @classmethod
    def of_rows(cls, rows: tuple[tuple[Any, ...], ...]) -> PackedEdges:
        """From (source, target, relation value, line) rows, one per (source, target,
        relation): how a forked resolver sends its edges back."""
        counts = Counter(relation for _, _, relation, _ in rows)
        return cls(
            _compressed(rows),
            # each end's path split once
            frozenset(path_of(source) for source in {row[0] for row in rows}),
            frozenset(path_of(target) for target in {row[1] for row in rows}),
            tuple((RELATION_BY_VALUE[value], n) for value, n in sorted(counts.items())),
        )

    @staticmethod
    def _encode(edge: Edge) -> tuple[Any, ...]:
        source, target, relation, line, _ = edge  # not stale: a resolution's own edges
        return source, target, relation.value, line

    def _decode(self, row: Any) -> Edge:
        return Edge.from_row(row)


class PackedRefs(_PackedRows[UnresolvedRef]):
    """A file's unresolved references, packed, and how many there are."""

    __slots__ = ()

    def __init__(
        self, blob: bytes, length: int, refs: tuple[UnresolvedRef, ...] | None = None
    ) -> None:
        super().__init__(blob, refs, length)

    @classmethod
    def of_rows(cls, rows: tuple[tuple[Any, ...], ...]) -> PackedRefs:
        """From (source, name, line, context) rows."""
        return cls(_compressed(rows), len(rows))

    @staticmethod
    def _encode(ref: UnresolvedRef) -> tuple[Any, ...]:
        return tuple(ref)

    def _decode(self, row: Any) -> UnresolvedRef:
        return UnresolvedRef._make(row)


class PackedBlocks(_PackedRows[Block]):
    """A file's blocks, packed, with how many of each kind there are: a warm build adds
    every file's blocks to the graph, which decodes them when a query first names one
    of them (see `CodeGraph.add_file_blocks`)."""

    __slots__ = ("kinds",)

    def __init__(
        self,
        blob: bytes,
        length: int,
        kinds: tuple[tuple[BlockKind, int], ...],
        blocks: tuple[Block, ...] | None = None,
    ) -> None:
        super().__init__(blob, blocks, length)
        self.kinds = kinds

    @classmethod
    def of_rows(cls, rows: tuple[tuple[Any, ...], ...]) -> PackedBlocks:
        """From `Block.to_row` rows: how an extractor hands its blocks over."""
        counts = Counter(row[1] for row in rows)
        return cls(
            _compressed(rows),
            len(rows),
            tuple((KIND_BY_VALUE[value], n) for value, n in sorted(counts.items())),
        )

    def record(self) -> tuple[bytes, int, tuple[tuple[str, int], ...]]:
        return self.blob, len(self), tuple((kind.value, n) for kind, n in self.kinds)

    @classmethod
    def from_record(cls, blob: Any, length: Any, kinds: Any) -> PackedBlocks:
        if not isinstance(blob, bytes):
            raise ValueError("a facts record's blocks are not packed")
        return cls(blob, length, tuple((KIND_BY_VALUE[value], n) for value, n in kinds))

    @staticmethod
    def _encode(block: Block) -> tuple[Any, ...]:
        return block.to_row()

    def _decode(self, row: Any) -> Block:
        return Block.from_row(row)


@dataclass(frozen=True)
class FileResolution:
    """The edges whose source lies in one file, one per (source, target, relation), and
    what resolving them consulted."""

    path: str
    edges: Sequence[Edge]  # a tuple, or PackedEdges when read from a record
    unresolved: Sequence[UnresolvedRef]  # a tuple, or PackedRefs when read from a record
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
        `FileFacts.to_record`), edges and references packed; like `to_json`, it leaves
        out `Edge.stale`, always false for a resolution's own edges."""
        edges, refs = PackedEdges.of(self.edges), PackedRefs.of(self.unresolved)
        return (
            self.path,
            edges.blob,
            tuple(sorted(edges.sources)),
            tuple(sorted(edges.targets)),
            tuple((relation.value, count) for relation, count in edges.relation_counts),
            refs.blob,
            len(refs),
            tuple(sorted(self.depends_on)),
            self.fingerprint,
        )

    @classmethod
    def from_record(cls, record: tuple[Any, ...]) -> FileResolution:
        path, edges, sources, targets, counts, refs, ref_count, depends_on, fingerprint = record
        if not isinstance(edges, bytes) or not isinstance(refs, bytes):
            raise ValueError("a resolution record's edges and references are not packed")
        relation_counts = tuple((RELATION_BY_VALUE[value], n) for value, n in counts)
        return cls(
            path=path,
            edges=PackedEdges(edges, frozenset(sources), frozenset(targets), relation_counts),
            unresolved=PackedRefs(refs, ref_count),
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
