"""The contract between the graph builder and a language analyzer.

An analyzer has two pure steps:

1. `extract(path, source)` turns one file into `FileFacts` (blocks plus whatever symbolic
   references the language needs), with no knowledge of other files.  Facts are cached
   on disk by content hash and analyzer version.
2. `resolver(index).resolve(facts)` turns one file's references into edges, consulting
   other files only through `ResolutionIndex.lookup`, which records what was consulted so
   an incremental update knows which files to re-resolve.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

from codeplan.graph.model import Block, path_of
from codeplan.graph.records import FileFacts, FileResolution


class ResolutionIndex:
    """All files' facts, as seen by resolvers, with dependency recording."""

    def __init__(self, facts_by_path: Mapping[str, FileFacts]) -> None:
        self._facts: dict[str, FileFacts] = dict(facts_by_path)
        self._providers: dict[str, list[FileFacts]] = {}
        # blocks by id, of the files whose blocks a resolver has asked for: a file's stay
        # packed until then (a warm build resolves nothing)
        self._blocks: dict[str, Block] = {}
        self._blocks_indexed: set[str] = set()
        for facts in self._facts.values():
            self._add(facts)
        # the open tracking frames, innermost last (read directly only by the resolvers'
        # hottest path, which records into the last as `consult` does)
        self.frames: list[set[str]] = []

    def _add(self, facts: FileFacts) -> None:
        for key in facts.provides:
            providers = self._providers.setdefault(key, [])
            providers.append(facts)
            providers.sort(key=lambda f: f.path)

    def replace_file(self, path: str, facts: FileFacts | None) -> None:
        """Swap one file's facts (None: the file is gone) without re-indexing the rest."""
        old = self._facts.pop(path, None)
        if old is not None:
            for key in old.provides:
                remaining = [f for f in self._providers.get(key, []) if f.path != path]
                if remaining:
                    self._providers[key] = remaining
                else:
                    self._providers.pop(key, None)
            if path in self._blocks_indexed:
                self._blocks_indexed.discard(path)
                for block in old.blocks:
                    self._blocks.pop(block.id, None)
        if facts is not None:
            self._facts[path] = facts
            self._add(facts)

    def providers(self, key: str) -> list[FileFacts]:
        """Like `lookup`, without recording a dependency (for the builder's bookkeeping)."""
        return self._providers.get(key, [])

    def lookup(self, key: str) -> list[FileFacts]:
        """The files that provide dependency key `key` (a module name, for Python).

        The key is recorded even when nothing provides it: adding such a file later must
        re-resolve whoever looked for it.
        """
        self.consult((key,))
        return self._providers.get(key, [])

    def consult(self, keys: tuple[str, ...] | frozenset[str] | set[str]) -> None:
        # only the innermost frame records; it hands its keys outward when it closes
        if self.frames:
            self.frames[-1].update(keys)

    def block(self, block_id: str) -> Block | None:
        found = self._blocks.get(block_id)
        if found is None:
            path = path_of(block_id)
            if path not in self._blocks_indexed:
                self._blocks_indexed.add(path)
                facts = self._facts.get(path)
                for block in facts.blocks if facts is not None else ():
                    self._blocks[block.id] = block
                found = self._blocks.get(block_id)
        return found

    def facts(self, path: str) -> FileFacts | None:
        return self._facts.get(path)

    def all_facts(self) -> Iterator[FileFacts]:
        return iter(self._facts.values())

    @contextmanager
    def tracking(self) -> Iterator[set[str]]:
        """Collect every key consulted inside the block (nested frames all see it)."""
        frame = self.open_frame()
        try:
            yield frame
        finally:
            self.close_frame()

    def open_frame(self) -> set[str]:
        """`tracking` without a context manager, for the resolvers' hottest paths (a
        generator-based context costs more than the memo hit it would wrap): the caller
        must `close_frame` in a `finally`."""
        frame: set[str] = set()
        self.frames.append(frame)
        return frame

    def close_frame(self) -> None:
        frame = self.frames.pop()
        if self.frames:
            self.frames[-1].update(frame)


class Resolver(Protocol):
    def resolve(self, facts: FileFacts) -> FileResolution: ...

    def invalidate(self, path: str, keys: frozenset[str]) -> None:
        """Forget memoised inference about file `path`, and about dependency `keys`."""
        ...

    def resolve_name(self, name: str, scope: str) -> list[str]:
        """Ids of the blocks a (dotted) name denotes inside scope block `scope`."""
        ...


class LanguageAnalyzer(Protocol):
    """One per language; adding a language means adding one of these plus its queries."""

    @property
    def language(self) -> str: ...

    @property
    def extensions(self) -> tuple[str, ...]: ...

    @property
    def version(self) -> str:
        """Changes whenever extraction output changes, so cached facts are invalidated."""
        ...

    def extract(self, path: str, source: bytes) -> FileFacts: ...

    def resolver(self, index: ResolutionIndex) -> Resolver: ...
