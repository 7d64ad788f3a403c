"""`codeplan sandbox test|build|shell|detect|prune`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from codeplan.cli.common import Consoles, consoles, reported_errors
from codeplan.cli.run_options import FormatOpt, OutputFormat
from codeplan.config import read_config
from codeplan.errors import SandboxError
from codeplan.resources import data_dir
from codeplan.sandbox.detect import detect_environment
from codeplan.sandbox.model import LABEL
from codeplan.sandbox.session import Sandbox, open_sandbox, summary

app = typer.Typer(
    help="Build and run the repository's tests in an isolated sandbox.", no_args_is_help=True
)


class Backend(str, Enum):
    DOCKER = "docker"
    LOCAL = "local"


PathArg = Annotated[Path, typer.Argument(help="The repository (default: here).")]
BackendOpt = Annotated[
    Backend | None,
    typer.Option("--backend", help="docker (isolated) or local (a temporary copy; not isolated)."),
]


CaBundleOpt = Annotated[
    Path | None,
    typer.Option(
        "--ca-bundle",
        exists=True,
        dir_okay=False,
        help="CA bundle for the environment build behind a TLS-intercepting proxy "
        "(default: the one the host's pip uses).",
    ),
]


def open_sandbox_for_cli(
    streams: Consoles, path: Path, backend: Backend | None, ca_bundle: Path | None = None
) -> Sandbox:
    root = path.resolve()
    config = read_config(root)
    if ca_bundle is not None:  # the command line wins over [sandbox] ca_bundle
        config = {**config, "sandbox": {**config.get("sandbox", {}), "ca_bundle": str(ca_bundle)}}
    with streams.err.status("preparing the sandbox") as status:
        return open_sandbox(
            root,
            config,
            os.environ,
            backend=backend.value if backend else None,
            progress=lambda line: status.update(f"building the environment: {line[:90]}"),
            warn=lambda text: streams.err.print(text, style="bold red", highlight=False),
        )


@app.command()
def test(
    ctx: typer.Context,
    path: PathArg = Path("."),
    backend: BackendOpt = None,
    ca_bundle: CaBundleOpt = None,
    keyword: Annotated[
        str | None, typer.Option("-k", help="Only tests matching (pytest -k).")
    ] = None,
    output_format: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Run the tests in the sandbox; per-test outcomes, flaky tests marked."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        sandbox = open_sandbox_for_cli(streams, path, backend, ca_bundle)
        args = ("-k", keyword) if keyword else ()
        with streams.err.status("running the tests"):
            run = sandbox.run_tests(test_args=args)
        data = summary(run)
        if output_format is OutputFormat.JSON:
            streams.out.file.write(json.dumps(data, indent=2) + "\n")
        else:
            _print_run(streams, data)
        if run.infrastructure_error:
            raise SandboxError(run.infrastructure_error)
        raise typer.Exit(0 if data["failed"] == data["errors"] == 0 and not run.timed_out else 1)


def _print_run(streams: Consoles, data: dict[str, Any]) -> None:
    table = Table("test", "outcome", "seconds")
    for item in data["tests"]:
        if item["outcome"] != "passed":
            table.add_row(item["id"], item["outcome"], f"{item['duration_s']:.2f}")
    if table.row_count:
        streams.out.print(table)
    flaky = f", {len(data['flaky'])} flaky" if data["flaky"] else ""
    streams.out.print(
        Text(
            f"{data['backend']} ({data['image'] or 'virtualenv'}): {data['passed']} passed, "
            f"{data['failed']} failed, {data['errors']} errors, {data['skipped']} skipped{flaky} "
            f"in {data['duration_s']:.1f} s" + (" — TIMED OUT" if data["timed_out"] else "")
        )
    )


@app.command()
def build(
    ctx: typer.Context,
    path: PathArg = Path("."),
    backend: BackendOpt = None,
    ca_bundle: CaBundleOpt = None,
) -> None:
    """Build (or find in the cache) the environment image for the repository."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        sandbox = open_sandbox_for_cli(streams, path, backend, ca_bundle)
        streams.out.print(
            f"ready: {sandbox.spec.environment_image} (key {sandbox.spec.environment_key})",
            highlight=False,
        )


@app.command()
def detect(
    ctx: typer.Context, path: PathArg = Path("."), output_format: FormatOpt = OutputFormat.TABLE
) -> None:
    """What the sandbox would install and run, and why."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        root = path.resolve()
        spec = detect_environment(root, read_config(root))
        data = {
            "python": spec.python,
            "install": list(spec.install),
            "setup": list(spec.setup),
            "test": spec.test,
            "env": dict(spec.env),
            "dependency_files": list(spec.dependency_files),
            "needs_source": spec.needs_source,
            "evidence": dict(spec.evidence),
        }
        if output_format is OutputFormat.JSON:
            streams.out.file.write(json.dumps(data, indent=2) + "\n")
            return
        table = Table("", "detected", "because", show_lines=True)
        for key in ("python", "install", "setup", "test"):
            value = data[key]
            shown = "\n".join(value) if isinstance(value, list) else str(value)
            table.add_row(key, shown or "-", spec.evidence.get(key, ""))
        table.add_row("keyed on", "\n".join(spec.dependency_files) or "-", "")
        streams.out.print(table)


@app.command()
def shell(ctx: typer.Context, path: PathArg = Path(".")) -> None:
    """An interactive shell in a fresh container over a copy of the tree (no network)."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        sandbox = open_sandbox_for_cli(streams, path, Backend.DOCKER)
        docker = shutil.which("docker")
        if docker is None:
            raise SandboxError("the docker command-line client is needed for an interactive shell")
        created = subprocess.run(
            [docker, "create", "-it", "--network", "none", "--label", f"{LABEL}=1", "--cap-drop", "ALL",
             "--security-opt", "no-new-privileges", sandbox.spec.environment_image, "bash"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        try:
            subprocess.run([docker, "cp", f"{sandbox.root}/.", f"{created}:/work"], check=True)
            subprocess.run([docker, "start", "-ai", created], check=False)
        finally:
            subprocess.run([docker, "rm", "-f", created], capture_output=True, check=False)


@app.command()
def prune(ctx: typer.Context) -> None:
    """Remove CodePlan's leftover containers and its environment images."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        from codeplan.sandbox.engine import connect, reap
        from codeplan.sandbox.images import prune as prune_images

        client = connect()
        leftovers = reap(client)
        images = prune_images(client)
        streams.out.print(f"removed {leftovers} containers/volumes and {len(images)} images")


@app.command()
def bootstrap(
    ctx: typer.Context,
    tag: Annotated[str, typer.Argument(help="The image's tag.")] = "codeplan/base:bookworm",
) -> None:
    """Build the base image without a registry (Debian's debootstrap + docker import;
    needs root, debootstrap and a Debian mirror).  Where images can be pulled,
    python:3.x-slim serves instead."""
    streams = consoles(ctx)
    with reported_errors(streams.err):
        script = data_dir("sandboxes") / "bootstrap-base.sh"
        done = subprocess.run(["bash", str(script), tag], check=False)
        if done.returncode != 0:
            raise SandboxError(f"the bootstrap failed (exit {done.returncode}); see its output")
