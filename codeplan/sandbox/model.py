"""Sandboxes as data: what an environment needs, how its images are keyed, and what a run
reports.  Everything here is pure and computed without the network, so image names are
known before anything is built (the SWE-bench harness's layering: base → environment →
run)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from codeplan.sandbox.trace import Observed, union

LABEL = "codeplan.sandbox"  # every container, image and volume CodePlan makes carries it


@dataclass(frozen=True)
class EnvironmentSpec:
    """What a repository needs to build and test, as detected (or configured)."""

    python: str  # "3.11"
    install: tuple[str, ...]  # shell commands, run at /work over the dependency files
    test: str  # the test command, e.g. "python -m pytest"
    setup: tuple[str, ...] = ()  # shell commands run in every run container before tests
    env: Mapping[str, str] = field(default_factory=dict)
    # files whose contents decide the environment (their hash keys the image); only these
    # are in the build context, unless `needs_source` (a setup.py that must run)
    dependency_files: tuple[str, ...] = ()
    needs_source: bool = False
    # where each decision came from, for `codeplan sandbox detect`
    evidence: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    cpus: float = 2.0
    memory_mb: int = 2048
    pids: int = 512
    timeout_seconds: float = 900.0


@dataclass(frozen=True)
class NetworkAccess:
    """Only the environment build may use the network; these pass through to it."""

    proxies: Mapping[str, str] = field(default_factory=dict)  # HTTP(S)_PROXY, NO_PROXY
    index_url: str | None = None  # PIP_INDEX_URL
    ca_bundle: str | None = None  # host path of a CA bundle for TLS-intercepting proxies


@dataclass(frozen=True)
class SandboxSpec:
    base_image: str  # "python:3.11-slim", or the bootstrapped "codeplan/base:bookworm"
    environment: EnvironmentSpec
    dependency_digest: str  # blake2b of the dependency files' contents
    limits: Limits = field(default_factory=Limits)
    network: NetworkAccess = field(default_factory=NetworkAccess)

    @property
    def environment_key(self) -> str:
        """Changes exactly when the environment must be rebuilt."""
        spec = {
            "base": self.base_image,
            "python": self.environment.python,
            "install": list(self.environment.install),
            "env": dict(sorted(self.environment.env.items())),
            "dependencies": self.dependency_digest,
        }
        text = json.dumps(spec, sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    @property
    def environment_image(self) -> str:
        return f"codeplan-env:{self.environment_key}"


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class, despite the name
    id: str  # "tests/test_x.py::TestY::test_z"
    outcome: str  # passed | failed | error | skipped | xfail | xpass
    duration_s: float
    message: str = ""
    flaky: bool = False  # failed once, passed on the rerun


@dataclass(frozen=True)
class TestRun:
    """A test command's result in a sandbox."""

    __test__ = False  # not a pytest test class, despite the name

    backend: str  # "docker" | "local"
    image: str | None
    exit_code: int
    duration_s: float
    tests: tuple[TestOutcome, ...]
    output_tail: str
    timed_out: bool = False
    # "the environment broke" (a setup command failed, the engine died), told apart
    # from "the code is wrong"
    infrastructure_error: str | None = None
    junit: str = ""  # the JUnit XML report, for failure details
    # with a trace: pytest node id -> path -> the lines that test executed; None when not
    # traced
    executed_by_test: Mapping[str, Mapping[str, frozenset[int]]] | None = None
    # observed: pytest node id -> "path::qualname" -> what the calls into it did
    observed_by_test: Mapping[str, Mapping[str, Observed]] | None = None

    @property
    def executed(self) -> Mapping[str, frozenset[int]] | None:
        """With a trace: path -> the lines of it any test executed."""
        return None if self.executed_by_test is None else union(self.executed_by_test)

    @property
    def failed(self) -> tuple[TestOutcome, ...]:
        return tuple(t for t in self.tests if t.outcome in ("failed", "error") and not t.flaky)

    def count(self, outcome: str) -> int:
        return sum(1 for t in self.tests if t.outcome == outcome)


class SandboxBackend(Protocol):
    name: str

    def prepare(self, root: Path, spec: SandboxSpec) -> None: ...

    def run_tests(
        self,
        spec: SandboxSpec,
        tree: Path,
        test_args: Sequence[str] = (),
        trace: Sequence[str] = (),
        observe: bool = False,
    ) -> TestRun: ...
