"""The content hash of every file a build analyses, reading only the files that changed.

A warm build used to read and hash every file to find that none had changed.  Each file
read is now recorded with its stat signature (size, mtime, ctime, inode) taken before the
read; while the signature is unchanged, the recorded hash is trusted and the file is not
read.  Like git's index, a signature recorded less than `RACY_WINDOW_NS` after the file's
last change is not trusted: a write within the same timestamp tick would leave every
field as it was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codeplan.graph.files import SkippedFile, read_source
from codeplan.graph.model import content_hash

# Coarse file systems stamp times to the second (FAT: two seconds).
RACY_WINDOW_NS = 3_000_000_000

# (size, mtime_ns, ctime_ns, inode): changes whenever the file is written or replaced
StatSignature = tuple[int, int, int, int]


@dataclass(frozen=True)
class RecordedSignature:
    """What a build learnt about one file: its content hash, as of its stat signature."""

    path: str
    stat: StatSignature
    content_hash: str
    recorded_ns: int  # when the signature was taken

    def vouches_for(self, stat: StatSignature) -> bool:
        # the window is measured from the mtime, as git does: a write sets it to now (the
        # ctime too, but a restored mtime leaves a recent ctime on an old file for good)
        return stat == self.stat and self.recorded_ns - stat[1] >= RACY_WINDOW_NS


@dataclass(frozen=True)
class FreshRead:
    """A file read without a signature to spare it: its bytes (or why they cannot be
    analysed), and its stat signature taken before the read."""

    path: str
    read: bytes | SkippedFile
    stat: StatSignature | None
    read_ns: int  # when the signature was taken

    def signature(self, digest: str) -> RecordedSignature | None:
        return (
            None
            if self.stat is None
            else RecordedSignature(self.path, self.stat, digest, self.read_ns)
        )


def read_fresh(root: Path, path: str, max_bytes: int, stat: StatSignature | None) -> FreshRead:
    """Read a file whose stat signature was taken just now or earlier: a write since
    changes the signature, so the next build reads the file again."""
    now = time.time_ns()  # before the read: a later write changes the signature
    return FreshRead(path, read_source(root, path, max_bytes=max_bytes), stat, now)


@dataclass
class Sources:
    """The files of a build: content hashes (by path, sorted), the contents read in this
    run, the files left for the extraction to read (`unseen`, with their stat
    signatures), and the signatures of the reads for the next run."""

    root: Path
    max_bytes: int
    hashes: dict[str, str] = field(default_factory=dict)
    unseen: dict[str, StatSignature] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    signatures: list[RecordedSignature] = field(default_factory=list)
    _contents: dict[str, bytes] = field(default_factory=dict)

    def contents(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The bytes of `paths`, reading those whose signature spared reading them.  One
        that cannot be read any more leaves the build as skipped; one that changed since
        it was hashed gets its new hash."""
        found: dict[str, bytes] = {}
        for path in paths:
            read = self._contents.get(path)
            if read is None:
                stat = _stat_signature(os.path.join(self.root, path))
                fresh = read_fresh(self.root, path, self.max_bytes, stat)
                self.record(fresh)
                if isinstance(fresh.read, SkippedFile):
                    del self.hashes[path]
                    continue
                read = fresh.read
            found[path] = read
        return found

    def record(self, fresh: FreshRead, digest: str | None = None) -> None:
        """Take in a read made for this build, here or by a worker that extracted the file
        (and knows its hash)."""
        if isinstance(fresh.read, SkippedFile):
            self.skipped.append(fresh.read)
            return
        if digest is None:
            digest = content_hash(fresh.read)
        self.hashes[fresh.path] = digest
        signature = fresh.signature(digest)
        if signature is not None:
            self.signatures.append(signature)


def read_sources(
    root: Path,
    paths: Iterable[str],
    known: Mapping[str, RecordedSignature],
    max_bytes: int,
    seen: Callable[[], Container[str]] | None = None,
) -> Sources:
    """Hash each of `paths`, trusting `known` signatures that still hold; a file that
    cannot be analysed (binary, not UTF-8, too large, unreadable) is listed as skipped.

    A path outside `seen()` (the paths the cache holds facts for, asked once some
    signature does not vouch; None: take all as seen) cannot be a cache hit whatever its
    hash, so it is not read here but left in `unseen` for the extraction to read and hash.
    In a cold build that is every file, read by the forked workers rather than one after
    the other here (Django's 2,800 files: 60 ms)."""
    sources = Sources(root, max_bytes)
    seen_paths: Container[str] | None = None
    for path in paths:
        stat = _stat_signature(os.path.join(root, path))
        recorded = known.get(path)
        if stat is not None and recorded is not None and recorded.vouches_for(stat):
            sources.hashes[path] = recorded.content_hash
            continue
        if seen is not None and seen_paths is None:
            seen_paths = seen()
        if stat is not None and seen_paths is not None and path not in seen_paths:
            sources.unseen[path] = stat
        else:
            fresh = read_fresh(root, path, max_bytes, stat)
            sources.record(fresh)
            if not isinstance(fresh.read, SkippedFile):
                sources._contents[path] = fresh.read
    return sources


def _stat_signature(full_path: str) -> StatSignature | None:
    try:
        info = os.stat(full_path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino
