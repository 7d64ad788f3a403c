"""Images for the sandbox tests, with no registry: the bootstrapped base image when it is
built (`sandboxes/bootstrap-base.sh`), else a small one made from this host's own Python
interpreter, shell and a few tools, imported once and kept under `TEST_IMAGE`.

Without an engine the tests skip, unless CODEPLAN_REQUIRE_DOCKER=1 (CI), where they fail: a
skipped sandbox test must never pass for a tested one."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from codeplan.errors import SandboxError
from codeplan.sandbox.engine import connect
from codeplan.sandbox.model import LABEL

BASE_IMAGE = "codeplan/base:bookworm"
TEST_IMAGE = "codeplan-test/minimal:1"
TOOLS = ("sh", "cat", "chown", "id", "ls", "sleep", "touch", "mkdir", "rm")
# the parts of the standard library the tests never import: most of its size
STDLIB_SKIPPED = {"site-packages", "dist-packages", "test", "tests", "idlelib", "tkinter"}
STDLIB_SKIPPED |= {"turtledemo", "ensurepip", "lib2to3", "__pycache__"}
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def require_docker() -> bool:
    return os.environ.get("CODEPLAN_REQUIRE_DOCKER") == "1"


def unavailable(reason: str) -> None:
    if require_docker():
        pytest.fail(f"CODEPLAN_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    try:
        client = connect(timeout=120)
    except SandboxError as error:
        unavailable(str(error))
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """A local image with `sh` and `python3` on PATH."""
    for tag in (BASE_IMAGE, TEST_IMAGE):
        if _exists(docker_client, tag):
            return tag
    try:
        _import_host_image(docker_client, TEST_IMAGE)
    except (OSError, subprocess.SubprocessError, docker.errors.DockerException) as error:
        unavailable(f"no {BASE_IMAGE} and {TEST_IMAGE} could not be made: {error}")
    return TEST_IMAGE


def _exists(client: Any, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _import_host_image(client: Any, tag: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            _write_rootfs(tar)
        repository, _, version = tag.partition(":")
        client.api.import_image_from_file(
            str(archive),
            repository=repository,
            tag=version,
            changes=[f"ENV PATH={PATH}", f"LABEL {LABEL}=test", 'CMD ["sh"]'],
        )


def _write_rootfs(tar: tarfile.TarFile) -> None:
    for name in ("bin", "sbin", "lib", "lib64"):
        # merged /usr hosts: the loader's path (/lib64/ld-linux...) must resolve the same way
        if os.path.islink(f"/{name}"):
            _add_link(tar, name, os.readlink(f"/{name}"))
    done: set[str] = set()  # names in the archive, which must not repeat
    for name, mode in (("tmp", 0o1777), ("root", 0o700), ("proc", 0o555), ("sys", 0o555)):
        _add_dir(tar, name, mode)
        done.add(name)
    _add_bytes(
        tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n"
    )
    _add_bytes(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    interpreter = os.path.realpath(sys.executable)
    binaries = [interpreter, *(shutil.which(tool) or "" for tool in TOOLS)]
    binaries = [path for path in binaries if path]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    modules = list(_stdlib_files(stdlib))
    extensions = [str(module) for module in modules if module.suffix == ".so"]
    for path in [*binaries, *_shared_libraries([*binaries, *extensions])]:
        _add_file(tar, path, done)
    for module in modules:
        _add_file(tar, str(module), done)
    if interpreter != "/usr/bin/python3":
        _add_link(tar, "usr/bin/python3", interpreter)
        _add_link(tar, "usr/bin/python", interpreter)


def _stdlib_files(stdlib: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(stdlib):
        dirs[:] = [d for d in dirs if d not in STDLIB_SKIPPED]
        for name in files:
            if name.endswith((".py", ".so")):
                yield Path(folder) / name


def _shared_libraries(paths: list[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        done = subprocess.run(["ldd", path], capture_output=True, text=True, check=False)
        for line in done.stdout.splitlines():
            found.update(word for word in line.split() if word.startswith("/"))
    return found


def _add_file(tar: tarfile.TarFile, path: str, done: set[str]) -> None:
    # the name keeps the last link (libc.so.6), the content is what it points to
    folder = os.path.realpath(os.path.dirname(path)).lstrip("/")
    name = f"{folder}/{os.path.basename(path)}"
    if name in done:
        return
    parts = folder.split("/")
    for depth in range(1, len(parts) + 1):
        parent = "/".join(parts[:depth])
        if parent not in done:
            done.add(parent)
            _add_dir(tar, parent, 0o755)
    done.add(name)
    real = os.path.realpath(path)
    info = tar.gettarinfo(real, arcname=name)
    info.uid = info.gid = 0
    with open(real, "rb") as handle:
        tar.addfile(info, handle)


def _add_dir(tar: tarfile.TarFile, name: str, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def _add_link(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))
