"""The library API: `Repository(path)` and `Planner(repo, editor=..., oracle=..., budget=...)`.

    from codeplan import Repository, Planner, Budget
    repo = Repository("path/to/project")
    print(repo.graph.callers("pkg/mod.py::func"))
    result = Planner(repo, editor=my_editor, budget=Budget(max_calls=50)).run(
        "Add a `timeout` parameter to fetch() and pass it through",
        seeds=["pkg/net.py::fetch"],
    )
    print(result.status, result.edited_blocks)
    print(result.diff)

The CLI is a thin layer over the same functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

from codeplan.config import read_config
from codeplan.edit.llm import LLMEditor, LLMSettings, LogSink, llm_settings
from codeplan.edit.model import Editor
from codeplan.edit.prompts import PromptSet
from codeplan.edit.response_cache import ResponseCache
from codeplan.errors import ConfigError
from codeplan.graph import CodeGraph, GraphBuilder, GraphOptions, build_graph
from codeplan.graph.gcpause import release_frozen
from codeplan.impact.analysis import ImpactReport
from codeplan.impact.states import impact_between
from codeplan.plan.budget import Budget
from codeplan.plan.store import RunSettings
from codeplan.runner import (
    EditorFactory,
    OracleFactory,
    RunResult,
    StartOptions,
    environment_secrets,
    resume_run,
    start_run,
)
from codeplan.validate.local import LocalOracle, oracle_settings
from codeplan.validate.model import Oracle


class Repository:
    def __init__(self, path: str | os.PathLike[str], options: GraphOptions | None = None) -> None:
        self.root = Path(path).resolve()
        if not self.root.is_dir():
            raise ConfigError(f"{self.root} is not a folder")
        self.options = options or GraphOptions()

    @cached_property
    def config(self) -> dict[str, Any]:
        return read_config(self.root)

    @cached_property
    def builder(self) -> GraphBuilder:
        return build_graph(self.root, self.options)

    @property
    def graph(self) -> CodeGraph:
        return self.builder.graph

    def impact(self, base: str = "HEAD", head: str | None = None) -> ImpactReport:
        """What the changes from `base` to `head` (None: the working tree) may impact."""
        return impact_between(self.root, base, head, self.options)


class Planner:
    """Runs a task on a repository: on a branch in its own worktree, never in the user's
    working tree (see `RunResult.diff` and `codeplan apply`)."""

    def __init__(
        self,
        repo: Repository,
        *,
        editor: Editor | None = None,
        oracle: Oracle | None = None,
        validate: bool = True,
        budget: Budget | None = None,
        concurrency: int = 1,
        env: Mapping[str, str] | None = None,
        evolve_tests: bool = False,
        judge_tests: bool = False,
    ) -> None:
        """`evolve_tests`: once a run is done, update the tests it made obsolete, each
        checked in the configured sandbox ([sandbox] backend); `judge_tests` (implies it):
        the editor also judges which passing tests the change made stale."""
        self.repo = repo
        self.evolve_tests = evolve_tests
        self.judge_tests = judge_tests
        self.env = dict(os.environ if env is None else env)
        self.budget = budget or Budget()
        self.concurrency = concurrency
        self._editor_factory: EditorFactory = (
            (lambda journal: editor)
            if editor is not None
            else llm_editor_factory(repo.root, repo.config, self.env)
        )
        self._oracle_factory: OracleFactory = (
            (lambda: oracle)
            if oracle is not None
            else local_oracle_factory(repo.config) if validate else (lambda: None)
        )  # fmt: skip

    def run(
        self,
        task: str,
        seeds: Sequence[str] = (),
        *,
        seed_uses: Sequence[str] = (),
        allow_dirty: bool = False,
    ) -> RunResult:
        """Carry out `task` from the seed blocks (`PATH::QUALNAME`, or every user of the
        modules or symbols in `seed_uses`), then propagate it."""
        return self._start(
            task, "run", seeds=tuple(seeds), seed_uses=tuple(seed_uses), allow_dirty=allow_dirty
        )

    def propagate(self, task: str = "Propagate my edits") -> RunResult:
        """The uncommitted edits in the working tree are the seeds."""
        return self._start(task, "propagate")

    def _start(self, task: str, mode: str, **seeding: Any) -> RunResult:
        options = StartOptions(
            task=task,
            mode=mode,
            budget=self.budget,
            concurrency=self.concurrency,
            settings=RunSettings(
                task=task,
                mode=mode,
                concurrency=self.concurrency,
                evolve_tests=self.evolve_tests,
                judge_tests=self.judge_tests,
            ),
            **seeding,
        )
        try:
            return start_run(
                self.repo.root,
                options,
                self._editor_factory,
                self._oracle_factory,
                secrets=environment_secrets(self.env),
            )
        finally:
            release_frozen()  # the run's graph is dropped: let its cycles go

    def resume(self, run_id: str | None = None) -> RunResult:
        try:
            return self._resume(run_id)
        finally:
            release_frozen()

    def _resume(self, run_id: str | None) -> RunResult:
        return resume_run(
            self.repo.root,
            run_id,
            self._editor_factory,
            self._oracle_factory,
            budget=self.budget,
            concurrency=self.concurrency,
            secrets=environment_secrets(self.env),
            evolve_tests=self.evolve_tests or None,  # the run's own setting unless asked
            judge_tests=self.judge_tests or None,
        )


def llm_editor_factory(
    root: Path, config: Mapping[str, Any], env: Mapping[str, str], model: str | None = None
) -> EditorFactory:
    """The default editor: an OpenAI-compatible endpoint, configured from `[llm]` and the
    environment.  Fails early, with set-up instructions, when no endpoint is configured."""
    settings, prompts, cache = _llm_parts(root, config, env, model)  # fails before any work
    return lambda journal: LLMEditor(settings, prompts, cache, log=journal.log)


def make_llm_editor(
    root: Path,
    config: Mapping[str, Any],
    env: Mapping[str, str],
    model: str | None = None,
    log: LogSink | None = None,
) -> LLMEditor:
    return LLMEditor(*_llm_parts(root, config, env, model), log=log)


def _llm_parts(
    root: Path, config: Mapping[str, Any], env: Mapping[str, str], model: str | None
) -> tuple[LLMSettings, PromptSet, ResponseCache | None]:
    settings = llm_settings(config, env)
    if model:
        settings = replace(settings, model=model)
    if settings.base_url is None and settings.api_key is None:
        raise ConfigError(ENDPOINT_HELP)
    prompts = PromptSet.from_config(root, config)
    cache = ResponseCache(root / ".codeplan" / "llm-cache.sqlite3") if settings.use_cache else None
    return settings, prompts, cache


def local_oracle_factory(config: Mapping[str, Any]) -> OracleFactory:
    settings = oracle_settings(dict(config))
    return lambda: LocalOracle(settings)


ENDPOINT_HELP = """no LLM endpoint is configured. Point CodePlan at one of:
  OpenAI:     export OPENAI_API_KEY=sk-...            (optionally CODEPLAN_MODEL=gpt-4o)
  Azure:      export OPENAI_BASE_URL=https://<resource>.openai.azure.com/openai/v1
              export OPENAI_API_KEY=<azure key>  CODEPLAN_MODEL=<deployment name>
  vLLM:       export OPENAI_BASE_URL=http://localhost:8000/v1  CODEPLAN_MODEL=<served model>
  Ollama:     export OPENAI_BASE_URL=http://localhost:11434/v1  CODEPLAN_MODEL=qwen2.5-coder
  llama.cpp:  export OPENAI_BASE_URL=http://localhost:8080/v1
or set [llm] base_url / model in codeplan.toml ([tool.codeplan.llm] in pyproject.toml),
or pass --editor MODULE:ATTR to use another editor."""


def sandbox_oracle_factory(
    root: Path, config: Mapping[str, Any], env: Mapping[str, str], backend: str
) -> OracleFactory:
    """Validation in a sandbox (the environment is built when the run starts)."""
    from codeplan.sandbox.oracle import SandboxOracle
    from codeplan.sandbox.session import open_sandbox

    return lambda: SandboxOracle(open_sandbox(root, config, env, backend=backend))
