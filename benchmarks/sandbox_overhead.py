"""Sandbox cost on real projects: a cold environment build, a cache-hit build (nothing
rebuilt), and a warm test run's overhead over the same tests run directly on the host.

    python benchmarks/sandbox_overhead.py [--runs 5] [--project six==1.16.0 ...] [--json]

Each project is a pure-Python sdist from PyPI, unpacked into a temporary folder.  The
host run uses this interpreter's pytest; the sandbox run is a fresh container from the
environment image with the tree copied in, no network (what the planner's oracle does).
Target (issue 5): warm overhead ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from codeplan.config import read_config
from codeplan.sandbox.images import ensure_environment
from codeplan.sandbox.session import open_sandbox

PROJECTS = ("six==1.16.0", "toolz==1.0.0")


def unpack(requirement: str, folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
         requirement, "-d", str(folder)],
        check=True, capture_output=True,
    )  # fmt: skip
    (sdist,) = folder.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(folder, filter="data")
    return next(p for p in folder.iterdir() if p.is_dir())


def host_run(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root, capture_output=True, check=False,
        # only pytest itself, like the sandbox's environment: not this venv's other plugins
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )  # fmt: skip
    return time.perf_counter() - started


def measure(requirement: str, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        root = unpack(requirement, Path(scratch))
        sandbox = open_sandbox(root, read_config(root), {}, backend="docker", prepare=False)
        client = sandbox.backend.client  # type: ignore[attr-defined]
        image = sandbox.spec.environment_image
        if client.images.list(name=image):
            client.images.remove(image, force=True)
        started = time.perf_counter()
        ensure_environment(client, root, sandbox.spec)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        ensure_environment(client, root, sandbox.spec)
        hit = time.perf_counter() - started
        sandbox_runs, host_runs, counts = [], [], {}
        for _ in range(runs):
            started = time.perf_counter()
            result = sandbox.run_tests(rerun_failures=False)
            sandbox_runs.append(time.perf_counter() - started)
            host_runs.append(host_run(root))
            counts = {"passed": result.count("passed"), "failed": result.count("failed")}
        return {
            "project": requirement,
            "image": image,
            "tests": counts,
            "cold_build_s": round(cold, 2),
            "cache_hit_s": round(hit, 3),
            "sandbox_run_s": round(statistics.median(sandbox_runs), 3),
            "host_run_s": round(statistics.median(host_runs), 3),
            "overhead_s": round(statistics.median(sandbox_runs) - statistics.median(host_runs), 3),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--project", action="append", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(p, args.runs) for p in args.project or PROJECTS]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        "| project | tests (passed/failed) | cold build | cache hit | sandbox run | host run | overhead |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        t = r["tests"]
        print(
            f"| {r['project']} | {t.get('passed')}/{t.get('failed')} | {r['cold_build_s']} s | "
            f"{r['cache_hit_s']} s | {r['sandbox_run_s']} s | {r['host_run_s']} s | {r['overhead_s']} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
