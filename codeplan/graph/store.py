"""How the dependency graph is held: blocks and edges in a networkx MultiDiGraph, loaded
file by file from packed records as queries need them.  `CodeGraph` (codegraph.py) asks
its questions through this class's public methods."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import networkx as nx

from codeplan.errors import BlockNotFoundError
from codeplan.graph.gcpause import collector_paused
from codeplan.graph.model import Block, BlockKind, Edge, Relation, UnresolvedRef, path_of
from codeplan.graph.records import FileResolution, PackedBlocks, PackedEdges, PackedRefs


class GraphStore:
    """A graph's blocks, edges and unresolved references, kept current by the builder.

    A file's blocks and resolution can be added packed (`add_file_blocks`,
    `add_resolution`): they enter the graph when a query first needs them.  A query that
    names a block loads its file's blocks; one about a block's outgoing edges or
    references loads its file's; one about its incoming edges loads those of every file
    with edges into its file; whole-graph queries load everything.  A cached build of a
    large repository so costs what its queries touch, not seventy thousand blocks and a
    quarter of a million edges up front, and every answer is the one a fully loaded graph
    gives (tests check this).  Queries therefore write: a graph shared between threads
    needs a lock around its use.
    """

    def __init__(self) -> None:
        self._g = nx.MultiDiGraph()
        self._unresolved: dict[str, list[UnresolvedRef]] = {}
        self._by_path: dict[str, list[str]] = {}
        # kept as the graph changes: a build's summary would otherwise walk every edge
        self._kinds: Counter[BlockKind] = Counter()
        self._relations: Counter[Relation] = Counter()
        self._edge_data: dict[tuple[int, bool], dict[str, Any]] = {}  # see _data
        # packed resolutions not loaded yet, by file; the files with such edges into each
        # file, and those with such edges out of another file than their own; and the
        # counts of what they hold, which the graph's counts include
        self._deferred: dict[str, tuple[PackedEdges, PackedRefs]] = {}
        self._deferred_into: dict[str, set[str]] = {}
        self._deferred_out_of: dict[str, set[str]] = {}
        self._deferred_relations: Counter[Relation] = Counter()
        self._deferred_refs = 0
        # packed blocks not loaded yet, by file, and their counts
        self._deferred_blocks: dict[str, PackedBlocks] = {}
        self._deferred_kinds: Counter[BlockKind] = Counter()
        self._deferred_block_count = 0

    # -- mutation (used by the builder) -------------------------------------------------

    def add_block(self, block: Block) -> None:
        known = self.get(block.id)
        if known is None:
            self._by_path.setdefault(block.path, []).append(block.id)
        else:
            self._kinds[known.kind] -= 1
        self._kinds[block.kind] += 1
        self._g.add_node(block.id, block=block)

    def add_many(self, blocks: Iterable[Block], edges: Iterable[Edge]) -> None:
        """`add_blocks`, then `add_edges`, into an empty graph."""
        if len(self._g):
            raise ValueError("add_many fills an empty graph")
        self.add_blocks(blocks)
        self.add_edges(edges)

    def add_blocks(self, blocks: Iterable[Block]) -> None:
        """`add_block` each block.

        A full build adds tens of thousands of blocks and a quarter of a million edges;
        networkx's own calls spend most of their time on per-item bookkeeping, so this and
        `add_edges` fill its maps directly, in the layout MultiDiGraph has kept since
        networkx 2 (`_succ[u][v]` and `_pred[v][u]` are one shared key -> attributes map).
        A test checks them against `add_block` and `add_edge`.
        """
        if self._deferred_blocks:
            blocks = tuple(blocks)
            for path in {block.path for block in blocks}:
                self._load_blocks(path)
        nodes, successors, predecessors = self._g._node, self._g._succ, self._g._pred
        by_path, kinds = self._by_path, self._kinds
        for block in blocks:
            known = nodes.get(block.id)
            if known is None:
                by_path.setdefault(block.path, []).append(block.id)
                successors[block.id] = {}
                predecessors[block.id] = {}
            else:
                kinds[known["block"].kind] -= 1
            kinds[block.kind] += 1
            nodes[block.id] = {"block": block}
        getattr(self._g, "__networkx_cache__", {}).clear()

    def add_file_blocks(self, path: str, blocks: Sequence[Block]) -> None:
        """Add the blocks of file `path`.  Packed ones not yet decoded wait until a query
        names one of them (see the class)."""
        self._load_blocks(path)
        if isinstance(blocks, PackedBlocks) and not blocks.decoded and path not in self._by_path:
            self._deferred_blocks[path] = blocks
            self._deferred_kinds.update(dict(blocks.kinds))
            self._deferred_block_count += len(blocks)
        else:
            self.add_blocks(blocks)

    def _load_blocks(self, path: str) -> None:
        blocks = self._deferred_blocks.pop(path, None)
        if blocks is not None:
            self._deferred_kinds.subtract(dict(blocks.kinds))
            self._deferred_block_count -= len(blocks)
            # kept decoded: the builder's facts hold the same blocks
            self.add_blocks(blocks.rows())

    def _load_all_blocks(self) -> None:
        if self._deferred_blocks:
            # in one call, once none is left deferred: `add_blocks` then has no file to
            # load first, which it would otherwise check for each file
            packed = [self._deferred_blocks.pop(path) for path in sorted(self._deferred_blocks)]
            self._deferred_kinds.clear()
            self._deferred_block_count = 0
            with collector_paused(freeze=True):
                self.add_blocks(chain.from_iterable(blocks.rows() for blocks in packed))

    def add_resolution(self, resolution: FileResolution) -> None:
        """Add the edges and unresolved references of one file's resolution, into blocks
        already added.  Packed ones not yet decoded wait until a query needs them."""
        self._load_resolution(resolution.path)
        edges, refs = resolution.edges, resolution.unresolved
        if isinstance(edges, PackedEdges) and not edges.decoded and isinstance(refs, PackedRefs):
            self._deferred[resolution.path] = edges, refs
            for target_path in edges.targets:
                self._deferred_into.setdefault(target_path, set()).add(resolution.path)
            for source_path in edges.sources:
                if source_path != resolution.path:
                    self._deferred_out_of.setdefault(source_path, set()).add(resolution.path)
            self._deferred_relations.update(dict(edges.relation_counts))
            self._deferred_refs += len(refs)
        else:
            self._fill(edges, refs)

    def remove_resolution(self, resolution: FileResolution) -> None:
        """Remove what `add_resolution(resolution)` added."""
        if self._undefer(resolution.path) is not None:
            return
        for source, target, relation, *_ in resolution.edges:
            self.remove_edge(source, target, relation)
        for source in {ref.source for ref in resolution.unresolved}:
            self._unresolved.pop(source, None)

    def _undefer(self, path: str) -> tuple[PackedEdges, PackedRefs] | None:
        deferred = self._deferred.pop(path, None)
        if deferred is not None:
            edges, refs = deferred
            self._deferred_relations.subtract(dict(edges.relation_counts))
            self._deferred_refs -= len(refs)
        return deferred

    def _fill(
        self,
        edges: Iterable[Edge],
        refs: Iterable[UnresolvedRef],
        endpoint_paths: Iterable[str] | None = None,
    ) -> None:
        self._fill_edges(edges, endpoint_paths)
        by_source: dict[str, list[UnresolvedRef]] = {}
        for ref in refs:
            by_source.setdefault(ref.source, []).append(ref)
        self._unresolved.update(by_source)

    def add_edges(self, edges: Iterable[Edge]) -> None:
        """`add_edge` each edge (see `add_blocks`)."""
        if self._deferred:
            edges = tuple(edges)
            for path in {path_of(edge.source) for edge in edges}:
                self._load(path)
        self._fill_edges(edges)

    def _load(self, path: str) -> None:
        """Load the edges out of `path`'s blocks and its blocks' unresolved references:
        its own resolution's, and any other file's with edges from it."""
        self._load_resolution(path)
        others = self._deferred_out_of.pop(path, ())
        if others:
            with collector_paused(freeze=True):  # as a build does: see gcpause
                for other in sorted(others):
                    self._load_resolution(other)

    def _load_resolution(self, path: str) -> None:
        deferred = self._undefer(path)
        if deferred is not None:
            edges, refs = deferred
            self._fill(edges.decode(), refs.decode(), {path, *edges.sources, *edges.targets})

    def _load_into(self, path: str) -> None:
        sources = self._deferred_into.pop(path, ())
        if not sources:
            return
        with collector_paused(freeze=True):  # as a build does: see gcpause
            for source_path in sorted(sources):
                self._load_resolution(source_path)

    def _load_around(self, block_id: str) -> None:
        """Load every edge from or to `block_id`."""
        if self._deferred:
            path = path_of(block_id)
            self._load(path)
            self._load_into(path)

    def _load_all(self) -> None:
        self._load_all_blocks()
        if self._deferred:
            with collector_paused(freeze=True):
                for path in sorted(self._deferred):
                    self._load_resolution(path)
        self._deferred_into.clear()
        self._deferred_out_of.clear()

    def _fill_edges(
        self, edges: Iterable[Edge], endpoint_paths: Iterable[str] | None = None
    ) -> None:
        """Add edges between blocks of the graph (loading the files of their ends, which
        `endpoint_paths` names when the caller knows them); others are dropped."""
        if self._deferred_blocks:
            if endpoint_paths is None:
                edges = tuple(edges)
                endpoint_paths = {path_of(end) for edge in edges for end in edge[:2]}
            for path in endpoint_paths:
                self._load_blocks(path)
        nodes, successors, predecessors = self._g._node, self._g._succ, self._g._pred
        # edges unpacked as the tuples they are, and counted in a plain dict merged once:
        # attribute reads and Counter updates were a fifth of this loop; a file's edges
        # come sorted by source, so a source's adjacency map is looked up once per run
        added: dict[Relation, int] = {}
        shared = self._edge_data
        source_of_run: str | None = None
        targets: dict[str, dict[Relation, dict[str, Any]]] | None = None
        for source, target, relation, line, stale in edges:
            if source != source_of_run:
                source_of_run, targets = source, successors.get(source)
            if targets is None or target not in nodes:
                continue
            keys = targets.get(target)
            if keys is None:
                keys = targets[target] = {}
                predecessors[target][source] = keys
            if relation not in keys:
                added[relation] = added.get(relation, 0) + 1
            keys[relation] = shared.get((line, stale)) or self._data(line, stale)
        self._relations.update(added)
        getattr(self._g, "__networkx_cache__", {}).clear()

    def remove_block(self, block_id: str) -> None:
        block = self.get(block_id)
        if block is None:
            return
        self._load_around(block_id)
        for _, _, relation in (
            *self._g.out_edges(block_id, keys=True),
            *self._g.in_edges(block_id, keys=True),
        ):
            self._relations[relation] -= 1
        if self._g.has_edge(block_id, block_id):  # a self-loop was counted twice above
            for relation in self._g[block_id][block_id]:
                self._relations[relation] += 1
        self._kinds[block.kind] -= 1
        self._g.remove_node(block_id)
        self._unresolved.pop(block_id, None)
        ids = self._by_path.get(block.path, [])
        if block_id in ids:
            ids.remove(block_id)
        if not ids:
            self._by_path.pop(block.path, None)

    def add_edge(self, edge: Edge) -> None:
        if edge.source not in self or edge.target not in self:
            return
        self._load(path_of(edge.source))
        if not self._g.has_edge(edge.source, edge.target, key=edge.relation):
            self._relations[edge.relation] += 1
        self._g.add_edge(edge.source, edge.target, key=edge.relation)
        # replaced, never updated in place: edges with the same line and flag share it
        self._g._succ[edge.source][edge.target][edge.relation] = self._data(edge.line, edge.stale)

    def _data(self, line: int, stale: bool) -> dict[str, Any]:
        """The attributes of an edge: one dict per (line, stale), shared by every edge
        with them (a large graph's edges carry a few thousand distinct ones; a dict per
        edge was a third of assembling it)."""
        data = self._edge_data.get((line, stale))
        if data is None:
            data = self._edge_data[line, stale] = {"line": line, "stale": stale}
        return data

    def remove_edge(self, source: str, target: str, relation: Relation) -> None:
        self._load(path_of(source))
        if self._g.has_edge(source, target, key=relation):
            self._g.remove_edge(source, target, key=relation)
            self._relations[relation] -= 1

    def set_unresolved(self, source: str, refs: list[UnresolvedRef]) -> None:
        self._load(path_of(source))
        if refs:
            self._unresolved[source] = refs
        else:
            self._unresolved.pop(source, None)

    # -- blocks --------------------------------------------------------------------------

    def __contains__(self, block_id: object) -> bool:
        return isinstance(block_id, str) and self.get(block_id) is not None

    def __len__(self) -> int:
        return int(self._g.number_of_nodes()) + self._deferred_block_count

    def get(self, block_id: str) -> Block | None:
        if self._deferred_blocks:
            self._load_blocks(path_of(block_id))
        data = self._g._node.get(block_id)
        return None if data is None else data["block"]

    def block(self, block_id: str) -> Block:
        found = self.get(block_id)
        if found is None:
            raise BlockNotFoundError(f"no block {block_id!r} in the graph")
        return found

    def blocks(self, kind: BlockKind | None = None) -> Iterator[Block]:
        self._load_all_blocks()
        for _, data in self._g.nodes(data=True):
            block: Block = data["block"]
            if kind is None or block.kind is kind:
                yield block

    def paths(self) -> list[str]:
        return sorted(self._by_path.keys() | self._deferred_blocks.keys())

    def blocks_in(self, path: str) -> list[Block]:
        self._load_blocks(path)
        return sorted(
            (self.block(i) for i in self._by_path.get(path, [])), key=lambda b: b.start_byte
        )

    def module_block(self, path: str) -> Block | None:
        return self.get(path)

    # -- relations -----------------------------------------------------------------------

    def edges(self, relation: Relation | None = None) -> Iterator[Edge]:
        self._load_all()
        for source, target, key, data in self._g.edges(keys=True, data=True):
            if relation is None or key is relation:
                yield Edge(source, target, key, data["line"], data["stale"])

    def edge_count(self) -> int:
        return sum(self._relations.values()) + sum(self._deferred_relations.values())

    def relation_counts(self) -> dict[str, int]:
        """Edges per relation name."""
        counts = self._relations + self._deferred_relations  # `+` drops the zeros
        return {relation.value: n for relation, n in counts.items()}

    def kind_counts(self) -> dict[str, int]:
        counts = self._kinds + self._deferred_kinds  # `+` drops the zeros
        return {kind.value: n for kind, n in counts.items()}

    def unresolved_count(self) -> int:
        return sum(len(refs) for refs in self._unresolved.values()) + self._deferred_refs

    def unresolved(self, block_id: str | None = None) -> list[UnresolvedRef]:
        if block_id is not None:
            self._load(path_of(block_id))
            return list(self._unresolved.get(block_id, []))
        self._load_all()
        return [ref for refs in self._unresolved.values() for ref in refs]

    def incident(self, block_id: str, *, inverse: bool = False) -> list[Edge]:
        """The edges out of `block_id` (into it, with `inverse`), as the graph holds them."""
        if block_id not in self:
            return []
        if inverse:
            self._load_into(path_of(block_id))
            view = self._g.in_edges(block_id, keys=True, data=True)
        else:
            self._load(path_of(block_id))
            view = self._g.out_edges(block_id, keys=True, data=True)
        return [
            Edge(source, target, relation, data["line"], data["stale"])
            for source, target, relation, data in view
        ]

    def ids_in(self, path: str) -> list[str]:
        """The ids of the blocks of `path`, in the order they were added."""
        self._load_blocks(path)
        return list(self._by_path.get(path, []))
