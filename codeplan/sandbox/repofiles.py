"""Readers for the repository files that hint at its environment: tox.ini, the GitHub
workflows, setup.cfg and setup.py, plus the small text/TOML/INI helpers they share.

They are apart from the detection (codeplan.sandbox.detect) so that it can stay about
choosing, while this module is about reading: nothing here runs the repository's code,
setup.py included (it is read with `ast`).
"""

from __future__ import annotations

import ast
import configparser
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeplan.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYTEST = re.compile(r"\b(py\.test|pytest)\b")


def read_text(root: Path, name: str) -> str | None:
    try:
        return (root / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def read_toml(root: Path, name: str, required: bool = False) -> Mapping[str, Any]:
    text = read_text(root, name)
    if text is None:
        return {}
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as error:
        # pyproject.toml also holds the configuration, so a broken one is the user's to fix;
        # a broken auxiliary file (a Pipfile) only loses its hints
        if required:
            raise ConfigError(f"cannot read {root / name}: {error}") from error
        return {}


def _ini(root: Path, name: str) -> configparser.ConfigParser | None:
    text = read_text(root, name)
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return parser


def value_lines(text: str) -> list[str]:
    found = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return [line for line in found if line and not line.startswith(("#", "file:", "attr:"))]


def inside(root: Path, path: Path) -> str | None:
    """The path relative to root, "/"-separated, when it is a file under root."""
    try:
        relative = path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    return relative.as_posix() if path.is_file() else None


@dataclass(frozen=True)
class Tox:
    test: str | None = None
    deps: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    pythons: tuple[str, ...] = ()


def read_tox(root: Path) -> Tox:
    parser = _ini(root, "tox.ini")
    if parser is None:
        return Tox()
    envlist = parser.get("tox", "envlist", fallback="") or parser.get(
        "tox", "env_list", fallback=""
    )
    pythons = tuple(
        f"{m[1]}.{m[2]}"
        for env in _expand_braces(envlist)
        if (m := re.search(r"py(3)\.?(\d+)", env))
    )
    test = None
    commands = parser.get("testenv", "commands", fallback="").replace("\\\n", " ")
    for line in commands.splitlines():
        # "py311,py312: pytest" runs for some factors only; "- cmd" ignores the exit code
        line = re.sub(r"^!?[\w.-]+(,!?[\w.-]+)*:\s+", "", line.strip()).lstrip("- ")
        if PYTEST.search(line):
            test = _python_m_pytest(_untox(line))
            break
    return Tox(
        test=test,
        deps=tuple(_untox(d) for d in value_lines(parser.get("testenv", "deps", fallback=""))),
        extras=tuple(value_lines(parser.get("testenv", "extras", fallback="").replace(",", "\n"))),
        pythons=pythons,
    )


def _expand_braces(text: str) -> list[str]:
    """tox's py{310,311} → py310 py311, for each comma- or line-separated env."""
    words: list[str] = []
    for word in re.findall(r"[^\s,{}]*(?:\{[^}]*\}[^\s,{}]*)+|[^\s,{}]+", text):
        match = re.search(r"\{([^}]*)\}", word)
        if match is None:
            words.append(word)
            continue
        for item in match[1].split(","):
            words += _expand_braces(word[: match.start()] + item.strip() + word[match.end() :])
    return words


def _untox(text: str) -> str:
    """A tox line without its substitutions: the posargs go (CodePlan passes its own)."""
    text = re.sub(r"\{posargs[^}]*\}", "", text)
    text = re.sub(r"\{envpython\}", "python", text)
    text = re.sub(r"\{toxinidir\}/?", "./", text)
    text = re.sub(r"\{envbindir\}/", "", text)
    text = re.sub(r"\{env:[^:}]*:?([^}]*)\}", r"\1", text)
    words = re.sub(r"\{[^}]*\}", "", text).split()
    # `--basetemp={envtmpdir}` would become `--basetemp=`, which pytest refuses: drop it
    return " ".join(w for w in words if not (w.startswith("-") and w.endswith("=")))


def _python_m_pytest(command: str) -> str:
    """A bare `pytest` becomes `python -m pytest`, which also puts /work on sys.path."""
    return re.sub(r"^(pytest|py\.test)\b", "python -m pytest", command)


def workflow_pythons(root: Path) -> dict[str, list[str]]:
    """The X.Y versions in each GitHub workflow's python-version (matrix) entries."""
    found: dict[str, list[str]] = {}
    folder = root / ".github" / "workflows"
    paths = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    for path in paths:
        lines = (read_text(root, path.relative_to(root).as_posix()) or "").splitlines()
        versions: list[str] = []
        for index, line in enumerate(lines):
            match = re.match(r"\s*-?\s*python(?:-version|_version)?\s*:\s*(.*)$", line)
            if not match:
                continue
            rest = match[1].split("#", 1)[0]
            if not rest.strip():  # a block list: the "- 3.x" lines that follow
                for item in lines[index + 1 :]:
                    if not re.match(r"\s*-\s*\S", item):
                        break
                    rest += " " + item
            versions += re.findall(r"(?<![\d.])(3\.\d+)(?![\d])", rest)
        if versions:
            found[path.relative_to(root).as_posix()] = versions
    return found


@dataclass(frozen=True)
class Setup:
    """What setup.cfg and setup.py say statically."""

    files: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()  # install_requires, tests_require, the test extras
    extras: tuple[str, ...] = ()  # the extras' names, as far as they are literal
    dynamic: bool = False  # setup.py computes its requirements
    python_requires: str | None = None
    classifiers: tuple[str, ...] = ()


def read_setup(root: Path, extras: Sequence[str]) -> Setup:
    files: list[str] = []
    requirements: list[str] = []
    names: set[str] = set()
    python_requires: str | None = None
    classifiers: list[str] = []
    cfg = _ini(root, "setup.cfg")
    if cfg is not None and cfg.has_section("options"):
        files.append("setup.cfg")
        requirements += value_lines(cfg.get("options", "install_requires", fallback=""))
        requirements += value_lines(cfg.get("options", "tests_require", fallback=""))
        python_requires = cfg.get("options", "python_requires", fallback=None)
        classifiers += value_lines(cfg.get("metadata", "classifiers", fallback=""))
        if cfg.has_section("options.extras_require"):
            names.update(cfg.options("options.extras_require"))
            for extra in extras:
                requirements += value_lines(cfg.get("options.extras_require", extra, fallback=""))
    text = read_text(root, "setup.py")
    values, dynamic = _setup_py_keywords(text) if text is not None else ({}, False)
    files += ["setup.py"] if text is not None else []
    for key in ("install_requires", "tests_require"):
        requirements += _requirement_list(values.get(key))
    extras_require = values.get("extras_require")
    if isinstance(extras_require, dict):
        names.update(str(k) for k in extras_require)
        for extra in extras:
            requirements += _requirement_list(extras_require.get(extra))
    requires = values.get("python_requires")
    literal_classifiers = values.get("classifiers")
    if isinstance(literal_classifiers, (list, tuple)):
        classifiers += [c for c in literal_classifiers if isinstance(c, str)]
    return Setup(
        files=tuple(files),
        requirements=tuple(requirements),
        extras=tuple(sorted(names)),
        dynamic=dynamic,
        python_requires=requires if isinstance(requires, str) else python_requires,
        classifiers=tuple(classifiers),
    )


def _setup_py_keywords(text: str) -> tuple[dict[str, Any], bool]:
    """setup()'s literal keywords, and whether its requirements are computed instead."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}, True
    assigned: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                assigned[target.id] = node.value
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            getattr(node.func, "id", None) == "setup" or getattr(node.func, "attr", None) == "setup"
        )
    ]
    if not calls:
        return {}, True
    values: dict[str, Any] = {}
    dynamic = False
    for keyword in calls[0].keywords:
        if keyword.arg is None:  # setup(**options): anything may be in there
            dynamic = True
            continue
        value = keyword.value
        if isinstance(value, ast.Name) and value.id in assigned:
            value = assigned[value.id]
        try:
            values[keyword.arg] = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            if keyword.arg in ("install_requires", "extras_require", "tests_require"):
                dynamic = True
    for key in ("install_requires", "tests_require"):
        if key in values and not isinstance(values[key], (str, list, tuple)):
            dynamic = True
    return values, dynamic


def _requirement_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return value_lines(value)
    if isinstance(value, (list, tuple)):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []
