"""The user's configuration: `[tool.codeplan]` in pyproject.toml, or codeplan.toml.

Read in one place, at the edge; stages receive plain values.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from codeplan.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def read_config(root: Path) -> dict[str, Any]:
    """codeplan.toml's contents if present, else pyproject.toml's [tool.codeplan]."""
    dedicated = root / "codeplan.toml"
    if dedicated.is_file():
        return _load(dedicated)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        section = _load(pyproject).get("tool", {}).get("codeplan", {})
        return section if isinstance(section, dict) else {}
    return {}


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from error
