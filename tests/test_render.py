"""Renderers over a hand-built graph, so each expected output can be read and checked."""

from __future__ import annotations

import io
from pathlib import Path

import networkx as nx
from rich.console import Console, RenderableType

from codeplan.graph import BuildReport
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.files import SkippedFile
from codeplan.graph.model import Block, BlockKind, Edge, Relation, UnresolvedRef, block_id
from codeplan.graph.render import (
    block_label,
    block_tree,
    graph_to_dot,
    graph_to_json,
    summary_table,
    write_graphml,
)

SHAPES = "pkg/shapes.py"
REPORT = "pkg/report.py"


def make_block(path: str, qualname: str, kind: BlockKind, line: int, end: int) -> Block:
    return Block(
        id=block_id(path, qualname),
        kind=kind,
        language="python",
        path=path,
        module=path.removesuffix(".py").replace("/", "."),
        qualname=qualname,
        start_line=line,
        end_line=end,
        start_byte=line * 10,
        end_byte=end * 10,
        signature="",
        content_hash="0",
    )


def sample_graph() -> CodeGraph:
    """shapes.py: Shape, Square(Shape) overriding area, make_square(); report.py: total()."""
    graph = CodeGraph()
    for block in (
        make_block(SHAPES, "", BlockKind.MODULE, 1, 12),
        make_block(SHAPES, "Shape", BlockKind.CLASS, 1, 3),
        make_block(SHAPES, "Shape.area", BlockKind.METHOD, 2, 3),
        make_block(SHAPES, "Square", BlockKind.CLASS, 6, 8),
        make_block(SHAPES, "Square.area", BlockKind.METHOD, 7, 8),
        make_block(SHAPES, "make_square", BlockKind.FUNCTION, 11, 12),
        make_block(REPORT, "", BlockKind.MODULE, 1, 6),
        make_block(REPORT, "total", BlockKind.FUNCTION, 4, 6),
    ):
        graph.add_block(block)
    for edge in (
        Edge(SHAPES, f"{SHAPES}::Shape", Relation.PARENT_OF),
        Edge(f"{SHAPES}::Shape", f"{SHAPES}::Square", Relation.BASE_CLASS_OF),
        Edge(f"{SHAPES}::Square.area", f"{SHAPES}::Shape.area", Relation.OVERRIDES),
        Edge(f"{SHAPES}::make_square", f"{SHAPES}::Square", Relation.INSTANTIATES, 12),
        Edge(f"{REPORT}::total", f"{SHAPES}::make_square", Relation.CALLS, 5),
        Edge(f"{REPORT}::total", f"{SHAPES}::Square.area", Relation.CALLS, 5, stale=True),
    ):
        graph.add_edge(edge)
    graph.set_unresolved(
        f"{REPORT}::total",
        [
            UnresolvedRef(f"{REPORT}::total", "print", 6, "call"),
            UnresolvedRef(f"{REPORT}::total", "math.fsum", 5, "call"),
        ],
    )
    return graph


def render(renderable: RenderableType) -> str:
    console = Console(record=True, width=100, file=io.StringIO())
    console.print(renderable)
    # Rich pads a table's title to the table's width; the padding is not worth asserting.
    return "".join(line.rstrip() + "\n" for line in console.export_text().splitlines())


def test_graph_to_json_is_sorted_and_marks_only_stale_edges() -> None:
    data = graph_to_json(sample_graph())
    assert [n["id"] for n in data["nodes"]] == [
        REPORT,
        f"{REPORT}::total",
        SHAPES,
        f"{SHAPES}::Shape",
        f"{SHAPES}::Shape.area",
        f"{SHAPES}::Square",
        f"{SHAPES}::Square.area",
        f"{SHAPES}::make_square",
    ]
    assert data["nodes"][1] == {
        "id": "pkg/report.py::total",
        "kind": "function",
        "language": "python",
        "path": "pkg/report.py",
        "module": "pkg.report",
        "qualname": "total",
        "start_line": 4,
        "end_line": 6,
    }
    assert data["edges"] == [
        {
            "source": "pkg/report.py::total",
            "target": "pkg/shapes.py::Square.area",
            "relation": "Calls",
            "stale": True,
        },
        {
            "source": "pkg/report.py::total",
            "target": "pkg/shapes.py::make_square",
            "relation": "Calls",
        },
        {"source": "pkg/shapes.py", "target": "pkg/shapes.py::Shape", "relation": "ParentOf"},
        {
            "source": "pkg/shapes.py::Shape",
            "target": "pkg/shapes.py::Square",
            "relation": "BaseClassOf",
        },
        {
            "source": "pkg/shapes.py::Square.area",
            "target": "pkg/shapes.py::Shape.area",
            "relation": "Overrides",
        },
        {
            "source": "pkg/shapes.py::make_square",
            "target": "pkg/shapes.py::Square",
            "relation": "Instantiates",
        },
    ]


def test_graph_to_json_is_deterministic_whatever_the_insertion_order() -> None:
    forward = sample_graph()
    backward = CodeGraph()
    for block in reversed(list(forward.blocks())):
        backward.add_block(block)
    for edge in reversed(list(forward.edges())):
        backward.add_edge(edge)
    assert graph_to_json(backward) == graph_to_json(forward)


def test_graph_to_dot_quotes_ids_and_clusters_files() -> None:
    dot = graph_to_dot(sample_graph())
    lines = dot.splitlines()
    assert lines[0] == 'digraph "codeplan" {'
    assert lines[-1] == "}"
    assert '  subgraph "cluster_1" {' in lines
    assert '    label="pkg/shapes.py";' in lines
    assert '    "pkg/shapes.py::Square" [label="Square\\n(class)", shape=box];' in lines
    assert '  "pkg/report.py::total" -> "pkg/shapes.py::make_square" [label="Calls"];' in lines
    assert (
        '  "pkg/report.py::total" -> "pkg/shapes.py::Square.area" '
        '[label="Calls", style=dashed, color="red", fontcolor="red"];'
    ) in lines
    assert sum(" -> " in line for line in lines) == 6
    assert dot.count("{") == dot.count("}")


def test_graph_to_dot_without_clusters_and_with_awkward_names() -> None:
    graph = CodeGraph()
    graph.add_block(make_block('odd "dir"\\x.py', "f", BlockKind.FUNCTION, 1, 2))
    dot = graph_to_dot(graph, clusters=False)
    assert "subgraph" not in dot
    assert '  "odd \\"dir\\"\\\\x.py::f" [label="f\\n(function)", shape=ellipse];' in dot


def test_write_graphml_round_trips_through_networkx(tmp_path: Path) -> None:
    target = tmp_path / "graph.graphml"
    write_graphml(sample_graph(), target)
    loaded = nx.read_graphml(target, force_multigraph=True)
    assert loaded.number_of_nodes() == 8
    assert loaded.number_of_edges() == 6
    assert loaded.nodes["pkg/shapes.py::Square"]["kind"] == "class"
    assert loaded.nodes["pkg/shapes.py::Square"]["start_line"] == 6
    calls = loaded.get_edge_data("pkg/report.py::total", "pkg/shapes.py::Square.area")
    assert [(d["relation"], d["line"], d["stale"]) for d in calls.values()] == [("Calls", 5, True)]


def test_block_label() -> None:
    graph = sample_graph()
    assert (
        block_label(graph.block(f"{SHAPES}::Square.area")) == "pkg/shapes.py:7 Square.area (method)"
    )
    assert block_label(graph.block(SHAPES)) == "pkg/shapes.py:1 pkg.shapes (module)"


def test_block_tree_shows_both_directions_stale_edges_and_unresolved_references() -> None:
    graph = sample_graph()
    assert render(block_tree(graph, f"{REPORT}::total")) == (
        "pkg/report.py:4 total (function)\n"
        "├── Calls (2)\n"
        "│   ├── pkg/shapes.py:7 Square.area (method) [stale]\n"
        "│   └── pkg/shapes.py:11 make_square (function)\n"
        "└── Unresolved (2)\n"
        "    ├── math.fsum (call, line 5)\n"
        "    └── print (call, line 6)\n"
    )
    assert render(block_tree(graph, graph.block(f"{SHAPES}::Square"))) == (
        "pkg/shapes.py:6 Square (class)\n"
        "├── DerivedClassOf (1)\n"
        "│   └── pkg/shapes.py:1 Shape (class)\n"
        "└── InstantiatedBy (1)\n"
        "    └── pkg/shapes.py:11 make_square (function)\n"
    )
    assert render(block_tree(graph, f"{SHAPES}::Shape")) == (
        "pkg/shapes.py:1 Shape (class)\n"
        "├── BaseClassOf (1)\n"
        "│   └── pkg/shapes.py:6 Square (class)\n"
        "└── ChildOf (1)\n"
        "    └── pkg/shapes.py:1 pkg.shapes (module)\n"
    )
    assert (
        render(block_tree(graph, REPORT))
        == "pkg/report.py:1 pkg.report (module)\n└── no relations\n"
    )


def test_summary_table() -> None:
    report = BuildReport(
        root="/repo",
        files=5,
        files_by_language={"python": 4, "javascript": 1},
        blocks_by_kind={"function": 7, "module": 5, "class": 2},
        edges_by_relation={"Calls": 9, "ParentOf": 14},
        unresolved=3,
        skipped=(
            SkippedFile("big.py", "too-large"),
            SkippedFile("blob.js", "binary"),
            SkippedFile("huge.py", "too-large"),
        ),
        syntax_errors=(("pkg/broken.py", (3, 9)), ("a.py", (1,))),
        parsed=4,
        cached=1,
        resolved=2,
        seconds=0.4251,
    )
    assert render(summary_table(report)) == (
        "Dependency graph of /repo\n"
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┓\n"
        "┃ Item                         ┃  Count ┃\n"
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━┩\n"
        "│ Files                        │      5 │\n"
        "│   python                     │      4 │\n"
        "│   javascript                 │      1 │\n"
        "├──────────────────────────────┼────────┤\n"
        "│ Blocks                       │     14 │\n"
        "│   module                     │      5 │\n"
        "│   class                      │      2 │\n"
        "│   function                   │      7 │\n"
        "├──────────────────────────────┼────────┤\n"
        "│ Edges                        │     23 │\n"
        "│   ParentOf                   │     14 │\n"
        "│   Calls                      │      9 │\n"
        "├──────────────────────────────┼────────┤\n"
        "│ Unresolved references        │      3 │\n"
        "├──────────────────────────────┼────────┤\n"
        "│ Skipped files                │      3 │\n"
        "│   binary                     │      1 │\n"
        "│   too-large                  │      2 │\n"
        "├──────────────────────────────┼────────┤\n"
        "│ Files with syntax errors     │      2 │\n"
        "│   a.py (line 1)              │        │\n"
        "│   pkg/broken.py (lines 3, 9) │        │\n"
        "├──────────────────────────────┼────────┤\n"
        "│ Files parsed / cached        │  4 / 1 │\n"
        "│ Files resolved               │      2 │\n"
        "│ Time                         │ 0.43 s │\n"
        "└──────────────────────────────┴────────┘\n"
    )
