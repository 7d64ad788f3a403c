"""run_in_container against the real engine: results, the copied tree, and containment (time,
memory, processes, network, capabilities), with no container left behind."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_images import base_image, docker_client  # noqa: F401 - fixtures

from codeplan.errors import SandboxError
from codeplan.sandbox.containers import OUTPUT_KEPT, ContainerResult, run_in_container
from codeplan.sandbox.engine import reap
from codeplan.sandbox.model import LABEL, Limits

TEST_LABEL = "codeplan.test"
QUICK = Limits(cpus=1.0, memory_mb=256, pids=64, timeout_seconds=60)


@pytest.fixture
def run_id(docker_client: Any) -> Iterator[str]:  # noqa: F811
    """A label value of this test's own: other test runs may share the engine."""
    value = uuid.uuid4().hex
    yield value
    assert _containers(docker_client, value) == [], "a container was left behind"


@pytest.fixture
def run(docker_client: Any, base_image: str, run_id: str) -> Any:  # noqa: F811
    def run(command: str, **options: Any) -> ContainerResult:
        options.setdefault("limits", QUICK)
        labels = {TEST_LABEL: run_id}
        return run_in_container(docker_client, base_image, command, labels=labels, **options)

    return run


def _containers(client: Any, run_id: str) -> list[Any]:
    filters = {"label": f"{TEST_LABEL}={run_id}"}
    return list(client.containers.list(all=True, filters=filters))


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(path.relative_to(root)): (path.lstat().st_mode, path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def test_exit_code_and_output(run: Any) -> None:
    result = run("echo to-stdout; echo to-stderr >&2; exit 7")
    assert result.exit_code == 7
    assert "to-stdout" in result.output and "to-stderr" in result.output
    assert not result.timed_out and not result.oom_killed
    assert 0 < result.duration_s < 30


def test_tree_is_copied_and_the_host_tree_is_unchanged(run: Any, tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "mod.py").write_text("VALUE = 1\n")
    (tree / "run.sh").write_text("#!/bin/sh\necho ran\n")
    (tree / "run.sh").chmod(0o755)
    for skipped in (".git", "__pycache__", ".venv", "node_modules", ".codeplan"):
        (tree / skipped).mkdir()
        (tree / skipped / "inside").write_text("not copied\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("host file\n")
    (tree / "link").symlink_to(outside)  # resolves inside the container, not on the host
    before, outside_before = _snapshot(tree), outside.read_bytes()

    result = run(
        "cat pkg/mod.py && ./run.sh && ls -a"
        " && echo changed > pkg/mod.py && echo new > new.txt && rm run.sh"
        " && (echo through-link > link; true)"
        f" && mkdir -p {tmp_path} && echo written > {outside}"
        " && echo root > /etc/evil && echo ok",
        tree=tree,
    )

    assert result.exit_code == 0, result.output
    assert "VALUE = 1" in result.output and "ran" in result.output
    for skipped in (".git", "__pycache__", ".venv", "node_modules", ".codeplan"):
        assert f"\n{skipped}\n" not in result.output
    assert _snapshot(tree) == before
    assert outside.read_bytes() == outside_before
    assert not (tree / "new.txt").exists() and not Path("/etc/evil").exists()


def test_files_are_fetched(run: Any) -> None:
    script = "open('/tmp/data.bin', 'wb').write(bytes(range(256)))"
    result = run(
        f'mkdir out && echo result > out/report.txt && python3 -c "{script}"',
        fetch=("out/report.txt", "/tmp/data.bin", "missing.txt", "out"),
    )
    assert result.exit_code == 0, result.output
    assert dict(result.files) == {"out/report.txt": b"result\n", "/tmp/data.bin": bytes(range(256))}


def test_environment_is_passed(run: Any) -> None:
    result = run('echo "[$GREETING]"', env={"GREETING": "hello world"})
    assert "[hello world]" in result.output


def test_only_the_end_of_a_long_output_is_kept(run: Any) -> None:
    script = "import sys\nfor n in range(40000): sys.stdout.write(str(n).rjust(99) + chr(10))"
    result = run(f'python3 -c "{script}" && echo END')
    assert result.exit_code == 0
    assert result.output.endswith("39999\nEND\n")
    assert OUTPUT_KEPT // 2 < len(result.output) <= OUTPUT_KEPT


def test_a_command_past_its_time_limit_is_killed(run: Any) -> None:
    started = time.monotonic()
    result = run("while :; do :; done", limits=Limits(timeout_seconds=3))
    assert result.timed_out and result.exit_code is None
    assert 3 <= result.duration_s < 15
    assert time.monotonic() - started < 45


def test_unbounded_memory_is_stopped(run: Any) -> None:
    hog = "chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 2**20))"
    result = run(f"python3 -c '{hog}'", limits=Limits(memory_mb=64, timeout_seconds=60))
    assert not result.timed_out
    assert result.oom_killed or (result.exit_code != 0 and "MemoryError" in result.output)
    assert result.exit_code != 0


def test_a_fork_bomb_hits_the_process_limit(run: Any) -> None:
    bomb = (
        "import os, sys, time\n"
        "for n in range(1000):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError as error:\n"
        "        print('fork failed after', n, error.strerror, flush=True)\n"
        "        sys.exit(1)\n"
        "    if pid == 0:\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
        "print('never limited')\n"
    )
    result = run(f'python3 -c "{bomb}"', limits=Limits(pids=32, timeout_seconds=60))
    assert not result.timed_out
    assert result.exit_code == 1, result.output
    assert "fork failed after" in result.output
    forked = int(result.output.split("fork failed after")[1].split()[0])
    assert forked < 32
    assert subprocess.run(["true"], check=False).returncode == 0  # the host still forks


def test_there_is_no_network(run: Any) -> None:
    probe = (
        "import socket, urllib.request\n"
        "for attempt in (lambda: socket.getaddrinfo('example.com', 80),\n"
        "                lambda: urllib.request.urlopen('http://1.1.1.1', timeout=5)):\n"
        "    try:\n"
        "        attempt()\n"
        "        print('reached')\n"
        "    except OSError as error:\n"
        "        print('blocked', type(error).__name__)\n"
        "print(sorted(name for _, name in socket.if_nameindex()))\n"
    )
    result = run(f'python3 -c "{probe}"')
    assert result.exit_code == 0, result.output
    assert "reached" not in result.output
    assert result.output.count("blocked") == 2
    assert "['lo']" in result.output


def test_capabilities_are_dropped(run: Any) -> None:
    result = run(
        "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status;"
        " touch /tmp/owned && chown 65534:65534 /tmp/owned && echo chowned"
    )
    assert "CapEff:\t0000000000000000" in result.output
    assert "CapBnd:\t0000000000000000" in result.output
    assert "NoNewPrivs:\t1" in result.output
    assert "chowned" not in result.output and result.exit_code != 0


def test_an_exception_still_removes_the_container(run: Any, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="could not copy"):
        run("true", tree=tmp_path / "missing")
    # the run_id fixture checks that nothing is left


def test_an_interrupt_still_removes_the_container(run: Any) -> None:
    main = threading.get_ident()
    timer = threading.Timer(2.0, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run("sleep 30")
    finally:
        timer.cancel()


def test_a_missing_image_is_a_sandbox_error(docker_client: Any, run_id: str) -> None:  # noqa: F811
    image = f"codeplan-test/absent:{run_id[:8]}"
    with pytest.raises(SandboxError, match="absent") as raised:
        run_in_container(docker_client, image, "true", labels={TEST_LABEL: run_id})
    assert "codeplan sandbox bootstrap" in str(raised.value)


def test_reap_removes_a_leftover_container(
    docker_client: Any,  # noqa: F811
    base_image: str,  # noqa: F811
    run_id: str,
) -> None:
    # reap takes every labelled container: a crash's leftovers carry nothing else
    docker_client.containers.create(
        base_image, ["sleep", "60"], labels={LABEL: "1", TEST_LABEL: run_id}
    ).start()
    assert len(_containers(docker_client, run_id)) == 1
    assert reap(docker_client) >= 1
    assert _containers(docker_client, run_id) == []
