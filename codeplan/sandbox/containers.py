"""One command in one throwaway container: the tree copied in (never mounted, so nothing the
command does can reach the host's files), no network, no capabilities, bounded memory, CPU,
processes and time; the output and a few files read back; the container always removed."""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import docker.errors
import requests.exceptions

from codeplan.errors import SandboxError
from codeplan.sandbox.model import LABEL, Limits

SKIPPED_DIRS = frozenset({".git", ".codeplan", "__pycache__", ".venv", "node_modules"})
OUTPUT_KEPT = 2 * 1024 * 1024
# json-file rotation bounds what a chatty command can write to the engine's disk; two files
# of this size still hold the last OUTPUT_KEPT bytes
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "2m", "max-file": "2"}}
KILL_GRACE_SECONDS = 30.0

MISSING_IMAGE_HELP = (
    "image {image!r} is not on this Docker engine. Build it first: `sudo codeplan "
    "sandbox bootstrap` makes codeplan/base:bookworm without a registry; environment images "
    "(codeplan-env:*) are built by `codeplan sandbox build`"
)


@dataclass(frozen=True)
class ContainerResult:
    exit_code: int | None  # None when killed at the timeout
    output: str  # stdout and stderr interleaved, the last OUTPUT_KEPT bytes
    duration_s: float
    timed_out: bool
    oom_killed: bool
    # container path (as asked) -> contents; paths missing or not regular files are omitted
    files: Mapping[str, bytes] = field(default_factory=dict)


def run_in_container(
    client: Any,
    image: str,
    command: str,
    *,
    tree: Path | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
    env: Mapping[str, str] = {},
    fetch: Sequence[str] = (),
    workdir: str = "/work",
    network: bool = False,
    labels: Mapping[str, str] = {},
) -> ContainerResult:
    """Run `sh -c command` at `workdir` over a copy of `tree`, isolated and bounded."""
    # named up front so that it can be removed even when an interrupt lands while the
    # engine creates it, before the SDK has handed back a container object
    name = f"codeplan-{uuid.uuid4().hex[:16]}"
    memory = f"{limits.memory_mb}m"
    try:
        container = client.containers.create(
            image,
            ["sh", "-c", command],
            name=name,
            working_dir=workdir,
            environment=dict(env),
            network_mode="bridge" if network else "none",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            privileged=False,
            mem_limit=memory,
            memswap_limit=memory,  # equal to the memory limit: no swap to hide in
            nano_cpus=int(limits.cpus * 1e9),
            pids_limit=limits.pids,
            labels={LABEL: "1", **labels},
            log_config=LOG_CONFIG,
        )
        return _run(container, tree, limits.timeout_seconds, fetch, workdir)
    except docker.errors.ImageNotFound:
        raise SandboxError(MISSING_IMAGE_HELP.format(image=image)) from None
    except docker.errors.DockerException as error:
        raise SandboxError(f"a container of {image!r} failed: {_short(error)}") from None
    finally:
        _remove(client, name)


def _run(
    container: Any, tree: Path | None, timeout: float, fetch: Sequence[str], workdir: str
) -> ContainerResult:
    if tree is not None:
        with tempfile.TemporaryFile() as archive:
            _write_tree(tree, workdir, archive)
            archive.seek(0)
            # at "/" with the workdir in the member names, so it need not exist in the image
            container.put_archive("/", archive)
    started = time.monotonic()
    container.start()
    exit_code = _wait(container, timeout)
    duration = time.monotonic() - started
    if exit_code is None:
        _kill(container)
        _wait(container, KILL_GRACE_SECONDS)
    container.reload()
    oom_killed = bool(container.attrs.get("State", {}).get("OOMKilled", False))
    return ContainerResult(
        exit_code=exit_code,
        output=_output(container),
        duration_s=round(duration, 3),
        timed_out=exit_code is None,
        oom_killed=oom_killed,
        files=_fetch(container, fetch, workdir),
    )


def _wait(container: Any, timeout: float) -> int | None:
    """The exit code, or None if the command still runs after `timeout` seconds."""
    try:
        status = container.wait(timeout=max(timeout, 0.001))
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        # the SDK reports a wait that outlived its timeout as either, depending on urllib3
        container.reload()
        if container.status in ("running", "paused", "restarting"):
            return None
        return int(container.attrs["State"]["ExitCode"])
    return int(status["StatusCode"])


def _kill(container: Any) -> None:
    try:
        container.kill()
    except docker.errors.APIError as error:
        if error.status_code != 409:  # 409: it exited on its own meanwhile
            raise


def _write_tree(tree: Path, workdir: str, archive: IO[bytes]) -> None:
    root = workdir.strip("/")
    try:
        with tarfile.open(fileobj=archive, mode="w") as tar:
            tar.add(tree, arcname=root, recursive=False, filter=_as_root)
            for path in _tree_paths(tree):
                name = posixpath.join(root, path.relative_to(tree).as_posix())
                tar.add(path, arcname=name, recursive=False, filter=_as_root)
    except OSError as error:
        raise SandboxError(f"could not copy {tree} into the container: {error}") from None


def _tree_paths(tree: Path) -> Iterator[Path]:
    # os.walk does not follow symlinks to directories: they are copied as links, so a link
    # pointing out of the tree resolves inside the container, not on the host
    for folder, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        base = Path(folder)
        for name in dirs:
            yield base / name
        for name in sorted(files):
            yield base / name


def _as_root(member: tarfile.TarInfo) -> tarfile.TarInfo:
    # the host user's uid means nothing in the container; root owns what it runs over
    member.uid = member.gid = 0
    member.uname = member.gname = "root"
    return member


def _output(container: Any) -> str:
    kept = bytearray()
    for chunk in container.logs(stdout=True, stderr=True, stream=True, follow=False):
        kept += chunk
        if len(kept) > 2 * OUTPUT_KEPT:
            del kept[:-OUTPUT_KEPT]
    return bytes(kept[-OUTPUT_KEPT:]).decode("utf-8", errors="replace")


def _fetch(container: Any, paths: Sequence[str], workdir: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in paths:
        try:
            chunks, _stat = container.get_archive(posixpath.join(workdir, path))
            data = b"".join(chunks)
        except docker.errors.NotFound:
            continue
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = tar.next()
            handle = tar.extractfile(member) if member is not None and member.isfile() else None
            if handle is not None:
                files[path] = handle.read()
    return files


def _remove(client: Any, name: str) -> None:
    try:
        client.api.remove_container(name, force=True, v=True)
    except docker.errors.NotFound:
        pass  # never created
    except docker.errors.DockerException:
        pass  # left labelled for `reap`; the run's own result or error matters more


def _short(error: BaseException) -> str:
    explanation = getattr(error, "explanation", None)
    text = str(explanation or error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
