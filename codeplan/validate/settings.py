"""The local oracle's settings, and reading them from the `[validate]` configuration section.

[validate]
compile = true                   # compile() every changed .py file first
typecheck = "python -m mypy ."   # a command line, or false (the default)
test = "auto"                    # "auto": pytest when the tree has tests; a command; false
timeout_seconds = 600            # per command; a hang is a problem of the edits
python = "/path/to/venv/bin/python"  # the interpreter `python` stands for in commands
env = { DJANGO_SETTINGS_MODULE = "site.settings" }
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codeplan.errors import ConfigError

_KEYS = ("compile", "typecheck", "test", "timeout_seconds", "python", "env")


@dataclass(frozen=True)
class LocalOracleSettings:
    compile_check: bool = True
    typecheck: str | None = None  # a command line, e.g. "mypy ." or "pyright"
    test: str | None = "auto"  # a command line, or "auto" (pytest when the tree has tests)
    python: str = sys.executable  # what "python"/"python3" at the start of a command run
    timeout_seconds: float = 600.0
    env: Mapping[str, str] = field(default_factory=dict)  # added to the inherited environment


def oracle_settings(config: Mapping[str, Any]) -> LocalOracleSettings:
    """The settings from a configuration's `[validate]` section (defaults when absent)."""
    section = config.get("validate", {})
    if not isinstance(section, Mapping):
        raise ConfigError("[validate] must be a table")
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [validate]: {', '.join(unknown)} (known: {', '.join(_KEYS)})"
        )
    defaults = LocalOracleSettings()
    compile_check = section.get("compile", defaults.compile_check)
    if not isinstance(compile_check, bool):
        raise ConfigError(f"[validate] compile must be true or false, not {_kind(compile_check)}")
    return LocalOracleSettings(
        compile_check=compile_check,
        typecheck=_command(section, "typecheck", defaults.typecheck),
        test=_command(section, "test", defaults.test),
        python=_python(section, defaults.python),
        timeout_seconds=_timeout(section, defaults.timeout_seconds),
        env=_env(section),
    )


def _command(section: Mapping[str, Any], key: str, default: str | None) -> str | None:
    value = section.get(key, default)
    if value is None or value is False:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"[validate] {key} must be a command line or false, not {_kind(value)}")
    try:
        argv = shlex.split(value)
    except ValueError as error:
        raise ConfigError(f"[validate] {key} is not a valid command line: {error}") from error
    if not argv:
        raise ConfigError(f"[validate] {key} must be a command line or false, not empty")
    return value


def _python(section: Mapping[str, Any], default: str) -> str:
    value = section.get("python", default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[validate] python must be an interpreter's path, not {_kind(value)}")
    return value


def _timeout(section: Mapping[str, Any], default: float) -> float:
    value = section.get("timeout_seconds", default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"[validate] timeout_seconds must be a positive number, not {value!r}")
    return float(value)


def _env(section: Mapping[str, Any]) -> dict[str, str]:
    value = section.get("env", {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[validate] env must be a table of strings, not {_kind(value)}")
    env: dict[str, str] = {}
    for name, setting in value.items():
        # the values may be secrets: errors name the variable only
        if not isinstance(setting, str):
            raise ConfigError(f"[validate] env.{name} must be a string, not {_kind(setting)}")
        env[str(name)] = setting
    return env


def _kind(value: object) -> str:
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), f"a {type(value).__name__}"
    )
