"""Build the dependency graph of a repository, reuse the on-disk cache, update it in place.

A build has three steps: discover and hash files (reading only those changed since the
cache last saw them, see sources.py); extract per-file facts (cached by content hash); resolve each file's references against all facts (cached by content hash
plus a fingerprint of the interfaces it consulted).  `update_file` redoes the last two for
one file, and re-resolves other files only when that file's interface changed and they
consulted it — the result equals a full rebuild.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from codeplan.graph.analyzer import LanguageAnalyzer, ResolutionIndex, Resolver
from codeplan.graph.cache import AnalysisCache, pack, unpack
from codeplan.graph.codegraph import CodeGraph, innermost_at
from codeplan.graph.files import SkippedFile, check_source, read_source, start_discovery
from codeplan.graph.gcpause import collector_paused
from codeplan.graph.model import Block, BlockKind, Edge
from codeplan.graph.parallel import Phases, forked_phases, map_forked
from codeplan.graph.records import FileFacts, FileResolution
from codeplan.graph.registry import default_analyzers
from codeplan.graph.reports import BuildReport, GraphOptions, UpdateReport
from codeplan.graph.sources import FreshRead, RecordedSignature, Sources, read_fresh, read_sources

Progress = Callable[[int, int], None]
# Resolutions are stored in batches as they arrive, while the workers resolve the rest,
# rather than all at once after the last (0.09 s of a cold Django build's wall time).
_RESOLUTIONS_PER_WRITE = 256
_SCOPE_KINDS = (BlockKind.MODULE, BlockKind.CLASS, BlockKind.FUNCTION, BlockKind.METHOD)


@dataclass
class _StaleEdges:
    """Edges kept after their target changed, until their own file is re-edited."""

    by_file: dict[str, set[Edge]] = field(default_factory=dict)
    tombstones: dict[str, Block] = field(default_factory=dict)

    def count(self) -> int:
        return sum(len(edges) for edges in self.by_file.values())


class GraphBuilder:
    def __init__(
        self,
        root: Path | str,
        options: GraphOptions | None = None,
        analyzers: Iterable[LanguageAnalyzer] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.options = options or GraphOptions()
        chosen = list(analyzers) if analyzers is not None else default_analyzers()
        if self.options.languages is not None:
            chosen = [a for a in chosen if a.language in self.options.languages]
        self._by_extension = {ext: a for a in chosen for ext in a.extensions}
        self._by_language = {a.language: a for a in chosen}
        self.graph = CodeGraph()
        self._facts: dict[str, FileFacts] = {}
        self._resolutions: dict[str, FileResolution] = {}
        self._dependents: dict[str, set[str]] = {}
        self._index = ResolutionIndex({})
        self._fingerprint_parts: dict[str, bytes] = {}
        self._resolvers: dict[str, Resolver] = {}
        self._stale = _StaleEdges()
        self._build_stats: tuple[list[SkippedFile], int, int, int, float] | None = None
        self._report: BuildReport | None = None

    @property
    def report(self) -> BuildReport:
        """Counts of the current graph (recomputed lazily after updates)."""
        if self._report is None:
            if self._build_stats is None:
                raise RuntimeError("build() has not run")
            self._report = self._summarise(*self._build_stats)
        return self._report

    def facts(self, path: str) -> FileFacts | None:
        return self._facts.get(path)

    def current_blocks(self, path: str) -> tuple[Block, ...]:
        """The blocks of `path` as the file is now.  After `update_file(keep_stale=True)`
        the graph also holds the blocks it removed, as targets of stale edges; their lines
        and bytes describe a text that is gone."""
        facts = self._facts.get(path)
        return tuple(facts.blocks) if facts is not None else ()

    def block_at(self, path: str, line: int) -> Block | None:
        """The innermost current block of `path` containing `line`."""
        return innermost_at(self.current_blocks(path), line)

    def resolve(self, name: str, scope: str) -> list[Block]:
        """The blocks a name (`helper`, `self.repo.save`, `pkg.mod.Class`) denotes as seen
        from inside block `scope` (an id; a block that is not a scope, such as a field or a
        statement, is seen from its nearest enclosing class, function or module)."""
        block = self.graph.block(scope)
        while block.kind not in _SCOPE_KINDS and block.parent is not None:
            block = self.graph.block(block.parent)
        resolver = self._resolvers.get(block.language)
        if resolver is None:
            return []
        return [
            self.graph.block(i) for i in resolver.resolve_name(name, block.id) if i in self.graph
        ]

    # -- full build -----------------------------------------------------------------------

    def build(self, progress: Progress | None = None) -> BuildReport:
        # a build allocates millions of small long-lived objects; the cyclic collector would
        # rescan them again and again for nothing (half the time of a warm build)
        with collector_paused(freeze=True):
            return self._build(progress)

    def _build(self, progress: Progress | None) -> BuildReport:
        started = time.perf_counter()
        finish_discovery = start_discovery(
            self.root,
            self._by_extension,
            max_bytes=self.options.max_file_bytes,
            exclude=self.options.exclude,
        )
        try:
            cache = self._open_cache()  # while git lists the files
        except BaseException:
            finish_discovery()  # reaps git
            raise
        try:
            selection = finish_discovery()
            sources = read_sources(
                self.root,
                (source_file.path for source_file in selection.files),
                cache.get_signatures() if cache is not None else {},
                self.options.max_file_bytes,
                seen=cache.fact_paths if cache is not None else frozenset,
            )
            with ExitStack() as workers:
                facts, extracted, phases = self._extract_all(sources, cache, progress, workers)
                skipped = [*selection.skipped, *sources.skipped]
                parsed = len(extracted)
                self._adopt(facts)
                resolved = self._resolve_and_assemble(cache, extracted, sources.signatures, phases)
        finally:
            if cache is not None:
                cache.close()
        self._build_stats = (
            skipped,
            parsed,
            len(facts) - parsed,
            resolved,
            time.perf_counter() - started,
        )
        self._report = None
        return self.report

    def _adopt(self, facts: dict[str, FileFacts]) -> None:
        """Take every file's facts (by path, in order) as those resolution consults."""
        self._facts = facts
        self._index = ResolutionIndex(facts)
        self._fingerprint_parts.clear()
        self._resolvers = {
            language: analyzer.resolver(self._index)
            for language, analyzer in self._by_language.items()
        }

    def _open_cache(self) -> AnalysisCache | None:
        if not self.options.use_cache:
            return None
        return AnalysisCache(self.options.cache_dir or self.root / ".codeplan")

    def _analyzer_for(self, path: str) -> LanguageAnalyzer | None:
        suffix = path[path.rfind(".") :] if "." in path else ""
        return self._by_extension.get(suffix)

    def _extract_all(
        self,
        sources: Sources,
        cache: AnalysisCache | None,
        progress: Progress | None,
        workers: ExitStack,
    ) -> tuple[dict[str, FileFacts], list[tuple[FileFacts, bytes]], Phases]:
        """Every file's facts, by path in order, and those extracted in this run with their
        packed form for the cache (stored by `_resolve_and_assemble`, while it waits).
        The workers that extracted stay (in `workers`) for the resolution that follows
        (`Phases.second`)."""
        keys = {}
        for path, digest in sources.hashes.items():
            analyzer = self._analyzer_for(path)
            if analyzer is not None:
                keys[path] = (path, digest, analyzer.version)
        found = cache.get_many_facts(keys.values()) if cache is not None else {}
        contents = sources.contents(sorted(path for path in keys if path not in found))
        sizes = {path: len(text) for path, text in contents.items()}
        sizes.update((path, stat[0]) for path, stat in sources.unseen.items())
        # largest first: the workers take chunks in order, and a phase lasts until its last
        # chunk is done, so the small files go last, where one worker finishes alone
        missing = sorted(sizes, key=lambda path: -sizes[path])
        total = len(found) + len(missing)

        def extract(path: str) -> tuple[bytes | None, FreshRead | None]:
            """The file's facts, packed for the cache on whichever process extracted them
            (the parent decodes these bytes faster than it would unpickle the facts, and
            stores them as is), and the read that the worker made of an unseen file (its
            bytes dropped: the facts carry what the build needs of them)."""
            analyzer = self._analyzer_for(path)
            assert analyzer is not None
            source, fresh = contents.get(path), None
            if source is None:
                # the signature read_sources took: a stat per file fewer
                fresh = read_fresh(
                    self.root, path, self.options.max_file_bytes, sources.unseen[path]
                )
                if isinstance(fresh.read, SkippedFile):
                    return None, fresh
                source, fresh = fresh.read, replace(fresh, read=b"")
            payload = pack(analyzer.extract(path, source))
            packed_here[path] = payload
            return payload, fresh

        def resume(payloads: list[bytes]) -> Callable[[str], bytes]:
            """In a worker that extracted, the resolution that follows: all facts are the
            ones it extracted and those it is sent (extracted elsewhere, or cached)."""
            packed = [*packed_here.values(), *payloads]
            facts = (unpack(payload, FileFacts.from_record, verify=False) for payload in packed)
            self._adopt({f.path: f for f in sorted(facts, key=lambda f: f.path)})
            return self._resolve_packed

        def report(done: int) -> None:
            if progress is not None:
                progress(len(found) + done, total)

        packed_here: dict[str, bytes] = {}
        extracted = []
        phases = workers.enter_context(
            forked_phases(extract, missing, self._workers(), report, resume=resume)
        )
        # decoded as they arrive, while the workers extract the rest
        for payload, fresh in phases.first:
            facts = None
            if payload is not None:
                facts = unpack(payload, FileFacts.from_record, verify=False)
                extracted.append((facts, payload))
            if fresh is not None:
                sources.record(fresh, facts.content_hash if facts is not None else None)
        packed_here.clear()  # what this process extracted (a worker has its own copy)
        found.update((facts.path, facts) for facts, _ in extracted)
        if progress is not None and not missing:
            progress(total, total)
        return dict(sorted(found.items())), extracted, phases

    def _resolve_and_assemble(
        self,
        cache: AnalysisCache | None,
        extracted: list[tuple[FileFacts, bytes]],
        signatures: list[RecordedSignature],
        phases: Phases,
    ) -> int:
        """Resolve the files whose cached resolution is missing or stale, and build the
        graph.  While the workers resolve (the workers that extracted, in a small build,
        with this process among them: see `Phases.second`), this process stores the newly
        extracted facts (emptying `extracted`) and the signatures of the files read, adds
        every block, and then each file's resolution as it arrives (packed: the graph
        decodes its edges when a query needs them).  Returns how many files were
        resolved."""
        keys = {path: _resolution_key(facts) for path, facts in self._facts.items()}
        cached = cache.get_resolutions(keys) if cache is not None else {}
        reusable = {
            path: hit
            for path, hit in cached.items()
            if hit.fingerprint == self._fingerprint(hit.depends_on)
        }
        # in path order, unlike extraction: a worker's chunk then holds neighbouring
        # modules, which share what its resolver memoises (largest first was slower)
        stale = [path for path in self._facts if path not in reusable]

        packed = {facts.path: payload for facts, payload in extracted}

        def message_for(extracted_there: list[str]) -> list[bytes]:
            """What a worker that extracted `extracted_there` needs: the other facts."""
            known = set(extracted_there)
            return [
                packed.get(path) or pack(facts)
                for path, facts in self._facts.items()
                if path not in known
            ]

        self.graph = CodeGraph()
        self._resolutions = {}
        resolved = 0
        unwritten: list[tuple[str, FileResolution, bytes]] = []
        with phases.second(self._resolve_packed, stale, message_for) as payloads:
            if cache is not None:
                cache.put_packed_facts(extracted)
                cache.put_signatures(signatures)
            extracted.clear()  # stored: free the packed copies before the graph grows
            packed.clear()
            for path, facts in self._facts.items():
                self.graph.add_file_blocks(path, facts.blocks)
            for path in self._facts:  # the stale paths arrive in this order too
                resolution = reusable.get(path)
                if resolution is None:
                    payload = next(payloads)
                    resolution = unpack(payload, FileResolution.from_record, verify=False)
                    assert resolution.path == path, "resolutions arrived out of order"
                    resolved += 1
                    if cache is not None:
                        unwritten.append((keys[path], resolution, payload))
                        if len(unwritten) == _RESOLUTIONS_PER_WRITE:
                            cache.put_packed_resolutions(unwritten)
                            unwritten = []
                self._resolutions[path] = resolution
                self.graph.add_resolution(resolution)
        if cache is not None:  # the last, partial batch
            cache.put_packed_resolutions(unwritten)
        self._dependents = {}
        for path, resolution in self._resolutions.items():
            for key in resolution.depends_on:
                self._dependents.setdefault(key, set()).add(path)
        return resolved

    def _workers(self) -> int:
        return self.options.workers or os.cpu_count() or 1

    def _resolve_packed(self, path: str) -> bytes:
        # packed by the workers, like extracted facts (see `_extract_all`)
        return pack(self._resolve(self._facts[path]))

    def _resolve(self, facts: FileFacts) -> FileResolution:
        resolution = self._resolvers[facts.language].resolve(facts)
        return FileResolution(
            path=resolution.path,
            edges=resolution.edges,
            unresolved=resolution.unresolved,
            depends_on=resolution.depends_on,
            fingerprint=self._fingerprint(resolution.depends_on),
        )

    def _fingerprint(self, keys: Iterable[str]) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for key in sorted(keys):
            digest.update(self._fingerprint_parts.get(key) or self._fingerprint_part(key))
        return digest.hexdigest()

    def _fingerprint_part(self, key: str) -> bytes:
        """The bytes a fingerprint hashes for one key (the same few hundred modules are
        consulted by thousands of files); forgotten whenever the index changes."""
        provided = b"".join(
            b"\0" + provider.path.encode() + provider.interface_hash.encode()
            for provider in self._index.providers(key)
        )
        encoded = self._fingerprint_parts[key] = key.encode() + provided + b"\n"
        return encoded

    def _summarise(
        self, skipped: list[SkippedFile], parsed: int, cached: int, resolved: int, seconds: float
    ) -> BuildReport:
        return BuildReport(
            root=str(self.root),
            files=len(self._facts),
            files_by_language=dict(Counter(f.language for f in self._facts.values())),
            blocks_by_kind=self.graph.kind_counts(),
            edges_by_relation=self.graph.relation_counts(),
            unresolved=self.graph.unresolved_count(),
            skipped=tuple(sorted(skipped, key=lambda s: s.path)),
            syntax_errors=tuple(
                (f.path, f.syntax_error_lines) for f in self._facts.values() if f.syntax_error_lines
            ),
            parsed=parsed,
            cached=cached,
            resolved=resolved,
            seconds=seconds,
        )

    # -- incremental update ---------------------------------------------------------------

    def update_file(
        self,
        path: str,
        new_text: str | bytes | None = None,
        *,
        keep_stale: bool = False,
        deleted: bool = False,
    ) -> UpdateReport:
        """Re-analyse one file after an edit (`new_text`; None reads it from disk, and a
        missing file is a deletion; `deleted` removes it whatever the disk says).  With
        `keep_stale`, edges that other files had to blocks that changed or vanished are
        kept, flagged stale, until those files are themselves updated — the CodePlan
        paper's rule for finding what still needs edits."""
        started = time.perf_counter()
        analyzer = self._analyzer_for(path)
        new_facts = None if deleted else self._facts_for_update(path, new_text, analyzer)
        old_facts = self._facts.get(path)
        old_ids = {b.id for b in old_facts.blocks} if old_facts else set()
        new_ids = {b.id for b in new_facts.blocks} if new_facts else set()
        interface_changed = (old_facts is None) != (new_facts is None) or (
            old_facts is not None
            and new_facts is not None
            and old_facts.interface_hash != new_facts.interface_hash
        )
        provides = frozenset(
            (old_facts.provides if old_facts else frozenset())
            | (new_facts.provides if new_facts else frozenset())
        )
        affected = {path}
        if interface_changed:
            for key in provides:
                affected |= self._dependents.get(key, set())

        self._drop_stale_of(path)
        if path in self._resolutions:
            self.graph.remove_resolution(self._resolutions.pop(path))
        self._index.replace_file(path, new_facts)
        self._fingerprint_parts.clear()
        if analyzer is not None and analyzer.language in self._resolvers:
            self._resolvers[analyzer.language].invalidate(
                path, provides if interface_changed else frozenset()
            )
        if new_facts is None:
            self._facts.pop(path, None)
        else:
            self._facts[path] = new_facts
        removed_blocks = old_ids - new_ids
        for block_id in removed_blocks:
            if keep_stale and old_facts is not None and self.graph.related(block_id, inverse=True):
                self._stale.tombstones[block_id] = self.graph.block(block_id)
            else:
                self.graph.remove_block(block_id)
        for block in new_facts.blocks if new_facts else ():
            self._stale.tombstones.pop(block.id, None)
            self.graph.add_block(block)

        to_resolve = sorted(p for p in affected if p in self._facts)
        # a signature change can touch hundreds of files: those go to forked workers too
        resolved = map_forked(lambda p: self._resolve(self._facts[p]), to_resolve, self._workers())
        new_resolutions = {r.path: r for r in resolved}
        for other in sorted(affected):
            old_resolution = self._resolutions.pop(other, None)
            if old_resolution is not None:
                self.graph.remove_resolution(old_resolution)
                self._forget_dependencies(other, old_resolution)
            resolution = new_resolutions.get(other)
            if resolution is None:
                continue
            self._resolutions[other] = resolution
            for key in resolution.depends_on:
                self._dependents.setdefault(key, set()).add(other)
            self.graph.add_resolution(resolution)
            self._unstale(other, resolution)
            if keep_stale and other != path and old_resolution is not None:
                self._keep_stale(other, set(old_resolution.edges) - set(resolution.edges))
        self._sweep_tombstones()
        self._report = None
        return UpdateReport(
            path=path,
            interface_changed=interface_changed,
            reresolved=tuple(sorted(affected)),
            added_blocks=tuple(sorted(new_ids - old_ids)),
            removed_blocks=tuple(sorted(removed_blocks)),
            stale_edges=self._stale.count(),
            seconds=time.perf_counter() - started,
        )

    def _facts_for_update(
        self, path: str, new_text: str | bytes | None, analyzer: LanguageAnalyzer | None
    ) -> FileFacts | None:
        if analyzer is None:
            return None
        if new_text is None:
            read = read_source(self.root, path, max_bytes=self.options.max_file_bytes)
        elif isinstance(new_text, str):
            read = new_text.encode("utf-8")
        else:
            read = check_source(path, new_text, max_bytes=self.options.max_file_bytes)
        if isinstance(read, SkippedFile):
            return None
        return analyzer.extract(path, read)

    def _forget_dependencies(self, path: str, resolution: FileResolution) -> None:
        for key in resolution.depends_on:
            dependents = self._dependents.get(key)
            if dependents is not None:
                dependents.discard(path)
                if not dependents:
                    del self._dependents[key]

    def _keep_stale(self, path: str, lost: set[Edge]) -> None:
        kept = self._stale.by_file.setdefault(path, set())
        for edge in lost:
            for end in (edge.source, edge.target):
                if end not in self.graph and end in self._stale.tombstones:
                    self.graph.add_block(self._stale.tombstones[end])
            stale = Edge(edge.source, edge.target, edge.relation, edge.line, stale=True)
            kept.add(stale)
            self.graph.add_edge(stale)

    def _unstale(self, path: str, resolution: FileResolution) -> None:
        """An edge resolved again is live: it leaves the file's stale set."""
        kept = self._stale.by_file.get(path)
        if kept:
            live = {(e.source, e.target, e.relation) for e in resolution.edges}
            kept -= {e for e in kept if (e.source, e.target, e.relation) in live}

    def _drop_stale_of(self, path: str) -> None:
        for edge in self._stale.by_file.pop(path, set()):
            self.graph.remove_edge(edge.source, edge.target, edge.relation)

    def _sweep_tombstones(self) -> None:
        """A vanished block stays only while some not-yet-edited block still points at it."""
        for block_id in list(self._stale.tombstones):
            if not self.graph.related(block_id, inverse=True):
                self.graph.remove_block(block_id)
                del self._stale.tombstones[block_id]


def _resolution_key(facts: FileFacts) -> str:
    return f"{facts.content_hash}|{facts.analyzer_version}"


def build_graph(
    root: Path | str, options: GraphOptions | None = None, progress: Progress | None = None
) -> GraphBuilder:
    """Build (or load from cache) the dependency graph of the repository at `root`."""
    builder = GraphBuilder(root, options)
    builder.build(progress)
    return builder
