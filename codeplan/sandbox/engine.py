"""The Docker engine at the edge: connecting with a clear error, and cleaning up what
CodePlan left behind (every container and volume it makes carries the `LABEL`)."""

from __future__ import annotations

import time
from typing import Any

import docker
import docker.errors

from codeplan.errors import SandboxError
from codeplan.sandbox.model import LABEL

NO_ENGINE_HELP = (
    "no Docker engine is reachable ({reason}). Start one (Linux: `sudo systemctl start "
    "docker`, or `sudo dockerd &`; macOS/Windows: start Docker Desktop), point DOCKER_HOST "
    "at one, or use `--backend local` (runs the tests in a temporary copy, not isolated)"
)


def connect(timeout: float = 60.0) -> Any:
    """A client of the engine (DOCKER_HOST or the default socket)."""
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except docker.errors.DockerException as error:
        raise SandboxError(NO_ENGINE_HELP.format(reason=_short(error))) from None
    return client


def reap(client: Any, older_than_seconds: float = 0.0) -> int:
    """Remove CodePlan's containers and volumes left by a crash or a killed run."""
    removed = 0
    cutoff = time.time() - older_than_seconds
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        created = container.attrs.get("Created", "")
        if older_than_seconds and _timestamp(created) > cutoff:
            continue
        try:
            container.remove(force=True, v=True)
            removed += 1
        except docker.errors.NotFound:
            pass
    for volume in client.volumes.list(filters={"label": LABEL}):
        try:
            volume.remove(force=True)
            removed += 1
        except docker.errors.APIError:
            pass  # still in use by a container another run owns
    return removed


def _timestamp(created: str) -> float:
    """Docker's `Created` ("2026-11-26T12:06:31.123456789Z") in seconds; it is UTC."""
    from datetime import datetime, timezone

    try:
        moment = datetime.strptime(created[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return 0.0
    return moment.replace(tzinfo=timezone.utc).timestamp()


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]
