"""Past co-changes mined from git history: in the recent commits that changed a production
file, which production blocks and which test functions changed together.

Only the last `max_commits` commits are read, merges skipped, and a commit touching more
than `MAX_FILES` Python files is left out (a mass reformat or rename says nothing about
which test goes with which function).  A commit's co-changes depend on that commit alone,
so they are computed once per process and reused across queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import git

from codeplan.evolve.model import Experience
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind
from codeplan.graph.python import PythonAnalyzer
from codeplan.impact.analysis import is_test
from codeplan.impact.diff import BlockChange, diff_blocks
from codeplan.validate.parsers import is_test_path

MAX_FILES = 15
PRODUCTION_KINDS = (BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.CLASS, BlockKind.FIELD)


def co_changes(
    repo: git.Repo,
    revision: str,
    production_paths: Sequence[str],
    *,
    prefix: str = "",
    max_commits: int = 300,
) -> list[Experience]:
    """Co-changes of blocks of `production_paths` (relative to the analysed folder, which is
    `prefix` inside the repository) with test functions, newest commit first."""
    wanted = {prefix + p for p in production_paths}
    log = repo.git.log(
        revision, f"-n{max_commits}", "--no-merges", "--format=%x00%H", "--name-only"
    )
    found: list[Experience] = []
    for entry in log.split("\0")[1:]:
        sha, *names = entry.split()
        python = [n for n in names if n.endswith(".py") and n.startswith(prefix)]
        if not wanted & set(python) or not any(is_test_path(n) for n in python):
            continue
        if len(python) > MAX_FILES:
            continue
        experiences = _commit_experiences(str(repo.git_dir), sha, prefix)
        found += [e for e in experiences if prefix + e.production_path in wanted]
    return found


@lru_cache(maxsize=4096)
def _commit_experiences(git_dir: str, sha: str, prefix: str) -> tuple[Experience, ...]:
    commit = git.Repo(git_dir).commit(sha)
    if not commit.parents:
        return ()
    old, new = python_sources(commit.parents[0], commit, prefix)
    old_blocks, old_graph = blocks_of(old)
    changes = diff_blocks(old_blocks, blocks_of(new)[0], old, new)
    tests = test_changes(changes, old_graph)
    production = [
        c for c in changes if c.block.kind in PRODUCTION_KINDS and not is_test_path(c.block.path)
    ]
    message = str(commit.message).strip().splitlines()[0] if commit.message else ""
    return tuple(
        Experience(
            commit=sha,
            message=message,
            production_path=(p.old or p.block).path,
            production_qualname=(p.old or p.block).qualname,
            production_before=_text(p.old, old),
            production_after=_text(p.new, new),
            test_path=(t.new or t.block).path,
            test_qualname=(t.new or t.block).qualname,
            test_before=_text(t.old, old),
            test_after=_text(t.new, new),
        )
        for p in production
        for t in tests
    )


def python_sources(
    parent: git.Commit, commit: git.Commit, prefix: str = ""
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The Python files a commit changed, before and after, by path inside `prefix`."""
    old: dict[str, bytes] = {}
    new: dict[str, bytes] = {}
    for item in parent.diff(commit):
        for side, path, blob in ((old, item.a_path, item.a_blob), (new, item.b_path, item.b_blob)):
            if blob is not None and path and path.endswith(".py") and path.startswith(prefix):
                side[path[len(prefix) :]] = blob.data_stream.read()
    return old, new


def blocks_of(sources: dict[str, bytes]) -> tuple[list[Block], CodeGraph]:
    """The blocks of some files, and a graph of them without relations."""
    analyzer = PythonAnalyzer()
    blocks = [b for path, text in sources.items() for b in analyzer.extract(path, text).blocks]
    graph = CodeGraph()  # only for is_test's look at a method's class
    for block in blocks:
        graph.add_block(block)
    return blocks, graph


def is_test_function(block: Block, graph: CodeGraph) -> bool:
    """A test pytest collects (not a fixture); `graph` holds the block's class, if any."""
    return block.name.startswith("test") and is_test(block, graph)


def _text(block: Block | None, sources: dict[str, bytes]) -> str:
    if block is None:
        return ""
    return sources[block.path][block.start_byte : block.end_byte].decode("utf-8", "replace")


def test_changes(changes: Sequence[BlockChange], graph: CodeGraph) -> list[BlockChange]:
    """The changes of test functions that existed before (modified, renamed, deleted);
    `graph` holds the old blocks."""
    return [c for c in changes if c.old is not None and is_test_function(c.old, graph)]
