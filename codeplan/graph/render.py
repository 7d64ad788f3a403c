"""Pure renderers for the dependency graph: JSON, Graphviz DOT, GraphML and rich views.

Nothing here prints.  Functions return plain data, strings or rich renderables; the CLI
(or a notebook, or a test with `Console(record=True)`) decides where they go.  Only
`write_graphml` touches the file system, because networkx writes GraphML to a file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from codeplan.graph.codegraph import CodeGraph, Related
from codeplan.graph.model import Block, BlockKind, Edge, Relation

if TYPE_CHECKING:
    from codeplan.graph.reports import BuildReport

__all__ = [
    "block_label",
    "block_tree",
    "graph_to_dot",
    "graph_to_json",
    "graph_to_networkx",
    "summary_table",
    "write_graphml",
]

# How many files with syntax errors the summary names before it says "and N more".
_MAX_LISTED_SYNTAX_ERRORS = 10


# -- plain data ------------------------------------------------------------------------------


def _node_json(block: Block) -> dict[str, Any]:
    return {
        "id": block.id,
        "kind": block.kind.value,
        "language": block.language,
        "path": block.path,
        "module": block.module,
        "qualname": block.qualname,
        "start_line": block.start_line,
        "end_line": block.end_line,
    }


def _edge_sort_key(edge: Edge) -> tuple[str, str, str]:
    return (edge.source, edge.target, edge.relation.value)


def graph_to_json(graph: CodeGraph) -> dict[str, Any]:
    """The graph as `{"nodes": [...], "edges": [...]}`, sorted so equal graphs give equal JSON.

    Nodes carry id, kind, language, path, module, qualname, start_line and end_line; edges
    carry source, target and the forward relation name ("Calls", "BaseClassOf", ...), plus
    `"stale": true` only for an edge kept after its target changed.
    """
    nodes = [_node_json(b) for b in sorted(graph.blocks(), key=lambda b: b.id)]
    edges: list[dict[str, Any]] = []
    for edge in sorted(graph.edges(), key=_edge_sort_key):
        entry: dict[str, Any] = {
            "source": edge.source,
            "target": edge.target,
            "relation": edge.relation.value,
        }
        if edge.stale:
            entry["stale"] = True
        edges.append(entry)
    return {"nodes": nodes, "edges": edges}


def graph_to_networkx(graph: CodeGraph) -> nx.MultiDiGraph:
    """A fresh networkx copy of the graph (node and edge attributes are plain scalars).

    This is a copy built through the public `CodeGraph` API; changing it does not change
    the CodeGraph.
    """
    copy = nx.MultiDiGraph()
    for block in sorted(graph.blocks(), key=lambda b: b.id):
        attributes = _node_json(block)
        del attributes["id"]
        copy.add_node(block.id, **attributes)
    for edge in sorted(graph.edges(), key=_edge_sort_key):
        copy.add_edge(
            edge.source,
            edge.target,
            key=edge.relation.value,
            relation=edge.relation.value,
            line=edge.line,
            stale=edge.stale,
        )
    return copy


def write_graphml(graph: CodeGraph, path: Path | str) -> None:
    """Write the graph as GraphML (readable by networkx, Gephi, yEd, Cytoscape)."""
    nx.write_graphml(graph_to_networkx(graph), str(path))


# -- Graphviz ------------------------------------------------------------------------------

_KIND_SHAPES = {
    BlockKind.MODULE: "folder",
    BlockKind.CLASS: "box",
    BlockKind.FUNCTION: "ellipse",
    BlockKind.METHOD: "ellipse",
    BlockKind.FIELD: "note",
    BlockKind.IMPORT: "cds",
    BlockKind.STATEMENT: "plaintext",
}

_RELATION_STYLES = {
    Relation.PARENT_OF: 'style=dotted, color="gray50"',
    Relation.BASE_CLASS_OF: "arrowhead=empty",
    Relation.OVERRIDES: "arrowhead=empty, style=dashed",
}


def _dot_quote(text: str) -> str:
    """A DOT double-quoted string; `\\n` inside stays a line break in labels."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _dot_node(block: Block) -> str:
    label = _dot_quote(f"{block.qualname or block.module}\n({block.kind.value})")
    return f"{_dot_quote(block.id)} [label={label}, shape={_KIND_SHAPES[block.kind]}];"


def _dot_edge(edge: Edge) -> str:
    attributes = [f"label={_dot_quote(edge.relation.value)}"]
    if edge.relation in _RELATION_STYLES:
        attributes.append(_RELATION_STYLES[edge.relation])
    if edge.stale:
        # Later attributes win in Graphviz, so a stale edge is always red and dashed.
        attributes.append('style=dashed, color="red", fontcolor="red"')
    return f"{_dot_quote(edge.source)} -> {_dot_quote(edge.target)} [{', '.join(attributes)}];"


def graph_to_dot(graph: CodeGraph, *, clusters: bool = True, name: str = "codeplan") -> str:
    """The graph as a Graphviz digraph; with `clusters`, each file's blocks are boxed together.

    Every id is quoted, so paths and qualnames need no sanitising.  Stale edges are red and
    dashed.  Render with e.g. `dot -Tsvg graph.dot -o graph.svg`.
    """
    lines = [
        f"digraph {_dot_quote(name)} {{",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8];',
    ]
    by_path: dict[str, list[Block]] = {}
    for block in graph.blocks():
        by_path.setdefault(block.path, []).append(block)
    for index, path in enumerate(sorted(by_path)):
        blocks = sorted(by_path[path], key=lambda b: b.id)
        if clusters:
            lines.append(f"  subgraph {_dot_quote(f'cluster_{index}')} {{")
            lines.append(f"    label={_dot_quote(path)};")
            lines.extend(f"    {_dot_node(b)}" for b in blocks)
            lines.append("  }")
        else:
            lines.extend(f"  {_dot_node(b)}" for b in blocks)
    lines.extend(f"  {_dot_edge(e)}" for e in sorted(graph.edges(), key=_edge_sort_key))
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- rich views ------------------------------------------------------------------------------


def block_label(block: Block) -> str:
    """`path:line qualname (kind)`, the way every view names a block."""
    return f"{block.path}:{block.start_line} {block.qualname or block.module} ({block.kind.value})"


def _ordered(counts: Mapping[str, int], order: Iterable[str]) -> list[tuple[str, int]]:
    """Counts in a fixed vocabulary order first, then any unknown keys alphabetically."""
    known = [key for key in order if key in counts]
    rest = sorted(key for key in counts if key not in set(known))
    return [(key, counts[key]) for key in (*known, *rest)]


def _enum_values(enum: type[Enum]) -> list[str]:
    return [str(member.value) for member in enum]


def summary_table(report: BuildReport) -> Table:
    """The build report as one table: a total per section, then its breakdown."""
    title = f"Dependency graph of {report.root}"
    table = Table(title=title, title_justify="left")
    table.add_column("Item")
    table.add_column("Count", justify="right")
    counts: list[str] = ["Count"]

    def section(title: str, total: int, rows: Iterable[tuple[str, int | str]]) -> None:
        table.add_row(Text(title, style="bold"), str(total))
        counts.append(str(total))
        for label, value in rows:
            table.add_row(Text(f"  {label}"), str(value))
            counts.append(str(value))
        table.add_section()

    languages = sorted(report.files_by_language.items(), key=lambda kv: (-kv[1], kv[0]))
    section("Files", report.files, languages)
    kinds = _ordered(report.blocks_by_kind, _enum_values(BlockKind))
    section("Blocks", sum(n for _, n in kinds), kinds)
    relations = _ordered(report.edges_by_relation, _enum_values(Relation))
    section("Edges", sum(n for _, n in relations), relations)
    section("Unresolved references", report.unresolved, ())
    reasons = Counter(skipped.reason for skipped in report.skipped)
    section("Skipped files", len(report.skipped), sorted(reasons.items()))
    broken = sorted(report.syntax_errors)
    listed: list[tuple[str, int | str]] = [
        (f"{path} (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})", "")
        for path, lines in broken[:_MAX_LISTED_SYNTAX_ERRORS]
    ]
    if len(broken) > _MAX_LISTED_SYNTAX_ERRORS:
        listed.append((f"... and {len(broken) - _MAX_LISTED_SYNTAX_ERRORS} more", ""))
    section("Files with syntax errors", len(broken), listed)
    counts += [
        f"{report.parsed} / {report.cached}",
        str(report.resolved),
        f"{report.seconds:.2f} s",
    ]
    table.add_row("Files parsed / cached", counts[-3])
    table.add_row("Files resolved", counts[-2])
    table.add_row("Time", counts[-1])
    # Widen the first column so that a long root path in the title does not wrap; the
    # other 7 cells of width are the three borders and the two columns' padding.
    table.columns[0].min_width = len(title) - max(map(len, counts)) - 7
    return table


def _neighbour_label(related: Related) -> Text:
    text = Text(block_label(related.block))
    if related.stale:
        text.append(" [stale]", style="red")
    return text


def block_tree(graph: CodeGraph, block: Block | str) -> Tree:
    """A block and its neighbours, grouped by relation name (forward first, then inverse).

    Each neighbour reads `path:line qualname (kind)`; edges kept after their target changed
    are marked `[stale]`; references to things outside the repository close the tree.
    """
    root = graph.block(block) if isinstance(block, str) else block
    tree = Tree(Text(block_label(root), style="bold"))
    groups: list[tuple[str, list[Related]]] = []
    for inverse in (False, True):
        found = graph.related(root.id, inverse=inverse)
        for relation in Relation:
            members = [r for r in found if r.relation is relation]
            if members:
                members.sort(key=lambda r: (r.block.path, r.block.start_line, r.block.id))
                groups.append((members[0].relation_name, members))
    for name, members in groups:
        branch = tree.add(Text(f"{name} ({len(members)})", style="cyan"))
        for related in members:
            branch.add(_neighbour_label(related))
    unresolved = sorted(graph.unresolved(root.id), key=lambda u: (u.line, u.name, u.context))
    if unresolved:
        branch = tree.add(Text(f"Unresolved ({len(unresolved)})", style="yellow"))
        for ref in unresolved:
            branch.add(Text(f"{ref.name} ({ref.context}, line {ref.line})"))
    if not groups and not unresolved:
        tree.add(Text("no relations", style="dim"))
    return tree
