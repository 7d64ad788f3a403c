"""`codeplan graph` end to end on a small git repository made in tmp_path."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import pytest
from cli_helpers import run
from rich.console import Console
from typer.testing import CliRunner

from codeplan import __version__
from codeplan.cli import app, graph_cmd
from codeplan.errors import GraphError
from codeplan.graph import analysis_build

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SOURCES = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": """\
        class Shape:
            def area(self) -> float:
                return 0.0


        class Square(Shape):
            def __init__(self, side: float) -> None:
                self.side = side

            def area(self) -> float:
                return self.side * self.side


        def make_square(side: float) -> Square:
            return Square(side)
        """,
    "pkg/report.py": """\
        from pkg.shapes import make_square


        def total(sides: list[float]) -> float:
            squares = [make_square(side) for side in sides]
            return sum(square.area() for square in squares)


        def helper() -> None:
            print("report")
        """,
    "pkg/util.py": """\
        def helper() -> None:
            pass
        """,
}


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's git configuration and any hook's variables out of the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for relative, text in SOURCES.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    if shutil.which("git") is not None:
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"codeplan {__version__} (graph analysis: {analysis_build()})"


@needs_git
def test_table_summarises_the_build(repo: Path) -> None:
    outcome = run("graph", repo, "--no-cache")
    assert outcome.exit_code == 0, outcome.err
    assert f"Dependency graph of {repo}" in outcome.out
    assert re.search(r"│ Files +│ +4 │", outcome.out)
    assert re.search(r"│   python +│ +4 │", outcome.out)
    assert re.search(r"│ Blocks +│ +\d+ │", outcome.out)
    assert "Calls" in outcome.out
    assert "Files parsed / cached" in outcome.out


@needs_git
def test_json_has_the_blocks_and_relations(repo: Path) -> None:
    outcome = run("graph", repo, "--format", "json", "--no-cache")
    assert outcome.exit_code == 0, outcome.err
    data = json.loads(outcome.out)
    nodes = {node["id"]: node for node in data["nodes"]}
    assert nodes["pkg/shapes.py::Square"]["kind"] == "class"
    assert nodes["pkg/shapes.py::Square.area"]["kind"] == "method"
    assert nodes["pkg/report.py::total"] == {
        "id": "pkg/report.py::total",
        "kind": "function",
        "language": "python",
        "path": "pkg/report.py",
        "module": "pkg.report",
        "qualname": "total",
        "start_line": 4,
        "end_line": 6,
    }
    edges = {(e["source"], e["target"], e["relation"]) for e in data["edges"]}
    assert {
        ("pkg/report.py::total", "pkg/shapes.py::make_square", "Calls"),
        ("pkg/shapes.py::make_square", "pkg/shapes.py::Square", "Instantiates"),
        ("pkg/shapes.py::Shape", "pkg/shapes.py::Square", "BaseClassOf"),
        ("pkg/shapes.py::Square.area", "pkg/shapes.py::Shape.area", "Overrides"),
    } <= edges
    assert all("stale" not in e for e in data["edges"])


@needs_git
def test_json_to_a_file(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "graph.json"
    outcome = run("graph", repo, "-f", "json", "-o", target)
    assert outcome.exit_code == 0, outcome.err
    assert outcome.out == ""
    assert f"Wrote {target}" in outcome.err
    assert {n["id"] for n in json.loads(target.read_text())["nodes"]} >= {"pkg/util.py::helper"}


@needs_git
def test_views_to_a_file_are_plain_text(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "tree.txt"
    outcome = run("graph", repo, "--block", "total", "-o", target)
    assert outcome.exit_code == 0, outcome.err
    assert outcome.out == ""
    text = target.read_text(encoding="utf-8")
    assert text.startswith("pkg/report.py:4 total (function)\n")
    assert "\x1b[" not in text


@needs_git
def test_dot_is_a_digraph_with_edges(repo: Path) -> None:
    outcome = run("graph", repo, "--format", "dot")
    assert outcome.exit_code == 0, outcome.err
    assert outcome.out.startswith('digraph "codeplan" {\n')
    assert outcome.out.rstrip().endswith("}")
    assert '"pkg/report.py::total" -> "pkg/shapes.py::make_square" [label="Calls"];' in outcome.out


@needs_git
def test_graphml_loads_with_networkx(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "graph.graphml"
    outcome = run("graph", repo, "--format", "graphml", "-o", target)
    assert outcome.exit_code == 0, outcome.err
    loaded = nx.read_graphml(target, force_multigraph=True)
    assert loaded.nodes["pkg/shapes.py::make_square"]["kind"] == "function"
    relations = {
        d["relation"]
        for d in loaded.get_edge_data("pkg/shapes.py::Shape", "pkg/shapes.py::Square").values()
    }
    assert relations == {"BaseClassOf"}


@needs_git
def test_graphml_needs_a_file(repo: Path) -> None:
    outcome = run("graph", repo, "--format", "graphml")
    assert outcome.exit_code == 2
    assert outcome.err == "error: --format graphml writes a file: give one with -o FILE\n"


@needs_git
def test_block_tree_shows_relations_both_ways(repo: Path) -> None:
    outcome = run("graph", repo, "--block", "make_square")
    assert outcome.exit_code == 0, outcome.err
    lines = outcome.out.splitlines()
    assert lines[0] == "pkg/shapes.py:14 make_square (function)"
    assert "├── Instantiates (1)" in lines
    assert "│   └── pkg/shapes.py:6 Square (class)" in lines
    assert any(line.endswith("CalledBy (1)") for line in lines)
    assert any(line.endswith("pkg/report.py:4 total (function)") for line in lines)


@needs_git
def test_block_by_path_and_qualname(repo: Path) -> None:
    outcome = run("graph", repo, "--block", "./pkg/shapes.py::Square")
    assert outcome.exit_code == 0, outcome.err
    assert outcome.out.splitlines()[0] == "pkg/shapes.py:6 Square (class)"
    assert "DerivedClassOf (1)" in outcome.out
    assert "pkg/shapes.py:1 Shape (class)" in outcome.out


@needs_git
def test_ambiguous_block_lists_the_candidates(repo: Path) -> None:
    outcome = run("graph", repo, "--block", "helper")
    assert outcome.exit_code == 2
    assert outcome.err.splitlines() == [
        "error: --block 'helper' is ambiguous; 2 blocks match:",
        "  pkg/report.py::helper (function, line 9)",
        "  pkg/util.py::helper (function, line 1)",
        "name one of them as PATH::QUALNAME",
    ]
    assert outcome.out == ""


@needs_git
def test_unknown_block(repo: Path) -> None:
    outcome = run("graph", repo, "--block", "make_squares")
    assert outcome.exit_code == 2
    assert outcome.err == (
        "error: no block named 'make_squares' in the graph (did you mean make_square?)\n"
    )


@needs_git
def test_block_cannot_be_exported(repo: Path) -> None:
    outcome = run("graph", repo, "--block", "total", "--format", "json")
    assert outcome.exit_code == 2
    assert "cannot be combined with --format json" in outcome.err


@needs_git
def test_exclude(repo: Path) -> None:
    outcome = run("graph", repo, "-f", "json", "--exclude", "util.py", "--exclude", "pkg/report*")
    assert outcome.exit_code == 0, outcome.err
    assert {n["path"] for n in json.loads(outcome.out)["nodes"]} == {
        "pkg/__init__.py",
        "pkg/shapes.py",
    }


def test_missing_path(tmp_path: Path) -> None:
    outcome = run("graph", tmp_path / "nowhere")
    assert outcome.exit_code == 2
    assert outcome.err == f"error: {tmp_path / 'nowhere'} does not exist\n"


def test_file_instead_of_folder(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    outcome = run("graph", tmp_path / "a.py")
    assert outcome.exit_code == 2
    assert "is not a directory" in outcome.err


def test_a_folder_outside_git_is_analysed_whole(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n    g()\n\n\ndef g():\n    pass\n")
    outcome = run("graph", tmp_path, "--format", "json", "--no-cache")
    assert outcome.exit_code == 0, outcome.err
    edges = json.loads(outcome.out)["edges"]
    assert {"source": "a.py::f", "target": "a.py::g", "relation": "Calls"} in edges


@needs_git
def test_graph_errors_become_messages_and_bugs_keep_their_traceback(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise GraphError("the cache is on fire")

    monkeypatch.setattr(graph_cmd, "build_graph", broken)
    outcome = run("graph", repo)
    assert (outcome.exit_code, outcome.err) == (1, "error: the cache is on fire\n")

    def buggy(*args: object, **kwargs: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(graph_cmd, "build_graph", buggy)
    outcome = run("graph", repo)
    assert isinstance(outcome.exception, KeyError)


def test_progress_bar_only_for_large_repositories() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=True)
    with graph_cmd._progress_bar(console) as progress:
        for done in range(0, 11):
            progress(done, 10)
    assert isinstance(console.file, io.StringIO)
    assert console.file.getvalue() == ""
    with graph_cmd._progress_bar(console) as progress:
        for done in range(0, 301, 100):
            progress(done, 300)
    assert "Analysing files" in console.file.getvalue()


@needs_git
def test_console_script(repo: Path) -> None:
    """The installed `codeplan` entry point: real stdout, stderr and exit codes."""
    script = Path(sys.executable).with_name("codeplan")
    if not script.exists():
        pytest.skip("the codeplan console script is not installed in this environment")
    done = subprocess.run(
        [script, "graph", repo / "missing"], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: {repo / 'missing'} does not exist\n"
    done = subprocess.run(
        [script, "graph", repo, "-f", "json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["nodes"]
