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
    "build_graph",
]
