"""A non-editable install must carry the query files and prompt templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_wheel_bundles_analyzers_and_prompts_and_finds_them(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("codeplan-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    queries = sorted(n for n in names if n.startswith("codeplan/_data/analyzers/"))
    assert "codeplan/_data/analyzers/javascript/blocks.scm" in queries
    assert "codeplan/_data/analyzers/java/references.scm" in queries
    assert "codeplan/_data/prompts/README.md" in names
    assert "codeplan/_data/prompts/edit_user.j2" in names
    assert "codeplan/_data/sandboxes/bootstrap-base.sh" in names  # `codeplan sandbox bootstrap`

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel],
        check=True,
        capture_output=True,
    )
    probe = (
        "from codeplan.resources import data_dir, analyzer_query\n"
        "print(data_dir('analyzers'))\n"
        "print(len(analyzer_query('javascript', 'blocks')) > 0)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert found == [str(target / "codeplan" / "_data" / "analyzers"), "True"]
