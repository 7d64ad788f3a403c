"""Stage 1 of the pipeline: the repository's dependency graph."""

from codeplan.graph.builder import GraphBuilder, build_graph
from codeplan.graph.codegraph import CodeGraph, Related
from codeplan.graph.files import SkippedFile
from codeplan.graph.model import Block, BlockKind, Edge, Relation, UnresolvedRef
from codeplan.graph.reports import BuildReport, GraphOptions, UpdateReport

__all__ = [
    "Block",
    "BlockKind",
    "BuildReport",
    "CodeGraph",
    "Edge",
    "GraphBuilder",
    "GraphOptions",
    "Related",
    "Relation",
    "SkippedFile",
    "UnresolvedRef",
    "UpdateReport",
    "analysis_build",
    "analysis_compiled",
    "build_graph",
]


def analysis_compiled() -> bool:
    """Whether this install runs the Python analysis compiled with mypyc (a wheel built by
    hatch_build.py) rather than from its sources, about a quarter slower."""
    from codeplan.graph.python import extract

    return not extract.__file__.endswith(".py")


def analysis_build() -> str:
    """`analysis_compiled`, said to a user (`codeplan --version`, the benchmarks)."""
    return "compiled with mypyc" if analysis_compiled() else "pure Python"
