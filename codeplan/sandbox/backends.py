"""Where tests run: a Docker container from the environment image (isolated), or, on a
machine without Docker, a temporary copy of the tree with its own virtualenv (not
isolated: chosen explicitly or as a loud fallback)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codeplan.errors import SandboxError
from codeplan.sandbox.model import SandboxSpec, TestRun
from codeplan.sandbox.results import JUNIT_PATH, parse_outcomes
from codeplan.sandbox.trace import (
    PYTEST_ARGS,
    TRACE_FILE,
    executed_by_test,
    observed_by_test,
    trace_setup,
)
from codeplan.secrets import without_secrets

SETUP_DONE = "__codeplan_setup_done__"
TRACE_DIR = "/tmp/codeplan-trace"  # inside the run container; outside the tree
_SKIPPED_IN_COPIES = (".git", ".codeplan", "__pycache__", ".venv", "node_modules", ".tox")
_PYTEST_FLAGS = ("-p", "no:cacheprovider", "-o", "junit_family=xunit1")

Progress = Callable[[str], None]


def runs_pytest(spec: SandboxSpec) -> bool:
    """Whether the environment's test command is pytest (it takes pytest's options)."""
    argv = shlex.split(spec.environment.test)
    return "pytest" in argv[:3] or any(a.endswith("pytest") for a in argv[:1])


def test_command(
    spec: SandboxSpec, junit: str, test_args: Sequence[str], pytest_args: Sequence[str] = ()
) -> str:
    """The environment's test command with a JUnit report and `pytest_args` (pytest only),
    then the args."""
    argv = shlex.split(spec.environment.test)
    if runs_pytest(spec):
        position = argv.index("pytest") + 1 if "pytest" in argv else 1
        argv[position:position] = [*_PYTEST_FLAGS, *pytest_args, f"--junitxml={junit}"]
    return shlex.join([*argv, *test_args])


def script(
    spec: SandboxSpec,
    junit: str,
    test_args: Sequence[str],
    trace: Sequence[str] = (),
    trace_dir: str = "",
    observe: bool = False,
) -> str:
    """Setup commands, a marker, then the tests: a missing marker in the output means the
    environment broke before the tests ran.  With `trace` (files; pytest only), the lines
    of them the tests execute are written to `trace_dir`, and, to `observe` them, what the
    calls into them did in each test (codeplan/sandbox/trace.py)."""
    lines = ["set -e", *spec.environment.setup, f"echo {SETUP_DONE}", "set +e"]
    traced = bool(trace) and runs_pytest(spec)
    if traced:
        lines += trace_setup(trace_dir, trace, observe)
    lines.append(test_command(spec, junit, test_args, PYTEST_ARGS if traced else ()))
    return "\n".join(lines)


class DockerBackend:
    name = "docker"

    def __init__(self, client: Any, progress: Progress | None = None) -> None:
        self.client = client
        self.progress = progress

    def prepare(self, root: Path, spec: SandboxSpec) -> None:
        """Build the environment image now, unless an image with its key exists."""
        from codeplan.sandbox.images import ensure_environment

        ensure_environment(self.client, root, spec, self.progress)

    def run_tests(
        self,
        spec: SandboxSpec,
        tree: Path,
        test_args: Sequence[str] = (),
        trace: Sequence[str] = (),
        observe: bool = False,
    ) -> TestRun:
        from codeplan.sandbox.containers import run_in_container

        started = time.monotonic()
        report = f"{TRACE_DIR}/{TRACE_FILE}"
        result = run_in_container(
            self.client,
            spec.environment_image,
            script(spec, JUNIT_PATH, test_args, trace, TRACE_DIR, observe),
            tree=tree,
            limits=spec.limits,
            env=spec.environment.env,
            fetch=[JUNIT_PATH, report] if trace else [JUNIT_PATH],
            labels={"codeplan.purpose": "tests"},
        )
        junit = result.files.get(JUNIT_PATH, b"").decode("utf-8", "replace")
        traced = result.files.get(report)
        return _test_run(
            self.name,
            spec.environment_image,
            result.exit_code,
            result.output,
            junit,
            time.monotonic() - started,
            timed_out=result.timed_out,
            oom=result.oom_killed,
            trace_report=traced.decode("utf-8", "replace") if traced is not None else None,
        )


class LocalBackend:
    """A temporary copy and a virtualenv per environment key (cached under the user's
    cache folder), for machines without Docker.  Nothing stops the tests from touching the
    network or the rest of the machine."""

    name = "local"

    def __init__(self, cache_dir: Path | None = None, progress: Progress | None = None) -> None:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        self.cache_dir = cache_dir or Path(base) / "codeplan" / "venvs"
        self.progress = progress

    def prepare(self, root: Path, spec: SandboxSpec) -> None:
        """Create the environment's virtualenv now (it is cached by environment key)."""
        self._venv(root, spec)

    def run_tests(
        self,
        spec: SandboxSpec,
        tree: Path,
        test_args: Sequence[str] = (),
        trace: Sequence[str] = (),
        observe: bool = False,
    ) -> TestRun:
        venv = self._venv(tree, spec)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="codeplan-run-") as scratch:
            work = Path(scratch) / "work"
            shutil.copytree(
                tree, work, ignore=shutil.ignore_patterns(*_SKIPPED_IN_COPIES), symlinks=True
            )
            junit = Path(scratch) / "junit.xml"
            traces = Path(scratch) / "trace"
            env = _venv_env(venv, work, spec.environment.env)
            try:
                done = subprocess.run(
                    ["sh", "-c", script(spec, str(junit), test_args, trace, str(traces), observe)],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=spec.limits.timeout_seconds,
                    check=False,
                )
                exit_code: int | None = done.returncode
                output, timed_out = done.stdout + done.stderr, False
            except subprocess.TimeoutExpired as expired:
                exit_code, timed_out = None, True
                output = str(expired.stdout or "") + str(expired.stderr or "")
            xml = junit.read_text(encoding="utf-8", errors="replace") if junit.is_file() else ""
            report = traces / TRACE_FILE
            traced = report.read_text(errors="replace") if report.is_file() else None
        return _test_run(
            self.name, None, exit_code, output, xml, time.monotonic() - started,
            timed_out=timed_out, trace_report=traced,
        )  # fmt: skip

    def _venv(self, root: Path, spec: SandboxSpec) -> Path:
        venv = self.cache_dir / spec.environment_key
        if (venv / ".codeplan-ready").is_file():
            return venv
        if self.progress:
            self.progress(f"creating the virtualenv {venv}")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        with tempfile.TemporaryDirectory(prefix="codeplan-deps-") as scratch:
            source = Path(scratch)
            files = None if spec.environment.needs_source else spec.environment.dependency_files
            _copy_files(root, source, files)
            env = _venv_env(venv, source, spec.environment.env)
            for step, command in enumerate(spec.environment.install, 1):
                done = subprocess.run(
                    ["sh", "-c", command],
                    cwd=source,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
                    raise SandboxError(
                        f"environment build failed at step {step}: {command}\n{tail}"
                    )
        (venv / ".codeplan-ready").write_text("ok\n")
        return venv


def _venv_env(venv: Path, work: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in without_secrets(os.environ).items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(extra)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{work / 'src'}{os.pathsep}{work}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _copy_files(root: Path, target: Path, files: Sequence[str] | None) -> None:
    if files is None:
        shutil.copytree(
            root, target, ignore=shutil.ignore_patterns(*_SKIPPED_IN_COPIES), dirs_exist_ok=True
        )
        return
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)


def _test_run(
    backend: str,
    image: str | None,
    exit_code: int | None,
    output: str,
    junit: str,
    seconds: float,
    *,
    timed_out: bool,
    oom: bool = False,
    trace_report: str | None = None,
) -> TestRun:
    tail = "\n".join(output.splitlines()[-40:])
    broken = None
    if SETUP_DONE not in output and not timed_out:
        broken = f"the sandbox's setup failed before the tests ran:\n{tail}"
    elif oom:
        broken = "the tests ran out of memory (raise [sandbox] memory_mb)"
    return TestRun(
        backend=backend,
        image=image,
        exit_code=-1 if exit_code is None else exit_code,
        duration_s=seconds,
        tests=tuple(parse_outcomes(junit)),
        output_tail=tail,
        timed_out=timed_out,
        infrastructure_error=broken,
        junit=junit,
        executed_by_test=executed_by_test(trace_report) if trace_report is not None else None,
        observed_by_test=observed_by_test(trace_report) if trace_report is not None else None,
    )
