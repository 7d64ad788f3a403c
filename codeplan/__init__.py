"""CodePlan: repository-level coding with a dependency graph, impact analysis and planning."""

from codeplan.errors import CodePlanError

__all__ = ["CodePlanError", "__version__"]
__version__ = "0.1.0"
