"""The queryable dependency graph.  The rest of CodePlan uses this API, never networkx
(store.py holds the graph)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from codeplan.graph.model import Block, Edge, Relation, UnresolvedRef
from codeplan.graph.store import GraphStore


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


class CodeGraph(GraphStore):
    """Blocks as nodes, relations as edges (one per source, target and relation), and the
    questions the rest of CodePlan asks about them (see GraphStore for how they are held
    and loaded)."""

    def find(self, name: str) -> list[Block]:
        """Blocks named by `PATH::QUALNAME`, `QUALNAME`, `module.QUALNAME` or a path."""
        if name in self:
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

    def related(
        self,
        block_id: str,
        relations: Iterable[Relation] | None = None,
        *,
        inverse: bool = False,
        include_stale: bool = True,
    ) -> list[Related]:
        """Neighbours of a block through `relations` (all if None), forward or inverse."""
        wanted = set(relations) if relations is not None else None
        found = [
            Related(self.block(source if inverse else target), relation, inverse, stale, line)
            for source, target, relation, line, stale in self.incident(block_id, inverse=inverse)
            if (wanted is None or relation in wanted) and (include_stale or not stale)
        ]
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

    def users_of_external(self, dotted_prefix: str) -> list[Block]:
        """Blocks referring to an external module or symbol (`requests`, `logging.getLogger`)."""
        hits = {
            ref.source
            for ref in self.unresolved()
            if ref.name == dotted_prefix or ref.name.startswith(dotted_prefix + ".")
        }
        return sorted((self.block(h) for h in hits if h in self), key=lambda b: b.id)

    def neighbourhood(self, paths: Iterable[str]) -> CodeGraph:
        """A copy of the blocks of `paths`, their neighbours and the edges that touch them.

        The planner keeps one graph and updates it in place; before an edit it takes this
        small copy as the "graph before" (D in the CodePlan paper) for impact analysis,
        which only ever looks at the edited file's blocks and their relations.
        """
        copy = CodeGraph()
        own = [block_id for path in paths for block_id in self.ids_in(path)]
        for block_id in own:
            copy.add_block(self.block(block_id))
            for edge in (*self.incident(block_id), *self.incident(block_id, inverse=True)):
                copy.add_block(self.block(edge.source))
                copy.add_block(self.block(edge.target))
                copy.add_edge(edge)
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
