"""Delivering a run's work: a private branch and worktree, applied to the user's tree on request."""

from codeplan.deliver.workspace import Workspace, slugify, working_tree_changes

__all__ = ["Workspace", "slugify", "working_tree_changes"]
