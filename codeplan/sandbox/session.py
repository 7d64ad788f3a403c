"""A ready sandbox for one repository: the backend chosen, the environment detected, its
image (or virtualenv) built or found in the cache, and test runs with flaky reruns."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codeplan.errors import SandboxError
from codeplan.sandbox.backends import DockerBackend, LocalBackend
from codeplan.sandbox.detect import detect_environment
from codeplan.sandbox.model import SandboxBackend, SandboxSpec, TestOutcome, TestRun
from codeplan.sandbox.settings import make_spec, sandbox_settings

Warn = Callable[[str], None]

LOCAL_WARNING = (
    "WARNING: no Docker engine ({reason}); running the tests in a temporary copy with a "
    "virtualenv instead. This is NOT isolated: the tests can reach the network and the "
    "rest of this machine. Start Docker, or pass --backend local to silence this."
)


@dataclass
class Sandbox:
    root: Path
    backend: SandboxBackend
    spec: SandboxSpec
    notes: tuple[str, ...] = ()

    def run_tests(
        self,
        tree: Path | None = None,
        test_args: Sequence[str] = (),
        *,
        rerun_failures: bool = True,
        trace: Sequence[str] = (),
        observe: bool = False,
    ) -> TestRun:
        """Run the tests over `tree` (default: the repository); a test that fails is run
        once more alone, and marked flaky if it passes then.  `trace` (repository-relative
        files) records the lines of them the tests execute (`TestRun.executed`); with
        `observe`, what the calls into those files from outside did in each test
        (`TestRun.observed_by_test`)."""
        where = tree or self.root
        run = self.backend.run_tests(self.spec, where, test_args, trace, observe)
        failed = [t.id for t in run.failed]
        if not rerun_failures or not failed or run.infrastructure_error or run.timed_out:
            return run
        again = self.backend.run_tests(self.spec, where, failed)
        passed_now = {t.id for t in again.tests if t.outcome == "passed"}
        tests = tuple(replace(t, flaky=True) if t.id in passed_now else t for t in run.tests)
        return replace(run, tests=tests)


def open_sandbox(
    root: Path,
    config: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    backend: str | None = None,
    progress: Callable[[str], None] | None = None,
    warn: Warn | None = None,
    prepare: bool = True,
) -> Sandbox:
    """The repository's sandbox, with its environment built (unless `prepare` is False).

    `backend` None means the configured one ([sandbox] backend, default docker), falling
    back to the local backend with a loud warning when no engine answers."""
    settings = sandbox_settings(config, env)
    environment = detect_environment(root, config)
    chosen = backend or settings.backend
    notes: list[str] = []
    runner: SandboxBackend
    if chosen == "docker":
        from codeplan.sandbox.engine import connect
        from codeplan.sandbox.images import choose_base

        try:
            client = connect()
        except SandboxError as error:
            if backend is not None:
                raise
            notes.append(LOCAL_WARNING.format(reason=str(error).split("(", 1)[-1].split(")")[0]))
            if warn is not None:
                warn(notes[-1])
            chosen = "local"
        else:
            from codeplan.sandbox.engine import reap
            from codeplan.sandbox.images import REAP_AGE_SECONDS

            # what a killed run left behind (old enough never to be a live run's)
            reap(client, older_than_seconds=REAP_AGE_SECONDS)
            base = choose_base(client, environment.python, settings.base_image, warn=warn)
            spec = make_spec(root, config, env, base)
            runner = DockerBackend(client, progress)
    if chosen == "local":
        spec = make_spec(root, config, env, "local")
        runner = LocalBackend(progress=progress)
    elif chosen != "docker":
        raise SandboxError(f"unknown sandbox backend {chosen!r} (docker or local)")
    if prepare:
        runner.prepare(root, spec)
    return Sandbox(root, runner, spec, tuple(notes))


def summary(run: TestRun) -> dict[str, Any]:
    """The `codeplan sandbox test --format json` document."""
    return {
        "backend": run.backend,
        "image": run.image,
        "passed": run.count("passed"),
        "failed": run.count("failed"),
        "errors": run.count("error"),
        "skipped": run.count("skipped") + run.count("xfail"),
        "flaky": [t.id for t in run.tests if t.flaky],
        "duration_s": round(run.duration_s, 3),
        "exit_code": run.exit_code,
        "timed_out": run.timed_out,
        "infrastructure_error": run.infrastructure_error,
        "tests": [_test(t) for t in run.tests],
    }


def _test(test: TestOutcome) -> dict[str, Any]:
    return {"id": test.id, "outcome": test.outcome, "duration_s": round(test.duration_s, 4)}
