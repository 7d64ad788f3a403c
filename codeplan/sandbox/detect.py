"""What an arbitrary Python repository needs to be tested: its Python version, the commands
that install its dependencies, and its test command, read statically from the usual files.

Nothing here runs the repository's code: setup.py is read with `ast`, so a setup.py whose
requirements are computed sets `needs_source` and is installed with `pip install -e`. Its
environment image is still keyed on the dependency files only, so a change to the code that
computes the requirements (outside those files) does not rebuild it.

[sandbox]
python = "3.12"                         # else .python-version, requires-python, tox, CI...
install = ["python -m pip install -r requirements.txt"]  # replaces detection
setup = ["python manage.py migrate"]    # run in every run container before the tests
test = "python -m pytest -x"            # else tox.ini's pytest command, else python -m pytest
env = { DJANGO_SETTINGS_MODULE = "site.settings" }
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codeplan.errors import ConfigError
from codeplan.sandbox.model import EnvironmentSpec
from codeplan.sandbox.repofiles import (
    PYTEST,
    Setup,
    Tox,
    inside,
    read_setup,
    read_text,
    read_toml,
    read_tox,
    workflow_pythons,
)
from codeplan.sandbox.requirements import bump, detect_install, toml_table

SUPPORTED = ("3.13", "3.12", "3.11", "3.10", "3.9", "3.8")  # newest first
DEFAULT_PYTHON = "3.11"
DEFAULT_TEST = "python -m pytest"
TEST_EXTRAS = ("test", "tests", "testing", "dev")
LOCK_FILES = ("poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock")
_CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d+)\s*$")


def detect_environment(root: Path, config: Mapping[str, Any]) -> EnvironmentSpec:
    """The repository's environment: `[sandbox]` settings first, detection for the rest."""
    section = sandbox_section(config)
    pyproject = read_toml(root, "pyproject.toml", required=True)
    tox = read_tox(root)
    test, test_files, test_why = _test_command(section, tox)
    from_tox = "tox.ini" in test_files
    extras = (*TEST_EXTRAS, *(e for e in tox.extras if from_tox and e not in TEST_EXTRAS))
    setup = read_setup(root, extras)
    python, python_files, python_why = _python(root, section, pyproject, tox, setup)
    plan = detect_install(root, pyproject, setup, extras, tox.deps if from_tox else ())
    files = {*test_files, *python_files, *plan.files}
    if "install" in section:
        install = _commands(section, "install")
        files |= _referenced_files(root, install)
        needs_source = plan.needs_source or any(_installs_tree(c) for c in install)
        install_why = "[sandbox] install in the configuration"
    else:
        install = plan.commands(uses_pytest=bool(PYTEST.search(test)))
        needs_source = plan.needs_source
        install_why = plan.describe()
    if plan.files:
        # the locks are not installed from, but a re-lock should rebuild the environment
        files.update(name for name in LOCK_FILES if (root / name).is_file())
    return EnvironmentSpec(
        python=python,
        install=tuple(install),
        test=test,
        setup=tuple(_commands(section, "setup")) if "setup" in section else (),
        env=_env(section),
        dependency_files=tuple(sorted(files)),
        needs_source=needs_source,
        evidence={"python": python_why, "install": install_why, "test": test_why},
    )


def dependency_digest(root: Path, files: Sequence[str]) -> str:
    """A hash of the files' paths and contents (a missing file hashes as missing)."""
    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(set(files)):
        try:
            data: bytes | None = (root / name).read_bytes()
        except OSError:
            data = None
        digest.update(name.encode() + b"\0")
        # the length prefix keeps one (path, contents) pair from running into the next
        digest.update(b"-" if data is None else b"+" + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def sandbox_section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    section = config.get("sandbox", {})
    if not isinstance(section, Mapping):
        raise ConfigError("[sandbox] must be a table")
    return section


# -- the Python version ------------------------------------------------------------------


def _python(
    root: Path,
    section: Mapping[str, Any],
    pyproject: Mapping[str, Any],
    tox: Tox,
    setup: Setup,
) -> tuple[str, list[str], str]:
    """The version, the files it came from, and why."""
    if "python" in section:
        value = section["python"]
        if not isinstance(value, str) or not re.fullmatch(r"\d+\.\d+", value.strip()):
            raise ConfigError(f'[sandbox] python must be a string like "3.11", not {value!r}')
        return value.strip(), [], "[sandbox] python in the configuration"
    match = re.search(r"(\d+)\.(\d+)", read_text(root, ".python-version") or "")
    if match:
        return f"{match[1]}.{match[2]}", [".python-version"], f"{match[0]} in .python-version"
    project = toml_table(pyproject, "project")
    poetry = toml_table(toml_table(toml_table(pyproject, "tool"), "poetry"), "dependencies")
    for spec, where in (
        (project.get("requires-python"), "requires-python"),
        (poetry.get("python"), "[tool.poetry.dependencies] python"),
    ):
        if isinstance(spec, str) and (chosen := newest_satisfying(spec)):
            return chosen, ["pyproject.toml"], f"{where} {spec} in pyproject.toml → {chosen}"
    if chosen := _newest(tox.pythons):
        return chosen, ["tox.ini"], f"envlist in tox.ini → {chosen}"
    workflows = workflow_pythons(root)
    if chosen := _newest(v for versions in workflows.values() for v in versions):
        used = sorted(workflows)
        return chosen, used, f"python-version in {', '.join(used)} → {chosen}"
    if setup.python_requires and (chosen := newest_satisfying(setup.python_requires)):
        why = f"python_requires {setup.python_requires} in {', '.join(setup.files)} → {chosen}"
        return chosen, list(setup.files), why
    classifiers = project.get("classifiers", [])
    from_setup = [m[1] for c in setup.classifiers if (m := _CLASSIFIER.search(c))]
    from_pyproject = [
        m[1] for c in classifiers if isinstance(c, str) and (m := _CLASSIFIER.search(c))
    ]
    if chosen := _newest(from_setup + from_pyproject):
        used = list(setup.files) if from_setup else []
        used += ["pyproject.toml"] if from_pyproject else []
        return chosen, used, f"classifiers in {', '.join(used)} → {chosen}"
    return DEFAULT_PYTHON, [], f"default {DEFAULT_PYTHON} (no version found in the repository)"


def newest_satisfying(spec: str) -> str | None:
    """The newest supported Python whose release line satisfies a requires-python (PEP 440,
    or poetry's ^ ~ ||): a tiny evaluator because `packaging` is not a dependency."""
    for version in SUPPORTED:
        major, minor = (int(part) for part in version.split("."))
        if _line_satisfies((major, minor), spec):
            return version
    return None


def _line_satisfies(line: tuple[int, int], spec: str) -> bool:
    """Whether, for each clause, some X.Y.z satisfies it (images carry the latest patch)."""
    spec = re.sub(r"([<>=!~^]+)\s+", r"\1", spec.strip())
    for alternative in re.split(r"\s*\|\|?\s*", spec):
        clauses = [c for c in re.split(r"[,\s]+", alternative) if c]
        if all(_clause(line, clause) for clause in clauses):
            return True
    return False


def _clause(line: tuple[int, int], clause: str) -> bool:
    match = re.fullmatch(r"(===|==|!=|~=|<=|>=|<|>|\^|~|=)?v?(\d+(?:\.\d+)*)(\.\*)?\S*", clause)
    if not match:
        return True  # "*", or unreadable: it does not veto a version
    op, wildcard = match[1] or "==", bool(match[3])
    parts = [int(p) for p in match[2].split(".")]
    low, high = (*line, 0), (*line, 10**6)
    version = tuple(parts) + (0,) * (3 - len(parts))
    prefix = tuple(parts[:2]) == line[: len(parts[:2])]
    if op in ("==", "===", "="):
        return prefix
    if op == "!=":
        return not prefix or (len(parts) > 2 and not wildcard)
    if op in (">=", ">"):
        return high >= version if op == ">=" else high > version
    if op in ("<=", "<"):
        return low <= version if op == "<=" else low < version
    # ~=3.8 is >=3.8,==3.*; ^ and ~ are poetry's
    upper = bump(parts[:-1] or parts, caret=False) if op == "~=" else bump(parts, op == "^")
    return high >= version and low < tuple(upper) + (0,) * (3 - len(upper))


def _newest(versions: Iterable[str]) -> str | None:
    found = set(versions)
    supported = [v for v in SUPPORTED if v in found]
    if supported:
        return supported[0]
    return max(found, key=lambda v: tuple(int(p) for p in v.split(".")), default=None)


# -- the test command -------------------------------------------------------------------


def _test_command(section: Mapping[str, Any], tox: Tox) -> tuple[str, list[str], str]:
    if "test" in section:
        value = section["test"]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"[sandbox] test must be a command line, not {value!r}")
        return value.strip(), [], "[sandbox] test in the configuration"
    if tox.test:
        return tox.test, ["tox.ini"], "[testenv] commands in tox.ini"
    return DEFAULT_TEST, [], f"default {DEFAULT_TEST}"


# -- the configured commands and environment --------------------------------------------


def _commands(section: Mapping[str, Any], key: str) -> list[str]:
    value = section[key]
    commands = [value] if isinstance(value, str) else value
    if not isinstance(commands, list) or not all(
        isinstance(c, str) and c.strip() for c in commands
    ):
        raise ConfigError(f"[sandbox] {key} must be a command line or a list of them")
    return [c.strip() for c in commands]


def _referenced_files(root: Path, commands: Iterable[str]) -> set[str]:
    """Files a configured install command names: they must be in the build context."""
    found: set[str] = set()
    for command in commands:
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        for word in words:
            name = word.split("=", 1)[-1] if word.startswith("-") else word
            if name and (relative := inside(root, root / name)) is not None:
                found.add(relative)
    return found


def _installs_tree(command: str) -> bool:
    """`pip install -e .`, `pip install '.[test]'`: the command needs the whole tree."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    return any(re.match(r"(-e)?\.(/|\[|$)", word) for word in words)


def _env(section: Mapping[str, Any]) -> dict[str, str]:
    value = section.get("env", {})
    if not isinstance(value, Mapping):
        raise ConfigError("[sandbox] env must be a table of strings")
    for name, setting in value.items():
        if not isinstance(setting, str):
            # the values may be secrets: the error names the variable only
            raise ConfigError(f"[sandbox] env.{name} must be a string")
    return {str(k): v for k, v in value.items()}
