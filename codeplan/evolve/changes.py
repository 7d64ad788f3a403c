"""The production side of a change, block by block, as the test updater shows it."""

from __future__ import annotations

from pathlib import Path

from codeplan.edit.apply import block_text
from codeplan.evolve.model import ProductionChange
from codeplan.graph.model import BlockKind
from codeplan.graph.python import PythonAnalyzer
from codeplan.impact.diff import diff_blocks
from codeplan.impact.states import RepositoryStates
from codeplan.validate.parsers import is_test_path

_SHOWN_KINDS = (BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.CLASS, BlockKind.FIELD)


def production_changes(
    root: Path, base: str = "HEAD", head: str | None = None
) -> list[ProductionChange]:
    """Changed production blocks (not tests) from `base` to `head` (None: the working
    tree), with their text before and after (empty for an added or deleted block)."""
    states = RepositoryStates(root)
    old, new = states.revision(base), states.revision(head)
    analyzer = PythonAnalyzer()
    found: list[ProductionChange] = []
    for path in states.changed_paths(old, new):
        if not path.endswith(".py") or is_test_path(path):
            continue
        before = states.contents(old, path) or b""
        after = states.contents(new, path) or b""
        old_blocks = analyzer.extract(path, before).blocks if before else ()
        new_blocks = analyzer.extract(path, after).blocks if after else ()
        for change in diff_blocks(old_blocks, new_blocks, {path: before}, {path: after}):
            block = change.block
            if block.kind not in _SHOWN_KINDS:
                continue
            found.append(
                ProductionChange(
                    path=path,
                    qualname=(change.old or block).qualname,
                    before=block_text(before, change.old) if change.old else "",
                    after=block_text(after, change.new) if change.new else "",
                )
            )
    return found
