"""Runs on disk: `.codeplan/runs/<id>/state.json` (the plan and the loop's progress,
rewritten atomically after every step) and `log.jsonl` (every request, answer, decision
and edit, appended).  Known secrets are redacted from everything written."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from codeplan.edit.llm import redact
from codeplan.edit.model import Usage
from codeplan.errors import PlanError
from codeplan.plan.model import PlanGraph
from codeplan.plan.planner import Progress

STATE_VERSION = 1
SAVE_INTERVAL = 1.0  # seconds between state saves while a run goes on

Observer = Callable[[str, dict[str, Any]], None]  # e.g. a live progress display


@dataclass(frozen=True)
class RunSettings:
    """How the run was started, so `resume` continues it the same way."""

    task: str
    mode: str  # "run" | "propagate"
    editor: str | None = None  # "module:attr", None: the LLM editor
    model: str | None = None
    concurrency: int = 1
    validate: bool = True
    sandbox: str | None = None  # validate in a sandbox: "docker" | "local"; None: on the host
    evolve_tests: bool = False  # once done, update the tests the run made obsolete
    judge_tests: bool = False  # and first ask the editor which passing ones are stale
    commit: str = "step"  # "step": a commit per edit; "run": one commit, history-aware message
    message_prefix: str | None = None
    budget: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    id: str
    settings: RunSettings
    branch: str
    base_sha: str
    created: float
    progress: Progress
    plan: PlanGraph

    def to_json(self) -> dict[str, Any]:
        progress = asdict(self.progress)
        return {
            "version": STATE_VERSION,
            "id": self.id,
            "settings": asdict(self.settings),
            "branch": self.branch,
            "base_sha": self.base_sha,
            "created": self.created,
            "progress": progress,
            "plan": self.plan.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        if data.get("version") != STATE_VERSION:
            raise PlanError(f"run state version {data.get('version')} is not supported")
        raw = dict(data["progress"])
        raw["usage"] = Usage(**raw["usage"])
        raw["remaining"] = tuple(raw.get("remaining", ()))
        if raw.get("baseline") is not None:
            raw["baseline"] = tuple(tuple(k) for k in raw["baseline"])
        return cls(
            id=data["id"],
            settings=RunSettings(**data["settings"]),
            branch=data["branch"],
            base_sha=data["base_sha"],
            created=data["created"],
            progress=Progress(**raw),
            plan=PlanGraph.from_json(data["plan"]),
        )


class RunStore:
    def __init__(self, repo_root: Path) -> None:
        self.directory = repo_root / ".codeplan" / "runs"

    def new_id(self, slug: str) -> str:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        base = f"{stamp}-{slug}"[:60]
        candidate, n = base, 1
        while (self.directory / candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def run_dir(self, run_id: str) -> Path:
        return self.directory / run_id

    def save(self, record: RunRecord, secrets: Iterable[str] = ()) -> None:
        folder = self.run_dir(record.id)
        folder.mkdir(parents=True, exist_ok=True)
        text = redact(json.dumps(record.to_json(), indent=1), secrets)
        handle, temp = tempfile.mkstemp(dir=folder, prefix=".state-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, folder / "state.json")

    def load(self, run_id: str) -> RunRecord:
        path = self.run_dir(run_id) / "state.json"
        if not path.is_file():
            known = ", ".join(self.ids()[-5:]) or "none"
            raise PlanError(f"no run {run_id!r} (recent runs: {known})")
        try:
            return RunRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as error:
            raise PlanError(f"the state of run {run_id} is unreadable: {error}") from error

    def ids(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if (p / "state.json").is_file())

    def latest(self) -> str:
        ids = self.ids()
        if not ids:
            raise PlanError("there are no runs in this repository yet")
        return ids[-1]

    def events(self, run_id: str) -> list[dict[str, Any]]:
        path = self.run_dir(run_id) / "log.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


class FileJournal:
    """The planner's journal for a stored run."""

    def __init__(
        self,
        store: RunStore,
        record: RunRecord,
        secrets: Iterable[str] = (),
        observer: Observer | None = None,
    ) -> None:
        self.store, self.record, self.observer = store, record, observer
        self.secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()
        store.run_dir(record.id).mkdir(parents=True, exist_ok=True)
        self._log = store.run_dir(record.id) / "log.jsonl"
        self._saved_at = float("-inf")

    def event(self, kind: str, **fields: Any) -> None:
        line = redact(json.dumps({"time": time.time(), "event": kind, **fields}), self.secrets)
        with self._lock, self._log.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        if self.observer is not None:
            self.observer(kind, fields)

    def log(self, fields: dict[str, Any]) -> None:
        """An event sink for the LLM editor (its events carry their own "event" key)."""
        kind = str(fields.get("event", "llm"))
        self.event(kind, **{k: v for k, v in fields.items() if k != "event"})

    def checkpoint(self, plan: PlanGraph, progress: Progress) -> None:
        """Save the state; while the run goes on, at most once per `SAVE_INTERVAL`.

        Writing the whole plan after every step grows with the plan (quadratic over a
        run).  A state up to a second old is safe: resume rewinds the worktree to the last
        edit the state records, and the obligations after it are asked again (from the
        response cache, for an LLM)."""
        self.record = replace(self.record, plan=plan, progress=progress)
        if self.observer is not None:
            usage = progress.usage
            self.observer(
                "checkpoint", {**plan.counts(), "tokens": usage.tokens, "cost": usage.cost_usd}
            )
        now = time.monotonic()
        if progress.status == "running" and now - self._saved_at < SAVE_INTERVAL:
            return
        self.store.save(self.record, self.secrets)
        self._saved_at = now
