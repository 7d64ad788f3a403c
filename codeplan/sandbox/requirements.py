"""The install commands for a repository: an accumulator of requirements and requirement
files, fed by requirements*.txt, pyproject.toml ([project], dependency groups, poetry),
Pipfile, setup.cfg/setup.py and tox's deps.

It is apart from the detection (codeplan.sandbox.detect), which only chooses among its
sources, so that the format-specific translation (poetry's ^ and ~, Pipfile tables) has a
home of its own.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeplan.sandbox.repofiles import Setup, inside, read_text, read_toml, value_lines

PIP = "python -m pip install"


@dataclass
class Plan:
    """The install detection's accumulator (local to one detection, hence mutable)."""

    requirement_files: list[str] = field(default_factory=list)  # installed with -r
    requirements: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # of everything installed, normalized
    files: set[str] = field(default_factory=set)
    editable: str | None = None  # ".[test]" when the tree must be installed
    needs_source: bool = False
    sources: list[str] = field(default_factory=list)

    def add(self, requirements: Iterable[str], why: str) -> None:
        # PEP 508 takes either quote in markers: double ones keep the shell quoting readable
        new = list(dict.fromkeys(r.replace("'", '"') for r in requirements))
        new = [r for r in new if r not in self.requirements]
        if new:
            self.requirements += new
            self.names.update(_name(r) for r in new)
            self.sources.append(why)

    def commands(self, uses_pytest: bool) -> list[str]:
        if uses_pytest and "pytest" not in self.names and self.editable is None:
            self.add(["pytest"], "pytest added for the test command")
        commands = []
        if self.requirement_files:
            commands.append(PIP + "".join(f" -r {shlex.quote(f)}" for f in self.requirement_files))
        if self.requirements:
            commands.append(f"{PIP} {' '.join(shlex.quote(r) for r in self.requirements)}")
        if self.editable is not None:
            commands.append(f"{PIP} -e {shlex.quote(self.editable)}")
            # the computed extras may or may not bring pytest: a satisfied install is a no-op
            if uses_pytest and "pytest" not in self.names:
                commands.append(f"{PIP} pytest")
                self.sources.append("pytest added for the test command")
        return commands

    def describe(self) -> str:
        return "; ".join(self.sources) or "nothing to install"

    def add_requirements_file(self, root: Path, name: str, seen: set[str] | None = None) -> None:
        """A requirements file, and the files it includes (they go in the build context)."""
        seen = set() if seen is None else seen
        if name in seen:
            return
        seen.add(name)
        self.files.add(name)
        path = root / name
        for line in value_lines(read_text(root, name) or ""):
            include = re.match(r"(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", line)
            if include:
                target = inside(root, path.parent / include[2])
                if target is not None:
                    self.add_requirements_file(root, target, seen)
            elif re.match(r"(-e|--editable)?\s*=?\s*['\"]?(\.|file:)", line):
                self.needs_source = True  # "-e ." installs the tree itself
            elif not line.startswith("-"):
                self.names.add(_name(line))


def detect_install(
    root: Path,
    pyproject: Mapping[str, Any],
    setup: Setup,
    extras: Sequence[str],
    tox_deps: Sequence[str],
) -> Plan:
    plan = Plan()
    for name in _requirement_files(root):
        plan.requirement_files.append(name)
        plan.add_requirements_file(root, name)
    if plan.requirement_files:
        plan.sources.append(", ".join(plan.requirement_files))
    if pyproject:
        _add_pyproject(plan, pyproject, extras)
    _add_pipfile(plan, root)
    if setup.files:
        before = len(plan.requirements)
        plan.add(setup.requirements, f"requirements in {', '.join(setup.files)}")
        if len(plan.requirements) > before or setup.dynamic:
            plan.files.update(setup.files)
    if setup.dynamic:
        chosen = [e for e in extras if e in setup.extras]
        plan.editable = f".[{','.join(chosen)}]" if chosen else "."
        plan.needs_source = True
        plan.files.add("setup.py")
        plan.sources.append(f"setup.py computes its requirements: pip install -e {plan.editable}")
    if tox_deps:
        _add_tox_deps(plan, root, tox_deps)
    return plan


_REQUIREMENTS_KEPT = re.compile(
    r"(^|[-_.])(test|tests|testing|dev|develop|development|ci|base|common|main|default"
    r"|install|runtime|core|prod|production)($|[-_.])"
)


def _requirement_files(root: Path) -> list[str]:
    """The main requirements file first, then the test/dev ones (docs, lint... are left)."""
    found: list[str] = []
    candidates = [
        *sorted(root.glob("*requirements*.txt")),
        *sorted(root.glob("requirements/*.txt")),
    ]
    for path in candidates:
        stem = path.stem.lower()
        tag = stem.replace("requirements", "", 1) if path.parent == root else stem
        if path.is_file() and (not tag.strip("-_.") or _REQUIREMENTS_KEPT.search(tag)):
            found.append(path.relative_to(root).as_posix())
    return sorted(found, key=lambda name: (name != "requirements.txt", name))


def _add_pyproject(plan: Plan, pyproject: Mapping[str, Any], extras: Sequence[str]) -> None:
    project = toml_table(pyproject, "project")
    own = _name(str(project.get("name", "")))
    optional = toml_table(project, "optional-dependencies")
    chosen = [e for e in extras if e in optional]
    groups = toml_table(pyproject, "dependency-groups")
    wanted = [g for g in groups if _name(g) in {_name(e) for e in extras}]
    found: list[str] = []
    why: list[str] = []
    for requirements, what in (
        (_strings(project.get("dependencies")), "[project] dependencies"),
        (_expand(optional, chosen, own), f"extras {', '.join(chosen)}"),
        (_expand(groups, wanted, own), f"dependency groups {', '.join(wanted)}"),
        (
            _poetry(toml_table(toml_table(pyproject, "tool"), "poetry"), extras),
            "poetry dependencies",
        ),
    ):
        found += requirements
        why += [what] if requirements else []
    if "dependencies" in project.get("dynamic", []) and not plan.requirement_files:
        # the backend computes them (from a file, a plugin): only installing can tell
        plan.editable = f".[{','.join(chosen)}]" if chosen else "."
        plan.needs_source = True
        why.append(f"dynamic dependencies: pip install -e {plan.editable}")
    if why:
        # a source build of a dependency (or the -e install) may want the same backend
        found += _strings(toml_table(pyproject, "build-system").get("requires"))
        plan.add(found, f"{' + '.join(why)} + build-system.requires in pyproject.toml")
        plan.files.add("pyproject.toml")


def _expand(tables: Mapping[str, Any], wanted: Sequence[str], own: str | None) -> list[str]:
    """Extras or dependency groups, following their references to each other (an extra
    naming the project itself, a group's include-group) instead of installing them."""
    found: list[str] = []
    queue, seen = list(wanted), set()
    while queue:
        key = queue.pop(0)
        if key in seen:
            continue
        seen.add(key)
        for item in tables.get(key, []) if isinstance(tables.get(key), list) else []:
            if isinstance(item, Mapping) and isinstance(item.get("include-group"), str):
                queue.append(item["include-group"])
            elif isinstance(item, str) and own and _name(item) == own:
                match = re.search(r"\[([^\]]*)\]", item)
                queue += [e.strip() for e in match[1].split(",")] if match else []
            elif isinstance(item, str):
                found.append(item)
    return found


def _poetry(poetry: Mapping[str, Any], extras: Sequence[str]) -> list[str]:
    tables = [toml_table(poetry, "dependencies"), toml_table(poetry, "dev-dependencies")]
    groups = toml_table(poetry, "group")
    tables += [toml_table(toml_table(groups, g), "dependencies") for g in groups if g in extras]
    optional = {_name(n) for e in extras for n in _strings(toml_table(poetry, "extras").get(e))}
    found = []
    for table in tables:
        for name, spec in table.items():
            if name.lower() == "python":
                continue
            requirement = _pip_requirement(name, spec, optional)
            if requirement:
                found.append(requirement)
    return found


def _add_pipfile(plan: Plan, root: Path) -> None:
    pipfile = read_toml(root, "Pipfile")
    found = [
        requirement
        for key in ("packages", "dev-packages")
        for name, spec in toml_table(pipfile, key).items()
        if (requirement := _pip_requirement(name, spec, set()))
    ]
    if found:
        plan.add(found, "Pipfile")
        plan.files.add("Pipfile")


def _pip_requirement(name: str, spec: Any, optional: set[str]) -> str | None:
    """A poetry/Pipfile dependency as a pip requirement; None for path, git and url ones
    (a path dependency is in the tree, a git one would need the network at run time)."""
    if isinstance(spec, list):  # several constraints, by marker: the first stands for them
        spec = spec[0] if spec else "*"
    extras, markers = "", ""
    if isinstance(spec, Mapping):
        if any(k in spec for k in ("path", "git", "url", "file", "editable")):
            return None
        if spec.get("optional") and _name(name) not in optional:
            return None
        if spec.get("extras"):
            extras = f"[{','.join(_strings(spec['extras']))}]"
        markers = f"; {spec['markers']}" if isinstance(spec.get("markers"), str) else ""
        spec = spec.get("version", "*")
    if not isinstance(spec, str):
        return None
    return f"{name}{extras}{poetry_constraint(spec)}{markers}"


def poetry_constraint(text: str) -> str:
    """Poetry's constraint as a PEP 440 specifier: ^1.2 → >=1.2,<2.0; ~1.2 → >=1.2,<1.3."""
    text = re.sub(r"([<>=!~^]+)\s+", r"\1", text.strip())
    if "||" in text or text in ("", "*"):
        return ""  # pip has no "or": the loosest constraint is the installable one
    out: list[str] = []
    for clause in (c for c in re.split(r"[,\s]+", text) if c and c != "*"):
        match = re.match(r"(\^|~(?!=))v?(\d+(?:\.\d+)*)", clause)
        if match:
            parts = [int(p) for p in match[2].split(".")]
            bound = ".".join(str(p) for p in bump(parts, caret=match[1] == "^"))
            out += [f">={clause[1:]}", f"<{bound}"]
        else:
            out.append(f"=={clause}" if clause[0].isdigit() else clause)
    return ",".join(out)


# also the Python version evaluator's (in detect): it lives here because detect imports
# this module, not the reverse
def bump(parts: Sequence[int], caret: bool) -> list[int]:
    """The exclusive upper bound of ^parts (its first non-zero part) or ~parts (the minor)."""
    if caret:
        index = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
    else:
        index = 1 if len(parts) >= 2 else 0
    return [*parts[:index], parts[index] + 1] + [0] * (len(parts) - index - 1)


def _add_tox_deps(plan: Plan, root: Path, deps: Sequence[str]) -> None:
    requirements = []
    for dep in deps:
        include = re.match(r"(-r|-c)\s*(\S+)", dep)
        if include and (target := inside(root, root / include[2])) is not None:
            if target not in plan.requirement_files:
                plan.requirement_files.append(target)
            plan.add_requirements_file(root, target)
        elif re.match(r"(-e\s*)?\.", dep):
            plan.needs_source = True
        elif not dep.startswith("-"):
            requirements.append(dep)
    plan.add(requirements, "[testenv] deps in tox.ini")
    plan.files.add("tox.ini")


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match[1]).lower() if match else ""


def toml_table(table: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = table.get(key, {})
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
