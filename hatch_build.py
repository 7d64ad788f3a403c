"""Wheel build hook: compile the Python analysis with mypyc (see README, "Speed").

The graph's Python analysis (`codeplan/graph/python/` and `codeplan/graph/analyzer.py`) is
plain typed Python; compiled with mypyc, a cold build takes about a fifth less time.
CODEPLAN_COMPILE chooses, for a wheel (`pip install .`, `python -m build`):

  auto (default)  compile when mypyc and a C compiler work, else build pure Python and say so
  1               compile, or fail the build
  0               pure Python

An editable install never compiles: there the checkout's sources are what runs.  The
compiler works in a temporary copy, so nothing is written into the checkout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COMPILED = ("codeplan/graph/analyzer.py", "codeplan/graph/python/*.py")
MODES = ("auto", "1", "0")
# a shared library of all the modules, named for the project rather than for a hash
GROUP = "codeplan_graph"
SETUP = """
import os
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="codeplan-compiled",
    packages=[],
    ext_modules=mypycify(
        ["--ignore-missing-imports", *os.environ["CODEPLAN_MYPYC_SOURCES"].split(",")],
        opt_level="3",
        group_name="{group}",
    ),
)
"""


class CompileFailed(Exception):
    pass


class CompileAnalysisHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._workdir: Path | None = None
        mode = os.environ.get("CODEPLAN_COMPILE", "auto").strip().lower() or "auto"
        if mode not in MODES:
            raise ValueError(f"CODEPLAN_COMPILE={mode!r}: expected one of {', '.join(MODES)}")
        if version == "editable" or mode == "0":
            return
        self._workdir = Path(tempfile.mkdtemp(prefix="codeplan-mypyc-"))
        try:
            libraries = compile_analysis(Path(self.root), self._workdir)
        except BaseException as error:  # Ctrl-C included: no temporary copy is left behind
            self._cleanup()
            if mode == "1" or not isinstance(error, CompileFailed):
                raise
            self.app.display_warning(
                f"codeplan: building without the compiled analysis (about a quarter slower):"
                f" {error}  (CODEPLAN_COMPILE=0 skips the attempt)"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["force_include"].update(
            {str(library): name for name, library in libraries.items()}
        )

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


def compile_analysis(root: Path, workdir: Path) -> dict[str, Path]:
    """Compile a copy of the package in `workdir`; the built libraries by their path in
    the wheel."""
    if sys.implementation.name != "cpython":
        raise CompileFailed(f"mypyc compiles for CPython, not {sys.implementation.name}")
    check_compiler(workdir)
    shutil.copytree(
        root / "codeplan", workdir / "codeplan", ignore=shutil.ignore_patterns("__pycache__")
    )
    sources = sorted(
        str(path.relative_to(workdir)) for pattern in COMPILED for path in workdir.glob(pattern)
    )
    (workdir / "setup.py").write_text(SETUP.format(group=GROUP))
    built = workdir / "lib"
    command = [sys.executable, "setup.py", "build_ext"]
    try:
        run = subprocess.run(
            [*command, "--build-lib", str(built), "--build-temp", str(workdir / "tmp")],
            cwd=workdir,
            env={**os.environ, "CODEPLAN_MYPYC_SOURCES": ",".join(sources)},
            capture_output=True,
            text=True,
            timeout=1800,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CompileFailed(str(error)) from error
    if run.returncode != 0:
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-12:])
        raise CompileFailed(f"mypyc exited with status {run.returncode}:\n{tail}")
    libraries = {str(path.relative_to(built)): path for path in built.rglob("*") if path.is_file()}
    expected = {Path(source).with_suffix("").as_posix() for source in sources}
    missing = sorted(
        module
        for module in expected
        if not any(name.startswith(module + ".") for name in libraries)
    )
    if missing:
        raise CompileFailed(f"mypyc built no library for {', '.join(missing)}")
    return libraries


def check_compiler(workdir: Path) -> None:
    """Fail in a second, rather than after mypyc's minute of analysis, where the C compiler
    or Python's headers (Debian's python3-dev) are missing."""
    if os.name == "nt":  # MSVC is found by setuptools, not by a command name
        return
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    source = workdir / "probe.c"
    source.write_text("#include <Python.h>\nint probe(void) { return 0; }\n")
    command = [*compiler, "-I", sysconfig.get_paths()["include"], "-c", str(source)]
    try:
        run = subprocess.run(
            [*command, "-o", str(workdir / "probe.o")], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CompileFailed(f"no working C compiler ({compiler[0]}): {error}") from error
    if run.returncode != 0:
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-5:])
        raise CompileFailed(
            f"{shlex.join(compiler)} cannot compile against Python's headers"
            f" (exit status {run.returncode}){': ' + tail if tail else ''}"
        )
