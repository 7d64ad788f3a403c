"""Spread per-file work over processes.

Children are forked, so they inherit the work function and everything it closes over (the
file contents, the resolution index) without pickling; only results travel back.  Where
fork is unavailable, or the work is too small to repay a process start, it runs here.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS_TO_FORK = 200
_CHUNKS_PER_WORKER = 8

# Set only inside a forked child, by the pool's initializer: the parent never holds it.
_inherited_work: Callable[[Any], Any] | None = None


def _adopt(work: Callable[[Any], Any]) -> None:
    global _inherited_work
    _inherited_work = work


def _run_chunk(chunk: Sequence[Any]) -> list[Any]:
    work = _inherited_work
    assert work is not None, "a chunk ran outside a forked worker"
    return [work(item) for item in chunk]


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def map_forked(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> list[Result]:
    """`[work(item) for item in items]`, in order, on up to `workers` forked processes."""
    if workers <= 1 or len(items) < MIN_ITEMS_TO_FORK or not can_fork():
        results = []
        for item in items:
            results.append(work(item))
            if progress is not None:
                progress(len(results))
        return results
    size = math.ceil(len(items) / (workers * _CHUNKS_PER_WORKER))
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    collected: list[Result] = []
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_adopt,
        initargs=(work,),
    ) as pool:
        for chunk_results in pool.map(_run_chunk, chunks):
            collected.extend(chunk_results)
            if progress is not None:
                progress(len(collected))
    return collected
