"""Environment images on the real engine: built once per key from PyPI (through this host's
CA bundle and proxies), reused without a build, rebuilt when the dependencies change, and a
failed install names its step.  Every image (key and layers) is salted per session, so
each run builds cold, and the images are removed at the end."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
import pytest
from sandbox_images import BASE_IMAGE, base_image, docker_client, unavailable  # noqa: F401

from codeplan.errors import SandboxError
from codeplan.sandbox.images import ENV_KEY_LABEL, choose_base, ensure_environment, prune
from codeplan.sandbox.model import LABEL, EnvironmentSpec, NetworkAccess, SandboxSpec

SALT = uuid.uuid4().hex[:12]
CA_CANDIDATES = (os.environ.get("PIP_CERT"), "/etc/ssl/certs/ca-certificates.crt")
PROXY_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


@dataclass(frozen=True)
class Built:
    spec: SandboxSpec
    root: Path
    image_id: str
    seconds: float
    progress: tuple[str, ...]


@pytest.fixture(scope="module")
def bootstrapped(base_image: str) -> str:  # noqa: F811 (the imported fixture)
    if base_image != BASE_IMAGE:
        unavailable(
            f"installing from PyPI needs pip: run sandboxes/bootstrap-base.sh ({BASE_IMAGE})"
        )
    return base_image


@pytest.fixture(scope="module")
def built_tags(docker_client: Any) -> Iterator[list[str]]:  # noqa: F811
    tags: list[str] = []
    yield tags
    for tag in tags:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.images.remove(tag)


@pytest.fixture(scope="module")
def tiny(
    docker_client: Any,  # noqa: F811
    bootstrapped: str,
    built_tags: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Built:
    root = tmp_path_factory.mktemp("tiny")
    (root / "requirements.txt").write_text("iniconfig\npytest\n")
    spec = make_spec(root, bootstrapped, ("pip install -r requirements.txt",))
    return build(docker_client, root, spec, built_tags)


def make_spec(
    root: Path, base: str, install: tuple[str, ...], needs_source: bool = False
) -> SandboxSpec:
    files = ("requirements.txt",)
    digest = hashlib.blake2b(SALT.encode())
    for name in files:
        path = root / name
        digest.update(path.read_bytes() if path.exists() else b"")
    ca_bundle = next((path for path in CA_CANDIDATES if path and os.path.isfile(path)), None)
    proxies = {name: os.environ[name] for name in PROXY_NAMES if os.environ.get(name)}
    environment = EnvironmentSpec(
        python="3.11",
        install=install,
        test="python -m pytest",
        dependency_files=files,
        needs_source=needs_source,
        # in the image's layers too, so the engine's layer cache cannot make a build warm
        env={"CODEPLAN_TEST_SALT": SALT},
    )
    return SandboxSpec(
        base_image=base,
        environment=environment,
        dependency_digest=digest.hexdigest(),
        network=NetworkAccess(proxies=proxies, ca_bundle=ca_bundle),
    )


def build(client: Any, root: Path, spec: SandboxSpec, built_tags: list[str]) -> Built:
    lines: list[str] = []
    built_tags.append(spec.environment_image)
    started = time.monotonic()
    tag = ensure_environment(client, root, spec, lines.append)
    seconds = time.monotonic() - started
    assert tag == spec.environment_image
    return Built(spec, root, client.images.get(tag).id, seconds, tuple(lines))


def run(client: Any, image: str, command: str) -> str:
    output = client.containers.run(
        image, ["sh", "-c", command], network_mode="none", remove=True, labels={LABEL: "test"}
    )
    return bytes(output).decode()


def test_environment_is_built_from_pypi_and_runs_offline(docker_client: Any, tiny: Built) -> None:  # noqa: F811
    assert any("Successfully installed" in line for line in tiny.progress)
    image = docker_client.images.get(tiny.spec.environment_image)
    assert image.labels[LABEL] == "1"
    assert image.labels[ENV_KEY_LABEL] == tiny.spec.environment_key
    env = dict(item.split("=", 1) for item in image.attrs["Config"]["Env"])
    assert env["PYTHONPATH"] == "/work/src:/work"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["CODEPLAN_TEST_SALT"] == SALT
    # the CA settings were for the build only
    assert not {"PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"} & set(env)
    output = run(docker_client, image.id, "python -c 'import iniconfig, pytest; print(\"ok\")'")
    assert output.strip() == "ok"


def test_second_ensure_is_a_cache_hit(docker_client: Any, tiny: Built) -> None:  # noqa: F811
    again = build(docker_client, tiny.root, tiny.spec, [])
    assert again.seconds < 2.0
    assert again.image_id == tiny.image_id
    assert again.progress == ()


def test_changed_requirements_change_the_tag_and_rebuild(
    docker_client: Any,  # noqa: F811
    tiny: Built,
    built_tags: list[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "requirements.txt").write_text("iniconfig==2.0.0\n")
    spec = make_spec(tmp_path, tiny.spec.base_image, tiny.spec.environment.install)
    assert spec.environment_image != tiny.spec.environment_image
    changed = build(docker_client, tmp_path, spec, built_tags)
    assert changed.image_id != tiny.image_id
    assert any("iniconfig-2.0.0" in line for line in changed.progress)


def test_needs_source_copies_the_tree_without_vcs_and_caches(
    docker_client: Any,  # noqa: F811
    bootstrapped: str,
    built_tags: list[str],
    tmp_path: Path,
) -> None:
    for name in ("pkg/mod.py", "requirements.txt", ".git/HEAD", "pkg/__pycache__/mod.pyc"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    check = "test -f pkg/mod.py && test -f requirements.txt && test ! -e .git"
    spec = make_spec(tmp_path, bootstrapped, (f"{check} && test ! -e pkg/__pycache__",), True)
    built = build(docker_client, tmp_path, spec, built_tags)
    assert run(docker_client, built.image_id, "cat pkg/mod.py") == "x\n"


def test_failed_install_names_its_step_and_leaves_no_container(
    docker_client: Any,  # noqa: F811
    bootstrapped: str,
    built_tags: list[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "requirements.txt").write_text("")
    marker = f"codeplan-failure-{SALT}"
    failing = f"echo {marker} && exit 3"
    spec = make_spec(tmp_path, bootstrapped, ("python --version", failing))
    with pytest.raises(SandboxError) as raised:
        build(docker_client, tmp_path, spec, built_tags)
    message = str(raised.value)
    first_line, _, tail = message.partition("\n")
    assert first_line.startswith("environment build failed at step ")
    assert first_line.endswith(f": {failing}")
    assert marker in tail  # the command's own output
    assert "returned a non-zero code: 3" in tail
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(spec.environment_image)
    for container in docker_client.containers.list(all=True):
        assert marker not in " ".join(container.attrs["Config"].get("Cmd") or [])
    # the failed build's last layer is labelled and dangling: prune collects it
    leftover = [line.split("---> ")[1] for line in tail.splitlines() if "---> " in line]
    removed = prune(docker_client, keep_latest=1_000_000)  # keeps every environment image
    last = [layer for layer in leftover if not layer.startswith("Running in")][-1]
    assert any(layer.startswith(f"sha256:{last}") for layer in removed)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(last)


def test_choose_base_prefers_configured_then_the_bootstrap(
    docker_client: Any,  # noqa: F811
    bootstrapped: str,
) -> None:
    assert choose_base(docker_client, "3.11", "example/configured:1") == "example/configured:1"
    assert choose_base(docker_client, "3.11", None) == bootstrapped
    warnings: list[str] = []
    # no python:3.1-slim anywhere: the bootstrap's 3.11 stands in, said loudly
    assert choose_base(docker_client, "3.1", None, warn=warnings.append) == bootstrapped
    assert len(warnings) == 1
    assert "Python 3.1," in warnings[0]
    assert "3.11" in warnings[0]
