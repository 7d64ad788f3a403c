"""Past co-changes mined from git history: in the recent commits that changed a production
file, which production blocks and which test functions changed together.

Only the last `max_commits` commits reachable from the given revision are read, merges
skipped, and a commit touching more than `MAX_FILES` Python files is left out (a mass
reformat or rename says nothing about which test goes with which function).  Unlike the
experience bank's (codeplan/evolve/experiences.py, which mines with the same code,
codeplan/evolve/mining.py), these co-changes keep every pair: production blocks of any
change (fields too, recorded as they were before), tests that existed before, whether or
not the test names the block.  A commit's co-changes depend on that commit alone, so they
are computed once per process and reused across queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import git

from codeplan.evolve.experiences import is_co_change, log_entries, python_sources
from codeplan.evolve.mining import CoChangeRules, graph_of, mine_commit, parse_files
from codeplan.evolve.model import Experience
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind
from codeplan.graph.python import PythonAnalyzer
from codeplan.impact.analysis import is_test
from codeplan.impact.diff import BlockChange
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
    for sha, names in log_entries(log):
        python = [n for n in names if n.endswith(".py") and n.startswith(prefix)]
        if wanted & set(python) and is_co_change(python, MAX_FILES):
            experiences = _commit_experiences(str(repo.git_dir), sha, prefix)
            found += [e for e in experiences if prefix + e.production_path in wanted]
    return found


def _production(change: BlockChange) -> Block | None:
    block = change.block
    if block.kind not in PRODUCTION_KINDS or is_test_path(block.path):
        return None
    return change.old or block


def _test(change: BlockChange, graph: CodeGraph) -> Block | None:
    return change.block if _is_test_change(change, graph) else None


_RULES = CoChangeRules(
    _production, _test, named=False, max_lines=None, max_pairs=None, strict=False
)


@lru_cache(maxsize=4096)
def _commit_experiences(git_dir: str, sha: str, prefix: str) -> tuple[Experience, ...]:
    commit = git.Repo(git_dir).commit(sha)
    if not commit.parents:
        return ()
    old, new = python_sources(commit.parents[0], commit, prefix)
    message = str(commit.message).strip().splitlines()[0] if commit.message else ""
    return tuple(mine_commit(sha, message, old, new, rules=_RULES) or ())


def blocks_of(sources: dict[str, bytes]) -> tuple[list[Block], CodeGraph]:
    """The blocks of some files, and a graph of them without relations."""
    blocks, _ = parse_files(sources, PythonAnalyzer().extract)
    return blocks, graph_of(blocks)


def is_test_function(block: Block, graph: CodeGraph) -> bool:
    """A test pytest collects (not a fixture); `graph` holds the block's class, if any."""
    return block.name.startswith("test") and is_test(block, graph)


def test_changes(changes: Sequence[BlockChange], graph: CodeGraph) -> list[BlockChange]:
    """The changes of test functions that existed before (modified, renamed, deleted);
    `graph` holds the old blocks."""
    return [c for c in changes if _is_test_change(c, graph)]


def _is_test_change(change: BlockChange, graph: CodeGraph) -> bool:
    return change.old is not None and is_test_function(change.old, graph)
