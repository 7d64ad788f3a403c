"""A warm build trusts a file's recorded stat signature instead of reading it, and only
while that is safe: any write since, or a signature taken too soon after one, means a read."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.cache import CACHE_FILE_NAME
from codeplan.graph.parallel import MIN_ITEMS_TO_FORK
from codeplan.graph.sources import RACY_WINDOW_NS

HOUR_NS = 3600 * 10**9


def write_old(path: Path, text: str) -> None:
    """Write `text` and date the file an hour back, out of the racy window."""
    path.write_text(text)
    then = time.time_ns() - HOUR_NS
    os.utime(path, ns=(then, then))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_old(tmp_path / "helpers.py", "def helper():\n    return 1\n")
    write_old(tmp_path / "main.py", "from helpers import helper\n\ndef run():\n    helper()\n")
    return tmp_path


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the builder reads from disk."""
    import codeplan.graph.sources as sources

    seen: list[str] = []
    original = sources.read_source

    def counting(root: Path, path: str, *, max_bytes: int) -> bytes | object:
        seen.append(path)
        return original(root, path, max_bytes=max_bytes)

    monkeypatch.setattr(sources, "read_source", counting)
    return seen


def test_unchanged_files_are_not_read_again(repo: Path, reads: list[str]) -> None:
    first = build_graph(repo)
    assert sorted(reads) == ["helpers.py", "main.py"]
    reads.clear()
    second = build_graph(repo)
    assert reads == []
    assert (second.report.parsed, second.report.resolved) == (0, 0)
    assert second.graph.snapshot() == first.graph.snapshot()


def test_a_file_written_since_is_read_even_with_its_old_size_and_mtime(
    repo: Path, reads: list[str]
) -> None:
    build_graph(repo)
    main = repo / "main.py"
    before = main.stat()
    # same length, mtime put back: only the ctime (and the content) tell
    main.write_text(main.read_text().replace("run", "go_"))
    os.utime(main, ns=(before.st_atime_ns, before.st_mtime_ns))
    reads.clear()
    rebuilt = build_graph(repo)
    assert reads == ["main.py"]
    assert "main.py::go_" in rebuilt.graph and "main.py::run" not in rebuilt.graph


def test_a_signature_taken_right_after_a_write_is_not_trusted(
    tmp_path: Path, reads: list[str]
) -> None:
    (tmp_path / "fresh.py").write_text("def f():\n    pass\n")
    build_graph(tmp_path)
    reads.clear()
    build_graph(tmp_path)
    assert reads == ["fresh.py"]  # within RACY_WINDOW_NS of its write: read again
    assert RACY_WINDOW_NS >= 2 * 10**9  # wider than the coarsest timestamps (FAT's 2 s)


def test_a_damaged_signature_costs_a_read_never_a_wrong_graph(repo: Path, reads: list[str]) -> None:
    expected = build_graph(repo, GraphOptions(use_cache=False)).graph.snapshot()
    build_graph(repo)
    with sqlite3.connect(repo / ".codeplan" / CACHE_FILE_NAME) as db:
        db.execute("UPDATE signatures SET content_hash = 'scribbled' WHERE path = 'main.py'")
    reads.clear()
    rebuilt = build_graph(repo)
    assert reads == ["main.py"]
    assert rebuilt.graph.snapshot() == expected


def test_a_trusted_file_whose_facts_left_the_cache_is_read_and_extracted(
    repo: Path, reads: list[str]
) -> None:
    expected = build_graph(repo).graph.snapshot()
    with sqlite3.connect(repo / ".codeplan" / CACHE_FILE_NAME) as db:
        db.execute("DELETE FROM facts WHERE path = 'helpers.py'")
    reads.clear()
    rebuilt = build_graph(repo)
    assert reads == ["helpers.py"]
    assert rebuilt.report.parsed == 1
    assert rebuilt.graph.snapshot() == expected


def test_a_trusted_file_that_became_unreadable_is_skipped(repo: Path, reads: list[str]) -> None:
    build_graph(repo)
    helpers = repo / "helpers.py"
    helpers.write_bytes(b"\xff\xfe not utf-8")
    write_time = time.time_ns() - HOUR_NS
    os.utime(helpers, ns=(write_time, write_time))
    after = helpers.stat()
    # a write the stat signature did not reveal, and facts no longer in the cache
    with sqlite3.connect(repo / ".codeplan" / CACHE_FILE_NAME) as db:
        db.execute(
            "UPDATE signatures SET size = ?, mtime_ns = ?, ctime_ns = ?, inode = ?"
            " WHERE path = 'helpers.py'",
            (after.st_size, after.st_mtime_ns, after.st_ctime_ns, after.st_ino),
        )
        db.execute("DELETE FROM facts WHERE path = 'helpers.py'")
    reads.clear()
    rebuilt = build_graph(repo)
    assert reads == ["helpers.py"]
    assert [s.path for s in rebuilt.report.skipped] == ["helpers.py"]
    assert "helpers.py" not in rebuilt.graph
    assert rebuilt.report.files == 1


def test_files_the_cache_never_saw_are_read_by_the_workers_that_extract_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import codeplan.graph.sources as sources

    repo, log = tmp_path / "repo", tmp_path / "reads.log"
    repo.mkdir()
    original = sources.read_source

    def logged(root: Path, path: str, *, max_bytes: int) -> bytes | object:
        with log.open("a") as handle:  # appends, from every process
            handle.write(f"{os.getpid()} {path}\n")
        return original(root, path, max_bytes=max_bytes)

    def reads() -> list[tuple[int, str]]:
        entries = [line.split(" ", 1) for line in log.read_text().splitlines()]
        log.write_text("")
        return [(int(pid), path) for pid, path in entries]

    count = MIN_ITEMS_TO_FORK + 6  # enough for forked workers
    write_old(repo / "m0.py", "def f0():\n    return 0\n")
    for i in range(1, count):
        write_old(
            repo / f"m{i}.py",
            f"from m{i - 1} import f{i - 1}\n\ndef f{i}():\n    return f{i - 1}()\n",
        )
    (repo / "binary.py").write_bytes(b"\0\1\2")
    (repo / "latin.py").write_bytes(b"caf\xe9 = 1\n")
    expected = build_graph(repo, GraphOptions(use_cache=False, workers=1)).graph.snapshot()
    monkeypatch.setattr(sources, "read_source", logged)

    cold = build_graph(repo, GraphOptions(workers=2))
    cold_reads = reads()
    # every file is new to the cache, so each is read once, by the worker extracting it:
    # this process is one, and the forked worker read some
    assert sorted(path for _, path in cold_reads) == sorted(p.name for p in repo.glob("*.py"))
    assert {pid for pid, _ in cold_reads} - {os.getpid()}
    assert cold.report.parsed == count
    assert {(s.path, s.reason) for s in cold.report.skipped} == {
        ("binary.py", "binary"),
        ("latin.py", "non-utf8"),
    }
    assert cold.graph.snapshot() == expected

    # the workers' reads recorded signatures: nothing is read or parsed again, but the
    # two files that cannot be analysed, which have none
    warm = build_graph(repo, GraphOptions(workers=2))
    assert (warm.report.parsed, warm.report.cached) == (0, count)
    assert sorted(path for _, path in reads()) == ["binary.py", "latin.py"]
    assert warm.graph.snapshot() == expected
