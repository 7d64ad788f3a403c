"""One small error hierarchy: the CLI turns these into clear messages; anything else is a bug."""

from __future__ import annotations


class CodePlanError(Exception):
    """An expected failure with a message meant for the user."""

    exit_code = 1


class ConfigError(CodePlanError):
    """The configuration or the command line asks for something impossible."""

    exit_code = 2


class GraphError(CodePlanError):
    """The dependency graph could not be built or queried as asked."""


class BlockNotFoundError(GraphError):
    """No block matches the name the user gave."""


class CacheError(GraphError):
    """The on-disk analysis cache is unusable (it is rebuilt, never trusted)."""


class EditError(CodePlanError):
    """An editor could not produce an answer (the LLM endpoint failed after retries...)."""


class ValidationError(CodePlanError):
    """The oracle could not run (not: the oracle found problems, which is a result)."""


class PlanError(CodePlanError):
    """A plan cannot be made or continued as asked (unknown seed, unknown run...)."""


class WorkspaceError(CodePlanError):
    """Git work for a run failed: dirty tree, conflicting apply, missing branch..."""


class SandboxError(CodePlanError):
    """A sandbox could not be built or run: no engine, a failed image build, a broken
    environment (never a verdict on the code under test)."""


class DeliveryError(CodePlanError):
    """A run's branch could not be pushed or its pull request opened or updated (no token,
    a refused push, an error answer from GitHub)."""
