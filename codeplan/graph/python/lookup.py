"""Read-only access to every file's Python facts, through the resolution index.

Every read of another file's facts goes through `ResolutionIndex.lookup` or `consult`, so
the dependency is recorded: that is what lets an incremental update know whom to
re-resolve.
"""

from __future__ import annotations

from typing import Any

from codeplan.graph.analyzer import ResolutionIndex
from codeplan.graph.model import BlockKind
from codeplan.graph.python.extract import module_name_for
from codeplan.graph.records import FileFacts

KEY_PREFIX = "python:"


class FactsLookup:
    def __init__(self, index: ResolutionIndex) -> None:
        self.index = index
        self._module_keys: dict[str, tuple[str]] = {}

    def _module_facts(self, module: str) -> FileFacts | None:
        # the index finds a file by what it provides, which for Python is its module's
        # key: no need to read the module's name out of its payload
        for facts in self.index.lookup(KEY_PREFIX + module):
            if facts.language == "python":
                return facts
        return None

    def _find_module(self, name: str, importer: str) -> str | None:
        """The repository module an absolute import names, if any.

        Besides the exact name, a script or test outside any package sees the modules of
        its own folder (Python puts a script's folder on sys.path; so does pytest).
        """
        if self._module_facts(name) is not None:
            return name
        folder = importer.rsplit("/", 1)[0] if "/" in importer else ""
        if not folder:
            return None
        package = module_name_for(f"{folder}/__init__.py")
        if self._module_facts(package) is None:
            prefixed = f"{package}.{name}"
            if self._module_facts(prefixed) is not None:
                return prefixed
        return None

    def _module_path(self, module: str) -> str:
        facts = self._module_facts(module)
        return facts.path if facts is not None else module

    def _module_bindings(self, module: str) -> dict[str, list[list[Any]]]:
        facts = self._module_facts(module)
        if facts is None:
            return {}
        bindings: dict[str, list[list[Any]]] = facts.data["scopes"][facts.path]["bindings"]
        return bindings

    def _absolute(self, module: str, level: int, importer: str) -> str | None:
        if level == 0:
            return module
        facts = self.index.facts(importer)
        if facts is None:
            return None
        package = facts.data["module"].split(".")
        if not importer.endswith("__init__.py"):
            package = package[:-1]
        if level - 1 > len(package):
            return None
        base = package[: len(package) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def _scope_parent(self, path: str, scope_id: str) -> str | None:
        facts = self.index.facts(path)
        if facts is None:
            return None
        parent: str | None = facts.data["scopes"][scope_id]["parent"]
        return parent

    def _facts_of(self, path: str) -> FileFacts | None:
        facts = self.index.facts(path)
        if facts is not None:
            keys = self._module_keys.get(path)
            if keys is None:  # a path's module name never changes: build its key once
                keys = self._module_keys[path] = (KEY_PREFIX + facts.data["module"],)
            self.index.consult(keys)
        return facts

    def _kind(self, some_block_id: str) -> BlockKind | None:
        block = self.index.block(some_block_id)
        return block.kind if block is not None else None

    def _is_class(self, some_block_id: str) -> bool:
        return self._kind(some_block_id) is BlockKind.CLASS

    def _entry(self, table: str, some_block_id: str) -> tuple[str, dict[str, Any] | None]:
        """The block's path, and its entry in its file's `table` ("classes", "functions",
        "fields"; None when there is none), consulting that file."""
        path = some_block_id.split("::")[0]
        facts = self._facts_of(path)
        entry: dict[str, Any] | None = facts.data[table].get(some_block_id) if facts else None
        return path, entry

    def _members(self, class_id: str) -> dict[str, str]:
        _, info = self._entry("classes", class_id)
        return info["members"] if info is not None else {}

    def _function_info(self, function_id: str) -> tuple[str, dict[str, Any] | None]:
        return self._entry("functions", function_id)

    def _function_kind(self, function_id: str) -> str:
        _, info = self._function_info(function_id)
        return str(info["kind"]) if info else ""
