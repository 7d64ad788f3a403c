"""The sandbox's images: choosing a base, building the environment image once per
`environment_key` (a cache hit costs one `inspect`), and pruning them.

The environment build is the only step given a network (the engine's default bridge), with
the configured proxies, package index and CA bundle; the images it makes run without one."""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import re
import tarfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import docker.errors
from docker.utils import parse_repository_tag

from codeplan.errors import SandboxError
from codeplan.sandbox.engine import reap
from codeplan.sandbox.model import LABEL, SandboxSpec

ENV_KEY_LABEL = "codeplan.env-key"
PYTHON_LABEL = "codeplan.python"  # set by sandboxes/bootstrap-base.sh
DEFAULT_BASE = "codeplan/base:bookworm"
SKIPPED_DIRS = frozenset({".git", ".codeplan", "__pycache__", ".venv"})
# the context's own files live under .codeplan/, which the project part never contains, so a
# repository's own Dockerfile or .dockerignore cannot interfere
DOCKERFILE = ".codeplan/Dockerfile"
CA_IN_CONTEXT = ".codeplan/ca.crt"
CA_IN_IMAGE = "/usr/local/share/ca-certificates/codeplan-ca.crt"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PROXY_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
LOG_TAIL = 30
# silence, not duration: a pull or an install may run long as long as it keeps reporting
PULL_QUIET_SECONDS = 30.0
BUILD_QUIET_SECONDS = 1800
REAP_AGE_SECONDS = 3600.0  # older than any run's timeout, so never a live run's container

BOOTSTRAP_HELP = (
    "run `sudo codeplan sandbox bootstrap` (builds codeplan/base:bookworm from a Debian "
    "mirror, no registry needed) or set [sandbox] base_image to a local image"
)
_STEP = re.compile(r"^Step (\d+)/(\d+) : ")
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # the engine paints a step's stderr red

Progress = Callable[[str], None]
log = logging.getLogger(__name__)


def choose_base(
    client: Any, python: str, configured: str | None, warn: Progress | None = None
) -> str:
    """The base image for a project needing `python` ("3.11"): the configured one, else a
    bootstrapped image of that version, else python:<v>-slim (local or pulled), else a
    bootstrapped image of another version, with a warning through `warn`."""
    if configured:
        return configured
    bootstrapped = _bootstrapped(client)
    for tag, version in bootstrapped:
        if version == python:
            return tag
    slim = f"python:{python}-slim"
    if _exists(client, slim):
        return slim
    reason = _pull(client, slim)
    if reason is None:
        return slim
    if bootstrapped:
        tag, version = bootstrapped[0]
        message = (
            f"the project asks for Python {python}, but {slim} cannot be pulled ({reason}): "
            f"using {tag}, which has Python {version}"
        )
        (warn or log.warning)(message)
        return tag
    raise SandboxError(
        f"no base image for Python {python}: {slim} cannot be pulled ({reason}); {BOOTSTRAP_HELP}"
    )


def ensure_environment(
    client: Any, root: Path, spec: SandboxSpec, progress: Progress | None = None
) -> str:
    """The environment image's tag, built unless an image with that tag exists."""
    tag = spec.environment_image
    if _exists(client, tag):
        return tag
    if not _exists(client, spec.base_image):
        reason = _pull(client, spec.base_image)
        if reason is not None:
            raise SandboxError(
                f"base image {spec.base_image!r} is not on this engine and cannot be pulled "
                f"({reason}); {BOOTSTRAP_HELP}"
            )
    steps = dockerfile_steps(spec)
    try:
        context = build_context(root, spec, "".join(f"{line}\n" for line, _ in steps))
    except OSError as error:
        raise SandboxError(f"cannot make the environment's build context: {error}") from None
    _build(client, context, tag, steps, _build_args(spec), progress)
    return tag


def dockerfile_steps(spec: SandboxSpec) -> list[tuple[str, str]]:
    """The Dockerfile as (instruction, what a failure there means) pairs, one per build
    step, so a failure can be named by the step number the engine reports."""
    environment = spec.environment
    steps = [(f"FROM {spec.base_image}", f"base image {spec.base_image}")]
    # early and shared by every project on this base, so a failed build's intermediate
    # images are labelled too (prune finds them) without defeating the layer cache
    steps.append((f"LABEL {LABEL}=1", "label"))
    steps.append(("WORKDIR /work", "workdir"))
    if spec.network.ca_bundle:
        steps.append((f"COPY {CA_IN_CONTEXT} {CA_IN_IMAGE}", "copy the CA bundle"))
        install_ca = (
            "if command -v update-ca-certificates >/dev/null 2>&1; then "
            "update-ca-certificates >/dev/null; "
            f"else mkdir -p /etc/ssl/certs && cat {CA_IN_IMAGE} >> {SYSTEM_BUNDLE}; fi"
        )
        steps.append((_run(install_ca), "install the CA bundle"))
        # ARGs, not ENVs: they reach every RUN below but not the image's runtime
        # environment, which has no network to trust anything on
        for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            steps.append((f"ARG {name}={SYSTEM_BUNDLE}", "CA settings"))
    if spec.network.index_url:
        steps.append(("ARG PIP_INDEX_URL", "package index setting"))
    for name, value in sorted(environment.env.items()):
        steps.append((f"ENV {name}={_quote(value)}", f"environment variable {name}"))
    if environment.dependency_files or environment.needs_source:
        steps.append(("COPY project/ /work/", "copy the dependency files"))
    steps.extend((_run(command), command) for command in environment.install)
    steps.append(("ENV PYTHONPATH=/work/src:/work PYTHONDONTWRITEBYTECODE=1", "environment"))
    steps.append((f"LABEL {ENV_KEY_LABEL}={spec.environment_key}", "label"))
    return steps


def build_context(root: Path, spec: SandboxSpec, dockerfile: str) -> io.BytesIO:
    """An uncompressed tar of the Dockerfile, the CA bundle and the project's dependency
    files (the whole tree, minus caches and VCS data, when the install runs the source)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add_bytes(tar, DOCKERFILE, dockerfile.encode())
        if spec.network.ca_bundle:
            _add_bytes(tar, CA_IN_CONTEXT, Path(spec.network.ca_bundle).read_bytes())
        files = _project_files(root, spec)
        if files:
            _add_dir(tar, "project")
        for relative in files:
            tar.add(root / relative, arcname=f"project/{relative}", recursive=False)
    buffer.seek(0)
    return buffer


def prune(client: Any, keep_latest: int = 0) -> list[str]:
    """Remove environment images no container uses (all but the `keep_latest` newest),
    the leftovers of failed builds, and containers left by crashed runs.  Returns the
    removed images' tags (ids for untagged ones)."""
    reap(client, older_than_seconds=REAP_AGE_SECONDS)
    images = client.images.list(filters={"label": ENV_KEY_LABEL})
    images.sort(key=lambda image: str(image.attrs.get("Created", "")), reverse=True)
    removed: list[str] = []
    for image in images[keep_latest:]:
        for name in image.tags or [image.id]:
            try:
                client.images.remove(name)
            except docker.errors.APIError:
                continue  # a live run's container still uses it
            removed.append(name)
    dangling = client.images.prune(filters={"dangling": True, "label": LABEL})
    for entry in dangling.get("ImagesDeleted") or []:
        if "Deleted" in entry:
            removed.append(entry["Deleted"])
    return removed


def _build(
    client: Any,
    context: io.BytesIO,
    tag: str,
    steps: list[tuple[str, str]],
    build_args: Mapping[str, str],
    progress: Progress | None,
) -> None:
    tail: deque[str] = deque(maxlen=LOG_TAIL)
    step = 0
    try:
        for chunk in client.api.build(
            fileobj=context,
            custom_context=True,
            dockerfile=DOCKERFILE,
            tag=tag,
            buildargs=dict(build_args),
            network_mode="bridge",
            rm=True,
            forcerm=True,  # no intermediate container survives a failed step
            pull=False,
            decode=True,
            timeout=BUILD_QUIET_SECONDS,
        ):
            for line in _lines(chunk):
                match = _STEP.match(line)
                if match:
                    step = int(match.group(1))
                tail.append(line)
                if progress is not None:
                    progress(line)
            if "error" in chunk:
                raise SandboxError(_failure(step, steps, str(chunk["error"]), tail))
    except (docker.errors.DockerException, OSError) as error:
        raise SandboxError(_failure(step, steps, str(error), tail)) from None
    if not _exists(client, tag):
        raise SandboxError(_failure(step, steps, "the engine reported no image", tail))


def _failure(step: int, steps: list[tuple[str, str]], error: str, tail: deque[str]) -> str:
    what = steps[step - 1][1] if 0 < step <= len(steps) else "before the first step"
    lines = list(tail)
    if error.strip() and error.strip() not in lines:
        lines.append(error.strip())
    log_tail = "\n".join(lines[-LOG_TAIL:])
    return f"environment build failed at step {step}/{len(steps)}: {what}\n{log_tail}"


def _lines(chunk: Mapping[str, Any]) -> Iterator[str]:
    text = chunk.get("stream") or chunk.get("status") or ""
    for line in _COLOUR.sub("", str(text)).splitlines():
        if line.strip():
            yield line.rstrip()


def _build_args(spec: SandboxSpec) -> dict[str, str]:
    # proxies are the engine's predefined build args: no ARG needed, and kept out of
    # `docker history`, where credentials in a proxy URL would otherwise end up
    args: dict[str, str] = {}
    for name, value in spec.network.proxies.items():
        if name.upper() in PROXY_NAMES:
            args[name.upper()] = value
            args[name.lower()] = value  # apt and curl only read the lowercase names
    if spec.network.index_url:
        args["PIP_INDEX_URL"] = spec.network.index_url
    return args


def _project_files(root: Path, spec: SandboxSpec) -> list[str]:
    environment = spec.environment
    if environment.needs_source:
        found: list[str] = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
            base = Path(folder).relative_to(root)
            found.extend(str(base / d) for d in dirs if (Path(folder) / d).is_symlink())
            found.extend(str(base / name) for name in sorted(files))
        return found
    resolved_root = root.resolve()
    chosen: list[str] = []
    for relative in environment.dependency_files:
        path = (root / relative).resolve()
        if not path.is_relative_to(resolved_root):
            raise SandboxError(f"dependency file {relative!r} is outside the repository")
        if path.is_file():  # a missing one still counts in the digest, as missing
            chosen.append(str(Path(relative)))
    return chosen


def _bootstrapped(client: Any) -> list[tuple[str, str]]:
    """(tag, Python version) of the bootstrap's images, the default tag first, then newest."""
    found: list[tuple[str, str, str]] = []
    for image in client.images.list(filters={"label": PYTHON_LABEL}):
        labels = image.labels or {}
        if ENV_KEY_LABEL in labels:
            continue  # an environment image inherits the label from its base
        created = str(image.attrs.get("Created", ""))
        found.extend((created, tag, labels[PYTHON_LABEL]) for tag in image.tags)
    found.sort(reverse=True)
    found.sort(key=lambda item: item[1] != DEFAULT_BASE)  # stable: newest first otherwise
    return [(tag, version) for _, tag, version in found]


def _pull(client: Any, image: str) -> str | None:
    """None once `image` is pulled, else why not.  The SDK's pull has no timeout and an
    engine without a registry route can hang on it, so it runs in a thread that is
    abandoned after PULL_QUIET_SECONDS without news."""
    repository, tag = parse_repository_tag(image)
    events: queue.Queue[Mapping[str, Any] | BaseException | None] = queue.Queue()

    def worker() -> None:
        try:
            for chunk in client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
                events.put(chunk)
            events.put(None)
        except Exception as error:  # handed to the waiting thread, which reports it
            events.put(error)

    threading.Thread(target=worker, name=f"pull {image}", daemon=True).start()
    while True:
        try:
            event = events.get(timeout=PULL_QUIET_SECONDS)
        except queue.Empty:
            return f"no answer from the registry in {PULL_QUIET_SECONDS:.0f} s"
        if event is None:
            return None if _exists(client, image) else "the pull finished without the image"
        if isinstance(event, BaseException):
            return _short(event)
        if "error" in event:
            return _short(event["error"])


def _exists(client: Any, image: str) -> bool:
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as error:
        raise SandboxError(f"cannot inspect image {image!r}: {_short(error)}") from None
    return True


def _run(command: str) -> str:
    # exec form: any command text (quotes, newlines) survives, unlike a shell-form line
    return f"RUN {json.dumps(['/bin/sh', '-c', command])}"


def _quote(value: str) -> str:
    return json.dumps(value).replace("$", "\\$")


def _short(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[-1][:300] if text else type(error).__name__


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    tar.addfile(info)
