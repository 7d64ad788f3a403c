"""What a graph build is asked to do (`GraphOptions`) and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codeplan.graph.files import SkippedFile


@dataclass(frozen=True)
class GraphOptions:
    use_cache: bool = True
    cache_dir: Path | None = None  # default: <root>/.codeplan
    max_file_bytes: int = 2_000_000
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] | None = None  # None: every language CodePlan knows
    workers: int = 0  # processes for extraction and resolution; 0: one per CPU core


@dataclass(frozen=True)
class BuildReport:
    root: str
    files: int
    files_by_language: dict[str, int]
    blocks_by_kind: dict[str, int]
    edges_by_relation: dict[str, int]
    unresolved: int
    skipped: tuple[SkippedFile, ...]
    syntax_errors: tuple[tuple[str, tuple[int, ...]], ...]
    parsed: int  # files extracted in this run
    cached: int  # files whose facts came from the cache
    resolved: int  # files resolved in this run (the rest reused cached resolutions)
    seconds: float

    @property
    def blocks(self) -> int:
        return sum(self.blocks_by_kind.values())

    @property
    def edges(self) -> int:
        return sum(self.edges_by_relation.values())


@dataclass(frozen=True)
class UpdateReport:
    path: str
    interface_changed: bool
    reresolved: tuple[str, ...]
    added_blocks: tuple[str, ...]
    removed_blocks: tuple[str, ...]
    stale_edges: int
    seconds: float
