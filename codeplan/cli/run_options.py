"""Flags shared by the commands that run the planner, and how they become its settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.status import Status

from codeplan.api import (
    llm_editor_factory,
    local_oracle_factory,
    make_llm_editor,
    sandbox_oracle_factory,
)
from codeplan.config import read_config
from codeplan.edit.editors import load_editor
from codeplan.edit.model import Editor
from codeplan.plan.budget import Budget
from codeplan.plan.store import RunSettings
from codeplan.runner import EditorFactory, OracleFactory


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"


PathOpt = Annotated[
    Path, typer.Option("--path", "-C", help="The repository (or a project folder inside one).")
]
EditorOpt = Annotated[
    str | None,
    typer.Option("--editor", help="MODULE:ATTR of another editor (default: the LLM editor)."),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model", help="The model (default: $CODEPLAN_MODEL, else the llm.model setting)."
    ),
]
MaxCostOpt = Annotated[float | None, typer.Option("--max-cost", help="Stop at this cost (USD).")]
MaxCallsOpt = Annotated[int | None, typer.Option("--max-calls", help="Stop after N editor calls.")]
MaxTokensOpt = Annotated[int | None, typer.Option("--max-tokens", help="Stop after N tokens.")]
MaxSecondsOpt = Annotated[
    float | None, typer.Option("--max-seconds", help="Stop after this much wall time.")
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", min=1, max=32, help="Editor requests in flight at once.")
]
SandboxOpt = Annotated[
    str | None,
    typer.Option(
        "--sandbox",
        help="Validate in a sandbox: docker (isolated) or local (a temporary virtualenv).",
    ),
]
NoValidateOpt = Annotated[
    bool, typer.Option("--no-validate", help="Skip the oracle (compile, type check, tests).")
]
EvolveTestsOpt = Annotated[
    bool,
    typer.Option(
        "--evolve-tests",
        help="Once done, update the tests the run made obsolete, each checked by running it "
        "in the sandbox (--sandbox; default: the configured one).",
    ),
]
JudgeTestsOpt = Annotated[
    bool,
    typer.Option(
        "--judge-tests",
        help="With --evolve-tests (implied): also ask the editor which of the passing tests"
        " the run's change reaches check behaviour it altered, and update those too.",
    ),
]
ApplyOpt = Annotated[
    bool,
    typer.Option("--apply", help="Bring the result into your working tree when the run is done."),
]
BranchPrefixOpt = Annotated[
    str, typer.Option("--branch-prefix", help="The run's branch is PREFIX<task-slug>.")
]
CommitOpt = Annotated[
    str,
    typer.Option(
        "--commit",
        help="step: a commit per edit (the default); run: one commit for the whole run, "
        "its message written in the repository's style.",
    ),
]
MessagePrefixOpt = Annotated[
    str | None, typer.Option("--message-prefix", help="With --commit run: how the message starts.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table: for people; json: for tools.")
]


@dataclass(frozen=True)
class RunFlags:
    editor: str | None = None
    model: str | None = None
    max_cost: float | None = None
    max_calls: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None
    concurrency: int = 1
    validate: bool = True
    sandbox: str | None = None
    evolve_tests: bool = False
    judge_tests: bool = False

    def budget(self) -> Budget:
        return Budget(
            max_calls=self.max_calls,
            max_tokens=self.max_tokens,
            max_cost_usd=self.max_cost,
            max_seconds=self.max_seconds,
        )

    def settings(self, task: str, mode: str) -> RunSettings:
        budget: dict[str, Any] = {
            k: v
            for k, v in {
                "max_calls": self.max_calls,
                "max_tokens": self.max_tokens,
                "max_cost_usd": self.max_cost,
                "max_seconds": self.max_seconds,
            }.items()
            if v is not None
        }
        return RunSettings(
            task=task,
            mode=mode,
            editor=self.editor,
            model=self.model,
            concurrency=self.concurrency,
            validate=self.validate,
            sandbox=self.sandbox,
            evolve_tests=self.evolve_tests,
            judge_tests=self.judge_tests,
            budget=budget,
        )

    @classmethod
    def resumed(cls, settings: RunSettings, overrides: RunFlags) -> RunFlags:
        """The stored settings, with whatever the user gives again on the command line."""
        stored = settings.budget
        return cls(
            editor=overrides.editor or settings.editor,
            model=overrides.model or settings.model,
            max_cost=overrides.max_cost or stored.get("max_cost_usd"),
            max_calls=overrides.max_calls or stored.get("max_calls"),
            max_tokens=overrides.max_tokens or stored.get("max_tokens"),
            max_seconds=overrides.max_seconds or stored.get("max_seconds"),
            concurrency=max(overrides.concurrency, settings.concurrency),
            validate=settings.validate and overrides.validate,
            sandbox=overrides.sandbox or settings.sandbox,
            evolve_tests=overrides.evolve_tests or settings.evolve_tests,
            judge_tests=overrides.judge_tests or settings.judge_tests,
        )

    def editor_factory(self, root: Path) -> EditorFactory:
        if self.editor:
            editor = load_editor(self.editor, root)
            return lambda journal: editor
        return llm_editor_factory(root, read_config(root), os.environ, self.model)

    def plain_editor(self, root: Path) -> Editor:
        """The editor outside a planner run (no run log to write to)."""
        if self.editor:
            return load_editor(self.editor, root)
        return make_llm_editor(root, read_config(root), os.environ, self.model)

    def oracle_factory(self, root: Path) -> OracleFactory:
        if not self.validate:
            return lambda: None
        if self.sandbox is not None:
            return sandbox_oracle_factory(root, read_config(root), os.environ, self.sandbox)
        return local_oracle_factory(read_config(root))


class LiveProgress:
    """A one-line live status fed by the run's journal: obligations done and pending,
    tokens, cost, and what is happening now."""

    def __init__(self, console: Console) -> None:
        self.status = Status("building the dependency graph", console=console)
        self.counts: dict[str, Any] = {}
        self.doing = ""

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "checkpoint":
            self.counts = fields
        elif kind == "ask":
            self.doing = f"asking about {fields.get('block')}"
        elif kind == "validating":
            self.doing = "validating: compile, type check, tests"
        elif kind == "start":
            self.doing = "planning"
        elif kind == "updating-tests":
            self.doing = "finding and updating the tests the run made obsolete"
        elif kind == "sandbox-warning":
            self.status.console.print(fields.get("note", ""), style="bold red", highlight=False)
            return
        else:
            return
        c = self.counts
        done = sum(c.get(k, 0) for k in ("edited", "no-change", "rejected", "skipped"))
        self.status.update(
            f"{done} done ({c.get('edited', 0)} edited), {c.get('pending', 0)} pending, "
            f"{c.get('tokens', 0):,} tokens, ${c.get('cost', 0.0):.4f} — {self.doing}"
        )
