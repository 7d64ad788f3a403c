"""What a non-editable install carries: the query files and prompt templates, and (built
with CODEPLAN_COMPILE, see hatch_build.py) the compiled analysis, or a clear fallback."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from codeplan.graph import GraphOptions, analysis_compiled, build_graph

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPILED_MODULES = sorted(
    path.relative_to(REPO_ROOT).with_suffix("").as_posix()
    for path in [
        REPO_ROOT / "codeplan/graph/analyzer.py",
        *(REPO_ROOT / "codeplan/graph/python").glob("*.py"),
    ]
)
# the edges a build finds, printed as JSON
EDGES_PROBE = """
import json, sys
from codeplan.graph import GraphOptions, analysis_compiled, build_graph
builder = build_graph(sys.argv[1], GraphOptions(use_cache=False, workers=1))
edges = sorted([e.source, e.target, e.relation.value, e.line] for e in builder.graph.edges())
print(json.dumps({"compiled": analysis_compiled(), "edges": edges}))
"""


def build_wheel(out: Path, mode: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=REPO_ROOT,
        env={**os.environ, "CODEPLAN_COMPILE": mode, **env},
        capture_output=True,
        text=True,
    )


def install(wheel: Path, target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel],
        check=True,
        capture_output=True,
    )


def run_installed(target: Path, code: str, *args: str) -> str:
    # the installed copy first, the test environment's dependencies after it; run from
    # elsewhere so that the checkout's sources cannot be imported instead
    path = os.pathsep.join([str(target), *(p for p in sys.path if p.endswith("site-packages"))])
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"},
        cwd=target.parent,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_wheel_bundles_analyzers_and_prompts_and_finds_them(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "0")
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("codeplan-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")  # CODEPLAN_COMPILE=0: pure Python
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    queries = sorted(n for n in names if n.startswith("codeplan/_data/analyzers/"))
    assert "codeplan/_data/analyzers/javascript/blocks.scm" in queries
    assert "codeplan/_data/analyzers/java/references.scm" in queries
    assert "codeplan/_data/prompts/README.md" in names
    assert "codeplan/_data/prompts/edit_user.j2" in names
    assert "codeplan/_data/sandboxes/bootstrap-base.sh" in names  # `codeplan sandbox bootstrap`

    target = tmp_path / "site"
    install(wheel, target)
    probe = (
        "from codeplan.resources import data_dir, analyzer_query\n"
        "print(data_dir('analyzers'))\n"
        "print(len(analyzer_query('javascript', 'blocks')) > 0)\n"
        "from codeplan.graph import analysis_compiled\n"
        "print(analysis_compiled())\n"
    )
    found = run_installed(target, probe).split()
    assert found == [str(target / "codeplan" / "_data" / "analyzers"), "True", "False"]


@pytest.mark.skipif(
    not analysis_compiled(),
    reason="needs the compiled wheel: `make test` runs it in its second pass",
)
def test_the_compiled_analysis_builds_the_graph_the_sources_build() -> None:
    for module in COMPILED_MODULES:
        loaded = importlib.import_module(module.replace("/", "."))
        assert not loaded.__file__.endswith(".py"), f"{module} runs from its source"
    example = REPO_ROOT / "codeplan"  # real code: every construct the analysis reads
    compiled = build_graph(example, GraphOptions(use_cache=False, workers=1))
    # the checkout's sources, imported first from the checkout (a `-c` process's path starts
    # with its working directory)
    from_sources = subprocess.run(
        [sys.executable, "-c", EDGES_PROBE, str(example)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": ""},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    expected = json.loads(from_sources)
    assert expected["compiled"] is False
    found = sorted([e.source, e.target, e.relation.value, e.line] for e in compiled.graph.edges())
    assert len(found) > 1000
    assert found == expected["edges"]


def test_without_a_c_compiler_auto_builds_pure_python_and_1_fails(tmp_path: Path) -> None:
    auto = build_wheel(tmp_path / "auto", "auto", CC="false")
    assert auto.returncode == 0, auto.stderr
    (wheel,) = (tmp_path / "auto").glob("codeplan-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    assert "building without the compiled analysis" in auto.stdout + auto.stderr

    required = build_wheel(tmp_path / "required", "1", CC="false")
    assert required.returncode != 0
    assert "cannot compile against Python's headers" in required.stdout + required.stderr
    assert not list((tmp_path / "required").glob("*.whl"))
