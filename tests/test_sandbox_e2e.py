"""Sandboxes end to end on the real engine: a third-party project's suite, the planner's
oracle, flaky tests, the local backend, and what happens without an engine."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run
from codemods import TASK
from gitrepo import git
from planner_helpers import example_repo, status
from sandbox_images import BASE_IMAGE, base_image, docker_client, unavailable  # noqa: F401

from codeplan.config import read_config
from codeplan.sandbox.model import LABEL
from codeplan.sandbox.session import open_sandbox

SIX = "six==1.16.0"
SEED = "inventory/pricing.py::price_with_tax"
EDITOR = Path(__file__).resolve().parent.parent / "examples" / "swap_price_arguments.py"


@pytest.fixture(scope="module")
def pip_base(base_image: str) -> str:  # noqa: F811 (the imported fixture)
    if base_image != BASE_IMAGE:
        unavailable("installing from PyPI needs pip in the base: run sandboxes/bootstrap-base.sh")
    return base_image


@pytest.fixture(scope="module")
def six_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist of `six` from PyPI, unpacked into a fresh git repository."""
    folder = tmp_path_factory.mktemp("six")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
         SIX, "-d", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        unavailable(f"cannot download {SIX} from PyPI: {done.stderr[-300:]}")
    (sdist,) = folder.glob("six-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(folder, filter="data")
    root = next(p for p in folder.iterdir() if p.is_dir())
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "six")
    return root


def leftover_containers(client: Any) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": LABEL}))


def test_a_real_projects_suite_runs_in_the_sandbox_and_counts_match_pytest(
    six_repo: Path,
    pip_base: str,
    docker_client: Any,  # noqa: F811
) -> None:
    sandbox = open_sandbox(six_repo, read_config(six_repo), {}, backend="docker")
    result = sandbox.run_tests(rerun_failures=False)
    assert result.infrastructure_error is None, result.output_tail
    # pytest's own summary line in the same run: "1 failed, 198 passed, 1 skipped in 0.8s"
    summary = result.output_tail.strip().splitlines()[-1]
    counted = {
        word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|error)", summary)
    }
    assert result.count("passed") == counted.get("passed", 0) > 150
    assert result.count("failed") == counted.get("failed", 0)
    assert result.count("skipped") + result.count("xfail") == counted.get("skipped", 0)
    # and a bare run on the host collects the same tests
    bare = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=six_repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    collected = re.search(r"(\d+) tests? collected", bare.stdout)
    assert collected is not None and int(collected.group(1)) == len(result.tests)
    assert status(six_repo) == ""  # the sandbox never writes into the tree
    assert not leftover_containers(docker_client)


def test_a_test_failing_only_beside_another_is_marked_flaky(
    tmp_path: Path,
    pip_base: str,
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_order.py").write_text(
        "STATE = []\n\n\ndef test_a():\n    STATE.append(1)\n\n\n"
        "def test_b():\n    assert not STATE  # passes when run alone\n"
    )
    sandbox = open_sandbox(tmp_path, {}, {}, backend="docker")
    result = sandbox.run_tests()
    flaky = {t.id for t in result.tests if t.flaky}
    assert flaky == {"tests/test_order.py::test_b"}
    assert result.failed == ()


def test_the_planner_validates_in_docker(tmp_path: Path, pip_base: str) -> None:
    repo = example_repo(tmp_path)
    outcome = run(
        "run", TASK, "--seed", SEED, "-C", repo, "--editor", f"{EDITOR}:SwapPriceArguments",
        "--sandbox", "docker", "-f", "json",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.out + outcome.err
    data = json.loads(outcome.out)
    assert data["status"] == "done" and "validation passed" in data["reason"]
    events = json.loads(run("show", "-C", repo, "-f", "json").out)["events"]
    assert [e["ok"] for e in events if e["event"] == "validate"] == [True]


def test_the_local_backend_runs_the_same_tests(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    outcome = run("sandbox", "test", str(repo), "--backend", "local", "-f", "json")
    assert outcome.exit_code == 0, outcome.out + outcome.err
    data = json.loads(outcome.out)
    assert data["backend"] == "local" and data["passed"] == 22 and data["failed"] == 0


def test_without_an_engine_docker_is_a_clear_error_and_the_default_falls_back_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = example_repo(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    explicit = run("sandbox", "test", str(repo), "--backend", "docker")
    assert explicit.exit_code == 1
    assert "no Docker engine" in explicit.err and "--backend local" in explicit.err
    fallback = run("sandbox", "test", str(repo), "-f", "json")
    assert fallback.exit_code == 0, fallback.err
    assert "NOT isolated" in fallback.err
    assert json.loads(fallback.out)["backend"] == "local"


def test_a_ca_bundle_can_be_given_on_the_command_line(tmp_path: Path, pip_base: str) -> None:
    repo = example_repo(tmp_path)
    missing = run("sandbox", "build", str(repo), "--ca-bundle", str(tmp_path / "nope.pem"))
    assert missing.exit_code == 2
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if not bundle.is_file():
        pytest.skip("this machine has no system CA bundle")
    built = run("sandbox", "build", str(repo), "--backend", "docker", "--ca-bundle", str(bundle))
    assert built.exit_code == 0, built.err
    assert "ready: codeplan-env:" in built.out


def test_opening_a_sandbox_reaps_what_a_killed_run_left(
    tmp_path: Path,
    pip_base: str,
    docker_client: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import codeplan.sandbox.images as images

    leftover = docker_client.containers.create(pip_base, "true", labels={LABEL: "1"})
    monkeypatch.setattr(images, "REAP_AGE_SECONDS", 0.0)  # as if it were an hour old
    open_sandbox(example_repo(tmp_path), {}, {}, backend="docker", prepare=False)
    assert leftover.id not in {c.id for c in leftover_containers(docker_client)}


@pytest.mark.parametrize("backend", ["local", "docker"])
def test_a_traced_run_reports_the_lines_the_test_executes(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "docker":
        request.getfixturevalue("pip_base")
    repo = example_repo(tmp_path)
    sandbox = open_sandbox(repo, {}, {}, backend=backend)
    test = "tests/test_pricing.py::test_price_with_tax_applies_the_category_rate"
    run_ = sandbox.run_tests(repo, [test], rerun_failures=False, trace=["inventory/pricing.py"])
    assert [t.outcome for t in run_.tests] == ["passed"]
    assert run_.executed is not None
    lines = run_.executed["inventory/pricing.py"]
    source = (repo / "inventory" / "pricing.py").read_text().splitlines()
    numbered = {n: source[n - 1].strip() for n in lines}
    assert any(
        text.startswith("return round_money(amount * (1 + tax_rate") for text in numbered.values()
    )
    assert not any("discount must be between" in text for text in numbered.values())
    # untraced, a run says nothing about lines
    assert sandbox.run_tests(repo, [test], rerun_failures=False).executed is None


def test_a_traced_run_tells_each_tests_lines_apart(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    sandbox = open_sandbox(repo, {}, {}, backend="local")
    run_ = sandbox.run_tests(
        repo, ["tests/test_pricing.py"], rerun_failures=False, trace=["inventory/pricing.py"]
    )
    assert run_.executed_by_test is not None
    source = (repo / "inventory" / "pricing.py").read_text().splitlines()

    def executes(test: str, fragment: str) -> bool:
        lines = run_.executed_by_test[f"tests/test_pricing.py::{test}"]["inventory/pricing.py"]
        return any(fragment in source[n - 1] for n in lines)

    assert executes("test_apply_discount", "def apply_discount")
    assert not executes("test_apply_discount", "def line_total")
    assert executes("test_line_total_uses_the_products_tax_category", "def line_total")
    assert not executes("test_line_total_uses_the_products_tax_category", "def apply_discount")


def test_the_tracer_finds_an_installed_copy_of_a_src_layout_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    from codeplan.sandbox.trace import PLUGIN

    monkeypatch.setenv("CODEPLAN_TRACE_FILES", "src/click/core.py\nsetup.py")
    plugin = types.ModuleType("codeplan_trace")
    exec(compile(PLUGIN, "codeplan_trace.py", "exec"), plugin.__dict__)
    assert plugin._relative("/venv/lib/site-packages/click/core.py") == "src/click/core.py"
    assert plugin._relative("/work/src/click/core.py") == "src/click/core.py"
    assert plugin._relative("/work/setup.py") == "setup.py"
    assert plugin._relative("/work/tools/core.py") is None  # one part is not enough
