"""Runs end to end: a branch in its own worktree, the graph, the seeds, the baseline
validation, the planning loop, and the result.  The CLI and the library both come here.

This module wires the stages together; it holds no analysis of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import git
from rich.console import Group, RenderableType
from rich.text import Text

from codeplan.config import read_config
from codeplan.deliver.gitops import revision_tree
from codeplan.deliver.messages import generate_message
from codeplan.deliver.workspace import Workspace, slugify, working_tree_changes
from codeplan.edit.llm import LLMEditor
from codeplan.edit.model import Editor, Usage
from codeplan.errors import ConfigError, EditError, PlanError, WorkspaceError
from codeplan.evolve.phase import choose_sandbox, update_tests_after_run
from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.builder import GraphBuilder
from codeplan.impact.rules import rules_with_overrides
from codeplan.impact.states import RepositoryStates
from codeplan.plan.budget import Budget
from codeplan.plan.model import PlanGraph
from codeplan.plan.planner import PlanLoop, PlannerOptions, Progress
from codeplan.plan.propagation import FileChange
from codeplan.plan.render import plan_to_json, plan_tree, usage_line
from codeplan.plan.seeds import find_block, seed_blocks, seed_user_changes, users_of
from codeplan.plan.store import FileJournal, Observer, RunRecord, RunSettings, RunStore
from codeplan.secrets import environment_secrets
from codeplan.validate.model import Oracle

EditorFactory = Callable[[FileJournal], Editor]
OracleFactory = Callable[[], Oracle | None]


@dataclass(frozen=True)
class StartOptions:
    task: str
    mode: str = "run"  # "run": seeds given; "propagate": the user's uncommitted edits
    seeds: tuple[str, ...] = ()
    seed_uses: tuple[str, ...] = ()
    branch_prefix: str = "codeplan/"
    allow_dirty: bool = False
    settings: RunSettings | None = None  # how to rebuild editor/oracle on resume
    budget: Budget = field(default_factory=Budget)
    concurrency: int = 1


@dataclass(frozen=True)
class RunResult:
    run_id: str
    status: str
    reason: str
    branch: str
    plan: PlanGraph
    usage: Usage
    diff: str
    remaining: tuple[str, ...]
    applied: tuple[str, ...] = ()

    @property
    def edited_blocks(self) -> tuple[str, ...]:
        return tuple(f"{e.path}::{e.qualname}" for e in self.plan.edits.values())

    @property
    def succeeded(self) -> bool:
        return self.status == "done"

    def __rich__(self) -> RenderableType:
        style = "green" if self.succeeded else "yellow"
        counts = self.plan.counts()
        lines: list[RenderableType] = [
            plan_tree(self.plan, f"run {self.run_id}"),
            Text(f"{self.status}: {self.reason}", style=f"bold {style}"),
            Text(
                f"{counts['edited']} edited, {counts['no-change']} unchanged, "
                f"{counts['rejected']} rejected, {counts['skipped']} skipped, "
                f"{counts['pending']} pending"
            ),
            Text(usage_line(self.usage)),
        ]
        lines += [Text(f"still failing: {item}", style="red") for item in self.remaining[:10]]
        if self.applied:
            lines.append(Text(f"applied to your working tree: {', '.join(self.applied)}"))
        elif self.diff:
            lines.append(
                Text(
                    f"branch {self.branch}; `codeplan show {self.run_id}` for the edits, "
                    f"`codeplan apply {self.run_id}` to bring them into your tree"
                )
            )
        if self.status in ("stopped", "interrupted"):
            lines.append(Text(f"resume with `codeplan resume {self.run_id}`"))
        return Group(*lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "status": self.status,
            "reason": self.reason,
            "branch": self.branch,
            "edited": list(self.edited_blocks),
            "usage": {**asdict(self.usage), "tokens": self.usage.tokens},
            "remaining": list(self.remaining),
            "applied": list(self.applied),
            "plan": plan_to_json(self.plan),
            "diff": self.diff,
        }


@dataclass
class Session:
    """What one run needs while it is driven: its stored record and its live parts."""

    store: RunStore
    record: RunRecord
    workspace: Workspace
    builder: GraphBuilder
    secrets: tuple[str, ...] = ()
    observer: Observer | None = None


def start_run(
    repo_root: Path,
    options: StartOptions,
    editor_factory: EditorFactory,
    oracle_factory: OracleFactory,
    *,
    secrets: Sequence[str] = (),
    observer: Observer | None = None,
) -> RunResult:
    root = repo_root.resolve()
    planner = planner_options(read_config(root), options.concurrency)  # fails before any work
    user_changes = working_tree_changes(root)
    if options.mode == "propagate" and not user_changes:
        raise PlanError("there are no uncommitted edits to propagate (edit some code first)")
    if options.mode == "run" and user_changes and not options.allow_dirty:
        shown = ", ".join(user_changes[:5]) + (" ..." if len(user_changes) > 5 else "")
        raise WorkspaceError(
            f"the working tree has uncommitted changes ({shown}); commit or stash them, "
            "or pass --allow-dirty to start from HEAD and leave them alone"
        )
    store = RunStore(root)
    slug = slugify(options.task)
    run_id = store.new_id(slug)
    carry = user_changes if options.mode == "propagate" else ()
    workspace = Workspace.create(
        root, run_id, free_branch(root, options.branch_prefix + slug), carry_changes=carry
    )
    builder = build_graph(workspace.root, _graph_options(root))
    plan = PlanGraph()
    if options.mode == "propagate":
        changes = _user_file_changes(workspace, carry)
        for change in changes:  # the graph starts at the base, the seeds are the edits
            builder.update_file(change.path, change.before, deleted=change.before is None)
        seed_user_changes(
            builder,
            changes,
            plan,
            planner.rules,
            max_edits_per_block=options.budget.max_edits_per_block,
            screen_calls=planner.screen_calls,
        )
    else:
        blocks = [find_block(builder.graph, name) for name in options.seeds]
        blocks += [b for target in options.seed_uses for b in users_of(builder, target)]
        if not blocks:
            raise PlanError("give seed blocks (--seed PATH::QUALNAME) or --seed-uses MODULE")
        seed_blocks(plan, list({b.id: b for b in blocks}.values()), options.task)
    settings = options.settings or RunSettings(task=options.task, mode=options.mode)
    record = RunRecord(
        id=run_id,
        settings=settings,
        branch=workspace.branch,
        base_sha=workspace.base_sha,
        created=time.time(),
        progress=Progress(),
        plan=plan,
    )
    session = Session(store, record, workspace, builder, tuple(secrets), observer)
    oracle = oracle_factory()
    if oracle is not None:
        # the baseline is validated on the base commit's tree, so problems the user's
        # seed edits cause are not mistaken for pre-existing ones
        with revision_tree(workspace.root, workspace.base_sha) as base_tree:
            baseline = oracle.validate(base_tree, [])
        keys = tuple(d.key for d in baseline.diagnostics)
        session.record = replace(record, progress=replace(record.progress, baseline=keys))
    store.save(session.record, secrets)
    return _drive(session, editor_factory, oracle, options.budget, planner)


def resume_run(
    repo_root: Path,
    run_id: str | None,
    editor_factory: EditorFactory,
    oracle_factory: OracleFactory,
    *,
    budget: Budget,
    concurrency: int = 1,
    secrets: Sequence[str] = (),
    observer: Observer | None = None,
    evolve_tests: bool | None = None,
    judge_tests: bool | None = None,
) -> RunResult:
    """`evolve_tests` and `judge_tests` None keep the run's own settings."""
    root = repo_root.resolve()
    store = RunStore(root)
    record = store.load(run_id or store.latest())
    if record.progress.status == "done":
        raise PlanError(f"run {record.id} is already done; `codeplan show {record.id}`")
    workspace = Workspace.open(root, record.id)
    _rewind(workspace, record)
    builder = build_graph(workspace.root, _graph_options(root))
    record = replace(record, progress=replace(record.progress, status="running", reason=""))
    if evolve_tests is not None:
        record = replace(record, settings=replace(record.settings, evolve_tests=evolve_tests))
    if judge_tests is not None:
        record = replace(record, settings=replace(record.settings, judge_tests=judge_tests))
    planner = planner_options(read_config(root), concurrency)
    session = Session(store, record, workspace, builder, tuple(secrets), observer)
    return _drive(session, editor_factory, oracle_factory(), budget, planner)


def _drive(
    session: Session,
    editor_factory: EditorFactory,
    oracle: Oracle | None,
    budget: Budget,
    options: PlannerOptions,
) -> RunResult:
    journal = FileJournal(session.store, session.record, session.secrets, session.observer)
    settings = session.record.settings
    journal.event("start", task=settings.task, budget=asdict(budget))
    editor = editor_factory(journal)
    loop = PlanLoop(
        session.builder,
        session.workspace,
        editor,
        journal,
        task=settings.task,
        oracle=oracle,
        budget=budget,
        options=options,
    )
    try:
        progress = loop.run(session.record.plan, session.record.progress)
        # judging the tests is a way of updating them: either setting starts the step
        if progress.status == "done" and (settings.evolve_tests or settings.judge_tests):
            sandbox = choose_sandbox(oracle, session.workspace.user_root, settings.sandbox)
            update_tests_after_run(
                session.workspace, session.builder, editor, sandbox, journal,
                session.record.plan, progress, budget, judge=settings.judge_tests,
            )  # fmt: skip
    except KeyboardInterrupt:
        session.workspace.reset_uncommitted()
        raise
    if journal.record.progress.status == "done" and settings.commit == "run":
        _squash(session.workspace, editor, journal)
    return result_of(journal.record, session.workspace)


def _squash(workspace: Workspace, editor: Editor, journal: FileJournal) -> None:
    """One commit for the whole run, its message written like the repository's own
    (by the model when the editor is the LLM one, else from the plan)."""
    settings, plan = journal.record.settings, journal.record.plan
    complete = None
    if isinstance(editor, LLMEditor):
        llm = editor

        def complete(messages: list[dict[str, str]]) -> str:
            try:
                return llm.complete(messages, purpose="commit-message")
            except EditError:
                return ""  # an empty answer falls back to the plan's message

    message = generate_message(
        complete,
        workspace.user_root,
        workspace.diff(since_base=False),
        prefix=settings.message_prefix,
        task=settings.task,
        plan=plan,
    )
    sha = workspace.squash(message)
    journal.event("squash", commit=sha, message=message)


def result_of(record: RunRecord, workspace: Workspace, applied: Sequence[str] = ()) -> RunResult:
    return RunResult(
        run_id=record.id,
        status=record.progress.status,
        reason=record.progress.reason,
        branch=record.branch,
        plan=record.plan,
        usage=record.progress.usage,
        diff=workspace.diff(),
        remaining=record.progress.remaining,
        applied=tuple(applied),
    )


def planner_options(config: Mapping[str, Any], concurrency: int) -> PlannerOptions:
    rules, screen = impact_settings(config)
    section = config.get("plan", {})
    triage = section.get("triage", True) if isinstance(section, Mapping) else None
    if not isinstance(triage, bool):
        raise ConfigError("[plan] must be a table, and [plan] triage true or false")
    return PlannerOptions(concurrency=concurrency, rules=rules, screen_calls=screen, triage=triage)


def impact_settings(config: Mapping[str, Any]) -> tuple[Mapping[Any, Any], bool]:
    """The project's impact rules, and whether callers are screened call by call."""
    section = config.get("impact", {})
    return rules_with_overrides(section.get("rules", {})), bool(section.get("screen_calls"))


def _graph_options(repo_root: Path) -> GraphOptions:
    # the worktree shares the repository's analysis cache: entries are keyed by content
    return GraphOptions(cache_dir=repo_root / ".codeplan")


def free_branch(repo_root: Path, wanted: str) -> str:
    repo = git.Repo(repo_root, search_parent_directories=True)
    existing = {head.name for head in repo.heads}
    candidate, n = wanted, 1
    while candidate in existing:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def _user_file_changes(workspace: Workspace, paths: Sequence[str]) -> list[FileChange]:
    states = RepositoryStates(workspace.root)
    base = states.revision(workspace.base_sha)
    return [FileChange(p, states.contents(base, p), workspace.read(p)) for p in paths]


def _rewind(workspace: Workspace, record: RunRecord) -> None:
    """Back to the last step the state knows about: an edit committed after the last
    checkpoint (a crash between the two) is dropped and will be asked for again."""
    workspace.reset_uncommitted()
    commits = [e.commit for e in record.plan.edits.values() if e.commit]
    last = commits[-1] if commits else workspace.start_sha
    git.Repo(workspace.toplevel).git.reset("--hard", last)


__all__ = [
    "ConfigError",
    "RunResult",
    "StartOptions",
    "environment_secrets",
    "resume_run",
    "start_run",
]
