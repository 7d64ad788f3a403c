"""The queryable dependency graph.  The rest of CodePlan uses this API, never networkx."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from codeplan.errors import BlockNotFoundError
from codeplan.graph.gcpause import collector_paused
from codeplan.graph.model import Block, BlockKind, Edge, Relation, UnresolvedRef, path_of
from codeplan.graph.records import FileResolution, PackedEdges, PackedRefs


@dataclass(frozen=True)
class Related:
    """A neighbour reached through one relation, forward or inverse."""

    block: Block
    relation: Relation
    inverse: bool
    stale: bool
    line: int

    @property
    def relation_name(self) -> str:
        return self.relation.inverse_name if self.inverse else self.relation.value


class CodeGraph:
    """Blocks as nodes, relations as edges (one per source, target and relation).

    A file's resolution can be added packed (`add_resolution`): its edges and unresolved
    references enter the graph when a query first needs them.  A query about a block's
    outgoing edges or references loads its file's; one about its incoming edges loads
    those of every file with edges into its file; whole-graph queries load everything.
    A cached build of a large repository so costs what its queries touch, not a quarter
    of a million edges up front, and every answer is the one a fully loaded graph gives
    (tests check this).
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
        # file; and the counts of what they hold, which the graph's counts include
        self._deferred: dict[str, tuple[PackedEdges, PackedRefs]] = {}
        self._deferred_into: dict[str, set[str]] = {}
        self._deferred_relations: Counter[Relation] = Counter()
        self._deferred_refs = 0

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

    def add_resolution(self, resolution: FileResolution) -> None:
        """Add the edges and unresolved references of one file's resolution, into blocks
        already added.  Packed ones not yet decoded wait until a query needs them."""
        self._load(resolution.path)
        edges, refs = resolution.edges, resolution.unresolved
        if isinstance(edges, PackedEdges) and not edges.decoded and isinstance(refs, PackedRefs):
            self._deferred[resolution.path] = edges, refs
            for target_path in edges.targets:
                self._deferred_into.setdefault(target_path, set()).add(resolution.path)
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

    def _fill(self, edges: Iterable[Edge], refs: Iterable[UnresolvedRef]) -> None:
        self._fill_edges(edges)
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
        deferred = self._undefer(path)
        if deferred is not None:
            edges, refs = deferred
            self._fill(edges.decode(), refs.decode())

    def _load_into(self, path: str) -> None:
        sources = self._deferred_into.pop(path, ())
        if not sources:
            return
        with collector_paused(freeze=True):  # as a build does: see gcpause
            for source_path in sorted(sources):
                self._load(source_path)

    def _load_around(self, block_id: str) -> None:
        """Load every edge from or to `block_id`."""
        if self._deferred:
            path = path_of(block_id)
            self._load(path)
            self._load_into(path)

    def _load_all(self) -> None:
        if self._deferred:
            with collector_paused(freeze=True):
                for path in sorted(self._deferred):
                    self._load(path)
        self._deferred_into.clear()

    def _fill_edges(self, edges: Iterable[Edge]) -> None:
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
        if edge.source not in self._g or edge.target not in self._g:
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
        return block_id in self._g

    def __len__(self) -> int:
        return int(self._g.number_of_nodes())

    def get(self, block_id: str) -> Block | None:
        data = self._g.nodes.get(block_id)
        return None if data is None else data["block"]

    def block(self, block_id: str) -> Block:
        found = self.get(block_id)
        if found is None:
            raise BlockNotFoundError(f"no block {block_id!r} in the graph")
        return found

    def blocks(self, kind: BlockKind | None = None) -> Iterator[Block]:
        for _, data in self._g.nodes(data=True):
            block: Block = data["block"]
            if kind is None or block.kind is kind:
                yield block

    def paths(self) -> list[str]:
        return sorted(self._by_path)

    def blocks_in(self, path: str) -> list[Block]:
        return sorted(
            (self.block(i) for i in self._by_path.get(path, [])), key=lambda b: b.start_byte
        )

    def module_block(self, path: str) -> Block | None:
        return self.get(path)

    def find(self, name: str) -> list[Block]:
        """Blocks named by `PATH::QUALNAME`, `QUALNAME`, `module.QUALNAME` or a path."""
        if name in self._g:
            return [self.block(name)]
        if "::" in name:
            return []
        matches = [
            b
            for b in self.blocks()
            if b.qualname == name
            or (b.qualname and f"{b.module}.{b.qualname}" == name)
            or (not b.qualname and b.module == name)
        ]
        if not matches:  # a unique suffix, e.g. "method" or "Class.method"
            matches = [b for b in self.blocks() if b.qualname.endswith("." + name)]
        return sorted(matches, key=lambda b: b.id)

    def block_at(self, path: str, line: int) -> Block | None:
        """The innermost block of `path` containing `line` (for mapping diagnostics)."""
        return innermost_at(self.blocks_in(path), line)

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
        return {kind.value: n for kind, n in self._kinds.items() if n}

    def unresolved_count(self) -> int:
        return sum(len(refs) for refs in self._unresolved.values()) + self._deferred_refs

    def related(
        self,
        block_id: str,
        relations: Iterable[Relation] | None = None,
        *,
        inverse: bool = False,
        include_stale: bool = True,
    ) -> list[Related]:
        """Neighbours of a block through `relations` (all if None), forward or inverse."""
        if block_id not in self._g:
            return []
        if inverse:
            self._load_into(path_of(block_id))
        else:
            self._load(path_of(block_id))
        wanted = set(relations) if relations is not None else None
        view = (
            self._g.in_edges(block_id, keys=True, data=True)
            if inverse
            else self._g.out_edges(block_id, keys=True, data=True)
        )
        found = []
        for source, target, key, data in view:
            if wanted is not None and key not in wanted:
                continue
            if data["stale"] and not include_stale:
                continue
            other = source if inverse else target
            found.append(Related(self.block(other), key, inverse, data["stale"], data["line"]))
        found.sort(key=lambda r: (r.relation.value, r.block.id))
        return found

    def _neighbours(self, block_id: str, relation: Relation, *, inverse: bool) -> list[Block]:
        return [r.block for r in self.related(block_id, (relation,), inverse=inverse)]

    def callers(self, block_id: str) -> list[Block]:
        return self._neighbours(block_id, Relation.CALLS, inverse=True)

    def callees(self, block_id: str) -> list[Block]:
        return self._neighbours(block_id, Relation.CALLS, inverse=False)

    def instantiators(self, class_id: str) -> list[Block]:
        return self._neighbours(class_id, Relation.INSTANTIATES, inverse=True)

    def overriders(self, method_id: str) -> list[Block]:
        return self._neighbours(method_id, Relation.OVERRIDES, inverse=True)

    def overridden(self, method_id: str) -> list[Block]:
        return self._neighbours(method_id, Relation.OVERRIDES, inverse=False)

    def subclasses(self, class_id: str) -> list[Block]:
        return self._neighbours(class_id, Relation.BASE_CLASS_OF, inverse=False)

    def superclasses(self, class_id: str) -> list[Block]:
        return self._neighbours(class_id, Relation.BASE_CLASS_OF, inverse=True)

    def users_of(self, field_id: str) -> list[Block]:
        return self._neighbours(field_id, Relation.USES, inverse=True)

    def fields_used(self, block_id: str) -> list[Block]:
        return self._neighbours(block_id, Relation.USES, inverse=False)

    def importers(self, block_id: str) -> list[Block]:
        return self._neighbours(block_id, Relation.IMPORTS, inverse=True)

    def constructor(self, class_id: str) -> Block | None:
        found = self._neighbours(class_id, Relation.CONSTRUCTS, inverse=True)
        return found[0] if found else None

    def children(self, block_id: str) -> list[Block]:
        kids = self._neighbours(block_id, Relation.PARENT_OF, inverse=False)
        return sorted(kids, key=lambda b: b.start_byte)

    def parent(self, block_id: str) -> Block | None:
        found = self._neighbours(block_id, Relation.PARENT_OF, inverse=True)
        return found[0] if found else None

    def unresolved(self, block_id: str | None = None) -> list[UnresolvedRef]:
        if block_id is not None:
            self._load(path_of(block_id))
            return list(self._unresolved.get(block_id, []))
        self._load_all()
        return [ref for refs in self._unresolved.values() for ref in refs]

    def users_of_external(self, dotted_prefix: str) -> list[Block]:
        """Blocks referring to an external module or symbol (`requests`, `logging.getLogger`)."""
        hits = {
            ref.source
            for ref in self.unresolved()
            if ref.name == dotted_prefix or ref.name.startswith(dotted_prefix + ".")
        }
        return sorted((self.block(h) for h in hits if h in self._g), key=lambda b: b.id)

    def neighbourhood(self, paths: Iterable[str]) -> CodeGraph:
        """A copy of the blocks of `paths`, their neighbours and the edges that touch them.

        The planner keeps one graph and updates it in place; before an edit it takes this
        small copy as the "graph before" (D in the CodePlan paper) for impact analysis,
        which only ever looks at the edited file's blocks and their relations.
        """
        copy = CodeGraph()
        paths = list(paths)
        for path in paths:
            self._load(path)
            self._load_into(path)
        own = [block_id for path in paths for block_id in self._by_path.get(path, [])]
        for block_id in own:
            copy.add_block(self.block(block_id))
            for source, target, key, data in (
                *self._g.out_edges(block_id, keys=True, data=True),
                *self._g.in_edges(block_id, keys=True, data=True),
            ):
                copy.add_block(self.block(source))
                copy.add_block(self.block(target))
                copy.add_edge(Edge(source, target, key, data["line"], data["stale"]))
        for block_id in own:
            copy.set_unresolved(block_id, self.unresolved(block_id))
        return copy

    # -- comparison ------------------------------------------------------------------------

    def snapshot(self) -> tuple[frozenset[Block], frozenset[Edge], frozenset[UnresolvedRef]]:
        """A value that is equal for two graphs with the same blocks, edges and refs."""
        return (
            frozenset(self.blocks()),
            frozenset(self.edges()),
            frozenset(self.unresolved()),
        )


def innermost_at(blocks: Iterable[Block], line: int) -> Block | None:
    """The smallest of `blocks` whose lines contain `line`."""
    best: Block | None = None
    for block in blocks:
        if block.start_line <= line <= block.end_line and (
            best is None or block.end_byte - block.start_byte <= best.end_byte - best.start_byte
        ):
            best = block
    return best
