"""Spread per-file work over processes.

Children are forked, so they inherit the work function and everything it closes over (the
file contents, the resolution index) without pickling; only results travel back.  Where
fork is unavailable, or the work is too small to repay a process start, it runs here.

The pool is a few pipes rather than `concurrent.futures`: on two cores a process pool
cost a cold build of flask 20 ms of wall time per phase (a manager thread, queues, a
pickled call per chunk, a shutdown handshake), a sixth of the build.  Here the chunks are
numbered tickets in one pipe that every child reads (a read of one ticket is atomic), and
each child writes its results, framed, to a pipe of its own.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import selectors
import signal
import struct
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, NoReturn, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# measured on two cores: an 80-file project (flask, rich) builds cold a quarter faster on
# forked workers than here, while a process start costs a few milliseconds
MIN_ITEMS_TO_FORK = 64
# Small enough that the last chunk, which one worker finishes while the others have
# nothing left to take, is short (each of a build's two phases ends with one), and large
# enough that a chunk's round trip through the pipes stays negligible.
_CHUNKS_PER_WORKER = 24

_TICKET = struct.Struct("<I")
_FRAME = struct.Struct("<IQ")  # chunk number, then the length of the pickled outcome
_READ_SIZE = 1 << 20
_PROTOCOL = pickle.HIGHEST_PROTOCOL
# All tickets are written before the first fork, so they must fit in the pipe's buffer
# (64 KiB on Linux, 4 KiB guaranteed by POSIX).
_MAX_CHUNKS = 4096 // _TICKET.size


# Workers of closed pools that may not have exited yet (see `_ForkedPool.close`).
_exiting: list[int] = []


class WorkerFailed(RuntimeError):
    """A forked worker died, or its work raised something that could not travel back."""


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def map_forked(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> list[Result]:
    """`[work(item) for item in items]`, in order, on up to `workers` forked processes."""
    with forked_results(work, items, workers, progress) as results:
        return list(results)


@contextmanager
def forked_results(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Iterator[Result]]:
    """`map_forked`'s results as they arrive, in order.  The workers start on entry, so the
    caller can do work of its own (which they do not see: they were forked before it)
    before it reads the first result, and can consume each result while they make the
    next.  Run here, the work is done lazily as the results are read.  On exit, workers
    still running (the caller stopped early, or raised) are killed."""
    if workers <= 1 or len(items) < MIN_ITEMS_TO_FORK or not can_fork():
        yield _counted(((work(item),) for item in items), progress)
        return
    count = min(workers * _CHUNKS_PER_WORKER, _MAX_CHUNKS)
    size = math.ceil(len(items) / count)
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    pool = _ForkedPool(work, chunks, min(workers, len(chunks)))
    try:
        yield _counted(pool.outcomes(), progress)
    finally:
        pool.close()


class _ForkedPool:
    """Workers forked on construction, each taking chunk numbers from the ticket pipe
    until it is empty and writing each chunk's results to its own pipe."""

    def __init__(self, work: Callable[[Any], Any], chunks: Sequence[Sequence[Any]], workers: int):
        _reap_exited()
        self._chunks = len(chunks)
        self._outstanding = True  # until every chunk's results have been read
        tickets, ticket_writer = os.pipe()
        os.write(ticket_writer, b"".join(_TICKET.pack(i) for i in range(len(chunks))))
        os.close(ticket_writer)  # so that a worker reading past the last ticket sees EOF
        self._children: dict[int, int] = {}  # result pipe -> pid
        try:
            for _ in range(workers):
                reader, writer = os.pipe()
                pid = _fork_ignoring_interrupts()
                if pid == 0:  # pragma: no cover - the child's coverage is never written
                    _serve(work, chunks, tickets, writer, [reader, *self._children])
                os.close(writer)
                self._children[reader] = pid
        except BaseException:
            self.close()
            raise
        finally:
            os.close(tickets)

    def outcomes(self) -> Iterator[Sequence[Any]]:
        """Each chunk's results, in chunk order, as the workers deliver them."""
        arrived: dict[int, list[Any]] = {}
        buffers = {fd: bytearray() for fd in self._children}
        with selectors.DefaultSelector() as selector:
            for fd in self._children:
                selector.register(fd, selectors.EVENT_READ)
            for wanted in range(self._chunks):
                while wanted not in arrived:
                    if not selector.get_map():
                        raise WorkerFailed(
                            f"a worker process died before finishing its work "
                            f"({self._exit_statuses()})"
                        )
                    for key, _ in selector.select():
                        data = os.read(key.fd, _READ_SIZE)
                        if not data:
                            selector.unregister(key.fd)
                            continue
                        buffers[key.fd] += data
                        _take_frames(buffers[key.fd], arrived)
                # the workers are done: do not kill them if the caller stops reading here
                self._outstanding = wanted < self._chunks - 1
                yield arrived.pop(wanted)

    def close(self) -> None:
        """Close the pipes; kill and reap the workers still at work (an error, Ctrl-C, a
        caller that stopped reading: the process may be about to exit, leaving zombies to
        an init that may not reap them, as in a container).  Workers that are only exiting
        are not waited for: tearing down a forked copy of a large parent takes
        milliseconds, a build waited for it twice, and the next pool reaps them."""
        for fd, pid in self._children.items():
            os.close(fd)  # a worker still writing gets EPIPE, and the kill below anyway
            if self._outstanding:
                _kill(pid)
                with suppress(ChildProcessError):  # reaped by `_exit_statuses`
                    os.waitpid(pid, 0)
            else:
                _exiting.append(pid)
        self._children.clear()
        _reap_exited()

    def _exit_statuses(self) -> str:
        statuses = []
        for pid in self._children.values():
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                continue
            code = os.waitstatus_to_exitcode(status)
            statuses.append(f"killed by signal {-code}" if code < 0 else f"exit status {code}")
        return ", ".join(statuses) or "no status"


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _reap_exited() -> None:
    """Collect the exit status of every worker of a closed pool that has exited."""
    for pid in list(_exiting):
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped already (`_exit_statuses`)
            reaped = pid
        if reaped:
            _exiting.remove(pid)


def _take_frames(buffer: bytearray, arrived: dict[int, list[Any]]) -> None:
    """Move each complete frame at the head of `buffer` into `arrived`, by chunk number;
    re-raise a worker's exception."""
    while len(buffer) >= _FRAME.size:
        chunk, length = _FRAME.unpack_from(buffer)
        end = _FRAME.size + length
        if len(buffer) < end:
            return
        ok, outcome = pickle.loads(memoryview(buffer)[_FRAME.size : end])
        del buffer[:end]
        if not ok:
            error, remote_traceback = outcome
            raise error from WorkerFailed(f"in a forked worker:\n{remote_traceback}")
        arrived[chunk] = outcome


def _fork_ignoring_interrupts() -> int:
    """`os.fork()`, with a child that ignores Ctrl-C.  It reaches the whole process group:
    the parent handles it and kills the workers.  Blocked across the fork, so that no
    KeyboardInterrupt can surface in the child before it ignores them, which would send
    the child back up the parent's stack, running the parent's code as a second parent."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked child
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    return pid


def _serve(
    work: Callable[[Any], Any],
    chunks: Sequence[Sequence[Any]],
    tickets: int,
    results: int,
    parent_ends: list[int],
) -> NoReturn:  # pragma: no cover - runs in the forked child
    """A worker's life: chunks until the tickets run out, then exit without running the
    parent's exit handlers or flushing its buffers (they are the parent's to flush)."""
    status = 0
    try:
        for fd in parent_ends:  # the read ends of this and earlier workers' result pipes
            os.close(fd)
        while ticket := os.read(tickets, _TICKET.size):
            (chunk,) = _TICKET.unpack(ticket)
            try:
                data = pickle.dumps((True, [work(item) for item in chunks[chunk]]), _PROTOCOL)
            except Exception as error:
                failure = _pickled_failure(error)
                _write_all(results, _FRAME.pack(chunk, len(failure)) + failure)
                break  # the parent raises it, and kills the workers
            _write_all(results, _FRAME.pack(chunk, len(data)) + data)
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _pickled_failure(error: Exception) -> bytes:
    remote = "".join(traceback.format_exception(error))
    try:
        return pickle.dumps((False, (error, remote)), _PROTOCOL)
    except Exception:  # an exception that does not pickle travels as its text
        return pickle.dumps((False, (WorkerFailed(repr(error)), remote)))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _counted(
    batches: Iterable[Sequence[Result]], progress: Callable[[int], None] | None
) -> Iterator[Result]:
    """The results of each batch in turn, reporting the running count after each batch."""
    done = 0
    for batch in batches:
        done += len(batch)
        if progress is not None:
            progress(done)
        yield from batch
