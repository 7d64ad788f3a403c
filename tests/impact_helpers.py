"""Shared set-up of the impact tests: a small repository before and after some edits."""

from __future__ import annotations

from pathlib import Path

from codeplan.graph import GraphOptions, build_graph
from codeplan.impact import ImpactReport, analyze_impact, diff_blocks
from codeplan.impact.callsites import file_reader


def impact(
    tmp_path: Path,
    base: dict[str, str],
    edits: dict[str, tuple[str, str]],
    *,
    screen: bool = False,
) -> ImpactReport:
    """The impact of `edits` ({path: (find, replace)}) on the files `base` ({path: text}),
    written under `tmp_path`/old and `tmp_path`/new; `screen` reads the new sources to
    screen callers of a changed signature by their call sites."""
    old_root, new_root = tmp_path / "old", tmp_path / "new"
    for root in (old_root, new_root):
        for path, text in base.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
    for path, (find, replace) in edits.items():
        text = (new_root / path).read_text()
        assert find in text
        (new_root / path).write_text(text.replace(find, replace))
    old = build_graph(old_root, GraphOptions(use_cache=False))
    new = build_graph(new_root, GraphOptions(use_cache=False))
    old_sources = {p: (old_root / p).read_bytes() for p in base}
    new_sources = {p: (new_root / p).read_bytes() for p in base}
    changed = [p for p in base if old_sources[p] != new_sources[p]]
    changes = diff_blocks(
        [b for p in changed for b in old.graph.blocks_in(p)],
        [b for p in changed for b in new.graph.blocks_in(p)],
        old_sources,
        new_sources,
    )
    read = file_reader(new_root) if screen else None
    return analyze_impact(old.graph, new.graph, changes, old_sources, new_sources, read_source=read)
