"""A plain folder as the planner's `Tree`: for library users and tools that edit a copy
they manage themselves (no git worktree, no commits)."""

from __future__ import annotations

from pathlib import Path


class FolderTree:
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> bytes | None:
        file = self.root / path
        return file.read_bytes() if file.is_file() else None

    def write(self, path: str, data: bytes) -> None:
        (self.root / path).write_bytes(data)

    def commit(self, message: str) -> str | None:
        return None  # a folder keeps no history
