"""Editors besides the LLM: a replay of recorded answers, and loading any editor from
`module:attr` (`--editor`), e.g. a deterministic codemod or a human-in-the-loop reviewer."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codeplan.edit.model import Editor, EditRequest
from codeplan.errors import ConfigError


class ReplayEditor:
    """Answers from a recording: block id (`path::qualname`) → new text, or None for
    "no change".  Blocks missing from the recording get "no change" too."""

    def __init__(self, answers: Mapping[str, str | None]) -> None:
        self.answers = dict(answers)
        self.asked: list[str] = []

    @classmethod
    def from_file(cls, path: Path) -> ReplayEditor:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read the recorded answers {path}: {error}") from error
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a JSON object of block id -> text or null")
        return cls(data)

    def __call__(self, request: EditRequest) -> str | None:
        self.asked.append(request.block_id)
        return self.answers.get(request.block_id)


def load_editor(spec: str, root: Path) -> Editor:
    """`package.module:attr` or `path/to/file.py:attr` (relative to `root` or the current
    folder).  A class is instantiated without arguments; anything else callable is used
    as it is."""
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise ConfigError(f"--editor wants MODULE:ATTR, got {spec!r}")
    module = _import(module_name, root)
    try:
        found: Any = getattr(module, attr)
    except AttributeError as error:
        raise ConfigError(f"{module_name} has no attribute {attr!r}") from error
    if isinstance(found, type):
        found = found()
    if not callable(found):
        raise ConfigError(f"{spec} is not callable; an editor takes an EditRequest")
    editor: Editor = found
    return editor


def _import(name: str, root: Path) -> Any:
    if name.endswith(".py"):
        for base in (root, Path.cwd()):
            path = (base / name).resolve()
            if path.is_file():
                spec = importlib.util.spec_from_file_location(path.stem, path)
                if spec is None or spec.loader is None:
                    break
                module = importlib.util.module_from_spec(spec)
                sys.modules.setdefault(path.stem, module)
                spec.loader.exec_module(module)
                return module
        raise ConfigError(f"editor file {name} not found")
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ConfigError(f"cannot import editor module {name!r}: {error}") from error
