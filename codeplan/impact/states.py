"""Repository states for impact analysis: git revisions and the working tree.

The graph of any state is the working tree's graph (built once, cached) with the files
that differ replaced through `update_file`, so comparing two revisions costs one build
plus a few incremental updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git

from codeplan.config import read_config
from codeplan.errors import CodePlanError, ConfigError
from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.builder import GraphBuilder
from codeplan.impact.analysis import ImpactReport, analyze_impact
from codeplan.impact.diff import diff_blocks
from codeplan.impact.rules import rules_with_overrides


@dataclass(frozen=True)
class Revision:
    """A git revision, or the working tree when `commit` is None."""

    label: str
    commit: git.Commit | None


class RepositoryStates:
    def __init__(self, root: Path) -> None:
        try:
            self.repo = git.Repo(root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
            raise ConfigError(f"{root} is not inside a git repository") from error
        top = Path(self.repo.working_tree_dir or root).resolve()
        self.root = root.resolve()
        prefix = self.root.relative_to(top).as_posix()
        self._prefix = "" if prefix == "." else prefix + "/"

    def revision(self, name: str | None) -> Revision:
        if name is None:
            return Revision("the working tree", None)
        try:
            return Revision(name, self.repo.commit(name))
        except (git.BadName, ValueError) as error:
            raise ConfigError(f"unknown revision {name!r}") from error

    def changed_paths(self, base: Revision, head: Revision) -> list[str]:
        """Paths (relative to the analysed folder) whose contents differ."""
        if base.commit is None:
            base, head = head, base
        assert base.commit is not None
        other = head.commit  # None: the working tree
        paths: set[str] = set()
        for item in base.commit.diff(other):
            paths.update(p for p in (item.a_path, item.b_path) if p)
        if other is None:
            paths.update(self.repo.untracked_files)
        return sorted(p[len(self._prefix) :] for p in paths if p.startswith(self._prefix))

    def contents(self, revision: Revision, path: str) -> bytes | None:
        if revision.commit is None:
            file = self.root / path
            return file.read_bytes() if file.is_file() else None
        try:
            blob = revision.commit.tree / (self._prefix + path)
        except KeyError:
            return None
        data: bytes = blob.data_stream.read()
        return data

    def graph_at(self, revision: Revision, options: GraphOptions) -> GraphBuilder:
        builder = build_graph(self.root, options)
        if revision.commit is not None:
            working_tree = self.revision(None)
            for path in self.changed_paths(revision, working_tree):
                text = self.contents(revision, path)
                builder.update_file(path, text, deleted=text is None)
        return builder


def impact_between(
    root: Path,
    base: str = "HEAD",
    head: str | None = None,
    options: GraphOptions | None = None,
) -> ImpactReport:
    """Impact of the changes from `base` to `head` (None: the working tree)."""
    return compare(root, base, head, options).report


@dataclass(frozen=True)
class Comparison:
    """Two states of a repository, their graphs, and the impact of going from one to the
    other."""

    states: RepositoryStates
    old_revision: Revision
    new_revision: Revision
    old: GraphBuilder
    new: GraphBuilder
    report: ImpactReport


def compare(
    root: Path,
    base: str = "HEAD",
    head: str | None = None,
    options: GraphOptions | None = None,
) -> Comparison:
    """`impact_between`, keeping what it built on the way."""
    states = RepositoryStates(root)
    old_revision, new_revision = states.revision(base), states.revision(head)
    options = options or GraphOptions()
    new = states.graph_at(new_revision, options)
    old = states.graph_at(old_revision, options)
    analysed = set(new.graph.paths()) | set(old.graph.paths())
    changed = [p for p in states.changed_paths(old_revision, new_revision) if p in analysed]
    if not changed:
        raise CodePlanError(
            f"no changes to analyse between {old_revision.label} and {new_revision.label}"
        )
    old_sources = {p: t for p in changed if (t := states.contents(old_revision, p)) is not None}
    new_sources = {p: t for p in changed if (t := states.contents(new_revision, p)) is not None}
    changes = diff_blocks(
        [b for p in changed for b in old.graph.blocks_in(p)],
        [b for p in changed for b in new.graph.blocks_in(p)],
        old_sources,
        new_sources,
    )
    section = read_config(states.root).get("impact", {})
    rules = rules_with_overrides(section.get("rules", {}))
    screen = bool(section.get("screen_calls", False))
    report = analyze_impact(
        old.graph,
        new.graph,
        changes,
        old_sources,
        new_sources,
        rules,
        read_source=(lambda path: states.contents(new_revision, path)) if screen else None,
    )
    return Comparison(states, old_revision, new_revision, old, new, report)
