"""CodePlan: repository-level coding with a dependency graph, impact analysis and planning.

The library API (`Repository`, `Planner`, `Budget`, `RunResult`, `EditRequest`) is
imported on first use, so `import codeplan` stays cheap for tools that only need the graph.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from codeplan.errors import CodePlanError

if TYPE_CHECKING:
    from codeplan.api import Planner, Repository
    from codeplan.edit.model import EditContext, Editor, EditRequest
    from codeplan.plan.budget import Budget
    from codeplan.runner import RunResult

_LAZY = {
    "Repository": "codeplan.api",
    "Planner": "codeplan.api",
    "Budget": "codeplan.plan.budget",
    "RunResult": "codeplan.runner",
    "EditRequest": "codeplan.edit.model",
    "EditContext": "codeplan.edit.model",
    "Editor": "codeplan.edit.model",
}

__all__ = [
    "Budget",
    "CodePlanError",
    "EditContext",
    "EditRequest",
    "Editor",
    "Planner",
    "Repository",
    "RunResult",
    "__version__",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'codeplan' has no attribute {name!r}")
