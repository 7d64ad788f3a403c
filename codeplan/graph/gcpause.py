"""Pausing Python's cyclic garbage collector around bulk allocation."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """Building or decoding a graph allocates millions of small objects that all stay
    alive; the cyclic collector would traverse them again and again for nothing (it
    doubled decoding time and half of a warm build).

    With `freeze`, what exists on exit moves out of the collector's reach for good, so
    neither re-enabling it nor the next small allocation rescans a graph that lives as long
    as its builder.  Reference counting still frees those objects; only cycles created
    inside the block are never collected.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


def release_frozen() -> None:
    """Hand what builds froze back to the collector and collect, so the cycles of graphs
    dropped since are freed.  A long-lived process (a server, a notebook, a benchmark
    running many plans) calls it between runs; otherwise each build's cycles stay."""
    gc.unfreeze()
    gc.collect()
