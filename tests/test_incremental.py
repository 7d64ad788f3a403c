"""Incremental updates must give exactly the graph a full rebuild gives.

The code under edit is real: the `typer` package (a dependency of CodePlan, so it is
installed) copied into a temporary repository.  Hypothesis draws sequences of edits that
change bodies, signatures, names, imports and bases, or break the syntax.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.codegraph import CodeGraph

NO_CACHE = GraphOptions(use_cache=False)
_DEF = re.compile(r"^([ \t]*)def (\w+)\(", re.MULTILINE)
_CLASS = re.compile(r"^class (\w+)(\(([^)]*)\))?:", re.MULTILINE)


@pytest.fixture(scope="module")
def real_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    source = Path(typer.__file__).parent
    shutil.copytree(source, root / "typer", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _edit(text: str, kind: str, pick: int, other: str) -> str:
    defs = list(_DEF.finditer(text))
    classes = list(_CLASS.finditer(text))
    if kind == "rename" and defs:
        m = defs[pick % len(defs)]
        return text[: m.start(2)] + m.group(2) + "_renamed" + text[m.end(2) :]
    if kind == "body" and defs:
        m = defs[pick % len(defs)]
        line_end = text.index("\n", m.end())
        # a statement at the start of the body: calls a name that may or may not exist
        indent = m.group(1) + "    "
        body = text[line_end + 1 :]
        first = body[: len(body) - len(body.lstrip(" "))]
        indent = first if len(first) > len(m.group(1)) else indent
        colon = text.rfind(":", m.end(), line_end + 1)
        if colon == -1 or text[colon + 1 : line_end].strip():
            return text
        return text[: line_end + 1] + f"{indent}{other}(1)\n" + text[line_end + 1 :]
    if kind == "delete" and defs:
        m = defs[pick % len(defs)]
        return text[: m.start(2)] + "gone_" + text[m.start(2) :]
    if kind == "signature" and defs:
        m = defs[pick % len(defs)]
        return text[: m.end()] + "extra_param=None, " + text[m.end() :]
    if kind == "import":
        return f"from .{other} import {other}\nimport {other}\n" + text
    if kind == "base" and classes:
        m = classes[pick % len(classes)]
        bases = m.group(3)
        new_bases = f"{bases}, {other}" if bases else other
        return text[: m.start()] + f"class {m.group(1)}({new_bases}):" + text[m.end() :]
    if kind == "syntax":
        return text + "\ndef broken(:\n"
    if kind == "return" and defs:
        m = defs[pick % len(defs)]
        close = text.find("):", m.end())
        if close != -1 and "\n" not in text[m.end() : close]:
            return text[: close + 1] + f" -> {other}" + text[close + 1 :]
    return text


edits = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=1000),  # which file
        st.sampled_from(
            ["rename", "body", "delete", "signature", "import", "base", "syntax", "return"]
        ),
        st.integers(min_value=0, max_value=1000),  # which definition
        st.sampled_from(["main", "Typer", "echo", "get_command", "Context", "core", "utils"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sequence=edits)
def test_incremental_update_equals_full_rebuild(
    real_repo: Path, tmp_path_factory: pytest.TempPathFactory, sequence: list
) -> None:
    root = tmp_path_factory.mktemp("edit")
    shutil.copytree(real_repo, root, dirs_exist_ok=True)
    builder = build_graph(root, NO_CACHE)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.py"))
    for file_pick, kind, pick, other in sequence:
        path = files[file_pick % len(files)]
        text = (root / path).read_text()
        new_text = _edit(text, kind, pick, other)
        (root / path).write_text(new_text)
        builder.update_file(path, new_text)
    rebuilt = build_graph(root, NO_CACHE)
    # counted while the files no edit touched still hold their edges packed (see CodeGraph)
    lazy_counts, lazy_edge_count = builder.graph.relation_counts(), builder.graph.edge_count()
    incremental_blocks, incremental_edges, incremental_refs = builder.graph.snapshot()
    full_blocks, full_edges, full_refs = rebuilt.graph.snapshot()
    assert incremental_blocks == full_blocks
    assert incremental_edges - full_edges == set(), "edges only in the incremental graph"
    assert full_edges - incremental_edges == set(), "edges missing from the incremental graph"
    assert incremental_refs == full_refs
    # the counts the graph keeps as it changes, against the rebuilt graph's
    assert builder.graph.kind_counts() == rebuilt.graph.kind_counts()
    assert builder.graph.relation_counts() == rebuilt.graph.relation_counts()
    assert builder.graph.edge_count() == rebuilt.graph.edge_count() == len(full_edges)
    assert (lazy_counts, lazy_edge_count) == (rebuilt.graph.relation_counts(), len(full_edges))


def test_body_edit_reresolves_only_the_edited_file(real_repo: Path, tmp_path: Path) -> None:
    shutil.copytree(real_repo, tmp_path, dirs_exist_ok=True)
    builder = build_graph(tmp_path, NO_CACHE)
    path = "typer/main.py"
    text = (tmp_path / path).read_bytes()
    function = builder.graph.find("get_command")[0]
    # a statement appended to the end of a top-level function's body
    edited = text[: function.end_byte] + b"\n    echo(1)" + text[function.end_byte :]
    report = builder.update_file(path, edited)
    assert not report.interface_changed
    assert report.reresolved == (path,)


def test_signature_edit_reresolves_dependents(real_repo: Path, tmp_path: Path) -> None:
    shutil.copytree(real_repo, tmp_path, dirs_exist_ok=True)
    builder = build_graph(tmp_path, NO_CACHE)
    path = "typer/models.py"
    text = (tmp_path / path).read_text()
    assert "class Context(" in text
    report = builder.update_file(path, text.replace("class Context(", "class Renamed(", 1))
    assert report.interface_changed
    assert len(report.reresolved) > 1
    assert "typer/main.py" in report.reresolved


def test_stale_edges_survive_until_their_source_is_edited(tmp_path: Path) -> None:
    (tmp_path / "lib.py").write_text("def helper(x):\n    return x\n")
    (tmp_path / "app.py").write_text("from lib import helper\n\ndef run():\n    helper(1)\n")
    builder = build_graph(tmp_path, NO_CACHE)
    assert [b.id for b in builder.graph.callers("lib.py::helper")] == ["app.py::run"]

    builder.update_file("lib.py", "def assist(x, y):\n    return x\n", keep_stale=True)
    callers = builder.graph.related("lib.py::helper", inverse=True)
    assert [(r.block.id, r.relation_name, r.stale) for r in callers if r.stale] == [
        ("app.py::run", "CalledBy", True),
        ("app.py::import:helper", "ImportedBy", True),
    ]
    assert_counts_kept(builder.graph)

    builder.update_file("app.py", "from lib import assist\n\ndef run():\n    assist(1, 2)\n")
    assert "lib.py::helper" not in builder.graph
    assert [b.id for b in builder.graph.callers("lib.py::assist")] == ["app.py::run"]
    assert not [e for e in builder.graph.edges() if e.stale]
    assert_counts_kept(builder.graph)


def assert_counts_kept(graph: CodeGraph) -> None:
    """The counts the graph keeps as it changes equal a count of what it holds."""
    blocks, edges, _ = graph.snapshot()
    assert graph.kind_counts() == dict(Counter(b.kind.value for b in blocks))
    assert graph.relation_counts() == dict(Counter(e.relation.value for e in edges))
