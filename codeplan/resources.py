"""Locate the data folders (tree-sitter queries, prompt templates) in a checkout or a wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """Return the folder `name` ("analyzers" or "prompts").

    A wheel carries them inside the package (`codeplan/_data/<name>`); a checkout or an
    editable install has them at the repository's top level, beside the package.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"CodePlan data folder {name!r} is missing from this installation")


def analyzer_query(language: str, name: str) -> str:
    """The text of `analyzers/<language>/<name>.scm`."""
    return (data_dir("analyzers") / language / f"{name}.scm").read_text(encoding="utf-8")
