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
from collections.abc import Iterable, Mapping
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


@dataclass
class Sources:
    """The files of a build: content hashes (by path, sorted), the contents read in this
    run, and the signatures of those reads for the next run."""

    root: Path
    max_bytes: int
    hashes: dict[str, str] = field(default_factory=dict)
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
                fresh = read_sources(self.root, [path], {}, self.max_bytes)
                self.skipped.extend(fresh.skipped)
                self.signatures.extend(fresh.signatures)
                if path not in fresh.hashes:
                    del self.hashes[path]
                    continue
                self.hashes[path] = fresh.hashes[path]
                read = fresh._contents[path]
            found[path] = read
        return found


def read_sources(
    root: Path, paths: Iterable[str], known: Mapping[str, RecordedSignature], max_bytes: int
) -> Sources:
    """Hash each of `paths`, trusting `known` signatures that still hold; a file that
    cannot be analysed (binary, not UTF-8, too large, unreadable) is listed as skipped."""
    sources = Sources(root, max_bytes)
    for path in paths:
        stat = _stat_signature(os.path.join(root, path))
        recorded = known.get(path)
        if stat is not None and recorded is not None and recorded.vouches_for(stat):
            sources.hashes[path] = recorded.content_hash
            continue
        now = time.time_ns()  # before the read: a later write changes the signature
        read = read_source(root, path, max_bytes=max_bytes)
        if isinstance(read, SkippedFile):
            sources.skipped.append(read)
            continue
        digest = content_hash(read)
        sources.hashes[path] = digest
        sources._contents[path] = read
        if stat is not None:
            sources.signatures.append(RecordedSignature(path, stat, digest, now))
    return sources


def _stat_signature(full_path: str) -> StatSignature | None:
    try:
        info = os.stat(full_path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino
