"""From changed files to impacted blocks on the planner's live graph, where blocks an edit
removed live on as targets of stale edges."""

from __future__ import annotations

from pathlib import Path

from codeplan.graph import GraphOptions, build_graph
from codeplan.impact.rules import DEFAULT_RULES
from codeplan.plan.propagation import FileChange, update_graph

UTILS = '''def safecall(func):
    """Wraps a function so that it swallows exceptions."""

    def wrapper(*args):
        try:
            return func(*args)
        except Exception:
            return None

    return wrapper
'''
TYPES = "from .utils import safecall\n\n\ndef convert(value):\n    return safecall(int)(value)\n"


def test_a_rename_is_one_rename_though_the_old_block_lives_on_for_its_stale_edges(
    tmp_path: Path,
) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "utils.py").write_text(UTILS)
    (package / "types.py").write_text(TYPES)
    builder = build_graph(tmp_path, GraphOptions(use_cache=False))
    renamed = UTILS.replace("def safecall(", "def _safecall(").replace(
        "exceptions.", "exceptions.\n\n    :meta private:\n    "
    )
    report = update_graph(
        builder,
        [FileChange("pkg/utils.py", UTILS.encode(), renamed.encode())],
        DEFAULT_RULES,
    )
    # `safecall` is kept in the graph for the stale edges of types.py, not in the file
    assert "pkg/utils.py::safecall" in builder.graph
    assert [b.qualname for b in builder.current_blocks("pkg/utils.py")] == [
        "",
        "_safecall",
        "_safecall.wrapper",
    ]
    assert [
        (c.change.kind.value, c.change.old.qualname) for c in report.changes if c.change.old
    ] == [("renamed", "safecall")]
    assert {i.block.id for i in report.impacted} == {
        "pkg/types.py::import:safecall",
        "pkg/types.py::convert",
    }
    assert builder.block_at("pkg/utils.py", 1).qualname == "_safecall"  # type: ignore[union-attr]
