"""Spread per-file work over processes.

Children are forked, so they inherit the work function and everything it closes over (the
file contents, the resolution index) without pickling; only results travel back.  Where
fork is unavailable, or the work is too small to repay a process start, it runs here.

The pool is a few pipes rather than `concurrent.futures`: on two cores a process pool
cost a cold build of flask 20 ms of wall time per phase (a manager thread, queues, a
pickled call per chunk, a shutdown handshake), a sixth of the build.  Here the chunks are
numbered tickets in one pipe that every worker reads (a read of one ticket is atomic).  A
forked worker appends each chunk's results to an anonymous file of its own, never full
(a pipe is, at 64 KiB, until its reader drains it), and tells the parent where they are
through a pipe.

A pool can also serve two phases in a row (`forked_phases`): the workers that did the
first go on to the second when it starts, each first told what it needs of the first
phase's results (`resume`).  A small build resolves on the processes that extracted,
instead of forking again: without the forks, and the pages they copy on write, flask's
resolution takes a fifth less time.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import selectors
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from codeplan.graph.forked_worker import (
    NOTICE,
    PROTOCOL,
    TICKET,
    Resume,
    SecondPhase,
    WorkerFailed,
    fork_ignoring_interrupts,
    read_at,
    serve,
    write_all,
)

__all__ = [
    "MAX_ITEMS_TO_RESUME",
    "MIN_ITEMS_TO_FORK",
    "Phases",
    "WorkerFailed",
    "can_fork",
    "forked_phases",
    "forked_results",
    "map_forked",
]

Item = TypeVar("Item")
Result = TypeVar("Result")

# measured on two cores: an 80-file project (flask, rich) builds cold a quarter faster on
# forked workers than here, while a process start costs a few milliseconds
MIN_ITEMS_TO_FORK = 64
# A second phase resumes on the first's workers, this process working with them, up to this
# many items (see `Phases.second`): what the work memoises stays in this process.  A
# build's resolution of flask (83 files) takes a fifth less time so than on new forks.
MAX_ITEMS_TO_RESUME = 512
# Small enough that the last chunk, which one worker finishes while the others have
# nothing left to take, is short (each of a build's two phases ends with one), and large
# enough that a chunk's round trip through the pipes stays negligible.
_CHUNKS_PER_WORKER = 24

_NOTICES_READ = NOTICE.size * 1024
# All tickets are written before the first fork, so they must fit in the pipe's buffer
# (64 KiB on Linux, 4 KiB guaranteed by POSIX).
_MAX_CHUNKS = 4096 // TICKET.size


# Workers of closed pools that may not have exited yet (see `_ForkedPool.close`).
_exiting: list[int] = []


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def map_forked(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    progress: Callable[[int], None] | None = None,
    *,
    work_here: bool = False,
) -> list[Result]:
    """`[work(item) for item in items]`, in order, on up to `workers` processes (see
    `forked_results`)."""
    with forked_results(work, items, workers, progress, work_here=work_here) as results:
        return list(results)


@contextmanager
def forked_results(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    progress: Callable[[int], None] | None = None,
    *,
    work_here: bool = False,
) -> Iterator[Iterator[Result]]:
    """`map_forked`'s results as they arrive, in order.  The workers start on entry, so the
    caller can do work of its own (which they do not see: they were forked before it)
    before it reads the first result, and can consume each result while they make the
    next.  Run here, the work is done lazily as the results are read.  On exit, workers
    still running (the caller stopped early, or raised) are killed.

    With `work_here`, this process is one of the `workers`: whenever the chunk it must
    deliver next has not arrived, it does a chunk itself rather than wait.  That spares a
    process start (its fork, the pages it copies on write, its exit) and the trip of its
    results between processes, for work that leaves nothing behind: whatever the work
    caches stays here (resolvers keep what they decode and infer: doing half of Django's
    resolution here made a cold build's peak memory 305 MB instead of 95)."""
    if workers <= 1 or len(items) < MIN_ITEMS_TO_FORK or not can_fork():
        yield _counted(((work(item),) for item in items), progress)
        return
    chunks = _chunked(items, workers)
    pool = _ForkedPool(work, chunks, min(workers, len(chunks)), work_here)
    try:
        yield _counted(pool.outcomes(), progress)
    finally:
        pool.close()


class Phases:
    """The two phases of `forked_phases`: `first` yields the first phase's results in
    order; `second` starts the second."""

    def __init__(self, first: Iterator[Any], pool: _ForkedPool | None, workers: int) -> None:
        self.first = first
        self._pool = pool
        self._workers = workers

    @contextmanager
    def second(
        self,
        work: Callable[[Item], Result],
        items: Sequence[Item],
        message_for: Callable[[list[Any]], Any],
    ) -> Iterator[Iterator[Result]]:
        """`work(item)` for each item, in order, as `forked_results` yields them.  Where the
        first phase ran on forked workers and the second is no larger than
        `MAX_ITEMS_TO_RESUME`, they do it with this process: each gets
        `message_for(the first phase's items it did)`, makes its work of it (`resume`),
        and the results must be those of `work` here.  Otherwise it is
        `forked_results(work, items, ...)`, whose workers are forked now, while this
        process does not work: what the work leaves behind in a process (a resolver's
        memo) would stay here."""
        pool = self._pool
        resumable = MIN_ITEMS_TO_FORK <= len(items) <= MAX_ITEMS_TO_RESUME
        if pool is None or not resumable or not pool.can_resume():
            if pool is not None:
                pool.end_first_phase()  # its idle workers exit
            with forked_results(work, items, self._workers) as results:
                yield results
            return
        chunks = _chunked(items, self._workers)
        yield _counted(pool.resume(work, chunks, message_for), None)


@contextmanager
def forked_phases(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    progress: Callable[[int], None] | None = None,
    *,
    resume: Resume,
) -> Iterator[Phases]:
    """Two phases on the same forked workers (see the module's doc): the first is
    `forked_results(work, items, workers, progress, work_here=True)`; for the second
    (`Phases.second`), each worker calls `resume(message)` and works with the function it
    returns.  On exit, workers still running are killed."""
    if workers <= 1 or len(items) < MIN_ITEMS_TO_FORK or not can_fork():
        yield Phases(_counted(((work(item),) for item in items), progress), None, workers)
        return
    chunks = _chunked(items, workers)
    pool = _ForkedPool(work, chunks, min(workers, len(chunks)), True, resume)
    try:
        yield Phases(_counted(pool.outcomes(), progress), pool, workers)
    finally:
        pool.close()


def _chunked(items: Sequence[Item], workers: int) -> list[Sequence[Item]]:
    """The items in chunks, `_CHUNKS_PER_WORKER` for each worker, or `_MAX_CHUNKS`."""
    size = math.ceil(len(items) / min(workers * _CHUNKS_PER_WORKER, _MAX_CHUNKS))
    return [items[start : start + size] for start in range(0, len(items), size)]


class _ForkedPool:
    """Workers forked on construction, each taking chunk numbers from the ticket pipe
    until it is empty and appending each chunk's results to its results file; this
    process too, if it `works_here` (see `forked_results`).  With `resume`, the workers
    then wait for a second phase (`resume`), whose chunks are numbered on from the
    first's, and whose tickets come through a second pipe."""

    def __init__(
        self,
        work: Callable[[Any], Any],
        chunks: Sequence[Sequence[Any]],
        workers: int,
        works_here: bool,
        resume: Resume | None = None,
    ) -> None:
        _reap_exited()
        self._work = work
        self._chunks = chunks
        self._outstanding = True  # until every chunk's results have been read
        self._arrived: dict[int, Sequence[Any]] = {}
        self._notices: dict[int, bytearray] = {}  # notice pipe -> a notice's first bytes
        self._done_by: dict[int, list[int]] = {}  # notice pipe -> the chunks it delivered
        tickets, ticket_writer = os.pipe()
        os.write(ticket_writer, b"".join(TICKET.pack(i) for i in range(len(chunks))))
        os.close(ticket_writer)  # so that a read past the last ticket sees EOF, never waits
        self._tickets: int | None = tickets
        # the second phase's tickets, written when it starts; closed unwritten, the
        # workers see its end at once
        self._second: tuple[int, int] | None = os.pipe() if resume is not None else None
        self._children: dict[int, int] = {}  # notice pipe -> pid
        self._results: dict[int, int] = {}  # notice pipe -> results file
        self._inboxes: dict[int, int] = {}  # notice pipe -> the second phase's message file
        self._selector = selectors.DefaultSelector()
        try:
            for _ in range(workers - 1 if works_here else workers):
                self._fork(work, chunks, tickets, resume)
            if not works_here:
                os.close(tickets)
                self._tickets = None
        except BaseException:
            self.close()
            raise

    def _fork(
        self,
        work: Callable[[Any], Any],
        chunks: Sequence[Sequence[Any]],
        tickets: int,
        resume: Resume | None,
    ) -> None:
        results = _anonymous_file()
        inbox = _anonymous_file() if self._second is not None else -1
        reader, writer = os.pipe()
        self._results[reader] = results
        if inbox >= 0:
            self._inboxes[reader] = inbox
        pid = fork_ignoring_interrupts()
        if pid == 0:  # pragma: no cover - the child's coverage is never written
            # the parent's ends of this and earlier workers' channels
            inherited = [reader, *self._children, *self._results.values()]
            inherited += self._inboxes.values()
            inherited.remove(results)
            second = None
            if self._second is not None and resume is not None:
                inherited.remove(inbox)
                inherited.append(self._second[1])
                second = SecondPhase(resume, self._second[0], inbox, len(chunks))
            serve(work, chunks, tickets, writer, results, inherited, second)
        os.close(writer)
        self._children[reader] = pid
        self._done_by[reader] = []
        self._selector.register(reader, selectors.EVENT_READ)

    def outcomes(self) -> Iterator[Sequence[Any]]:
        """Each chunk's results, in chunk order, as the workers (this process among them)
        deliver them."""
        return self._deliver(range(len(self._chunks)))

    def can_resume(self) -> bool:
        return self._second is not None and bool(self._selector.get_map())

    def end_first_phase(self) -> None:
        """No second phase: the workers waiting for one exit."""
        if self._second is not None:
            for fd in self._second:
                os.close(fd)
            self._second = None

    def resume(
        self,
        work: Callable[[Any], Any],
        chunks: Sequence[Sequence[Any]],
        message_for: Callable[[list[Any]], Any],
    ) -> Iterator[Sequence[Any]]:
        """Start the second phase (see `Phases.second`), this process working too, and
        yield each chunk's results."""
        assert self._second is not None, "a pool made without resume, or resumed twice"
        reader, writer = self._second
        self._outstanding = True
        for fd, inbox in self._inboxes.items():
            if fd in self._selector.get_map():
                done = [item for chunk in self._done_by[fd] for item in self._chunks[chunk]]
                message = pickle.dumps((message_for(done), chunks), PROTOCOL)
                write_all(inbox, message, 0)
            os.close(inbox)  # the worker has its own descriptor, and reads it once
        self._inboxes.clear()
        first = len(self._chunks)
        numbers = range(first, first + len(chunks))
        os.write(writer, b"".join(TICKET.pack(i) for i in numbers))
        os.close(writer)
        self._second = None
        if self._tickets is not None:
            os.close(self._tickets)
        self._tickets, self._work, self._chunks = reader, work, [*self._chunks, *chunks]
        return self._deliver(numbers)

    def _deliver(self, numbers: range) -> Iterator[Sequence[Any]]:
        for wanted in numbers:
            while wanted not in self._arrived:
                if self._selector.get_map():
                    self._receive(0)
                    if wanted in self._arrived:
                        break
                if self._work_one_chunk():
                    continue
                if not self._selector.get_map():
                    raise WorkerFailed(
                        f"a worker process died before finishing its work ({self._exit_statuses()})"
                    )
                self._receive(None)
            # the workers are done: do not kill them if the caller stops reading here
            self._outstanding = wanted < numbers[-1]
            yield self._arrived.pop(wanted)

    def _receive(self, timeout: float | None) -> None:
        for key, _ in self._selector.select(timeout):
            data = os.read(key.fd, _NOTICES_READ)
            if not data:
                self._selector.unregister(key.fd)
                continue
            buffer = self._notices.setdefault(key.fd, bytearray())
            buffer += data
            whole = len(buffer) - len(buffer) % NOTICE.size
            for chunk, offset, length in NOTICE.iter_unpack(buffer[:whole]):
                blob = read_at(self._results[key.fd], offset, length)
                self._arrived[chunk] = _outcome(blob)
                self._done_by[key.fd].append(chunk)
            del buffer[:whole]

    def _work_one_chunk(self) -> bool:
        """Do the next chunk nobody has taken here; False once none is left."""
        if self._tickets is None:
            return False
        ticket = os.read(self._tickets, TICKET.size)
        if not ticket:
            os.close(self._tickets)
            self._tickets = None
            return False
        (chunk,) = TICKET.unpack(ticket)
        self._arrived[chunk] = [self._work(item) for item in self._chunks[chunk]]
        return True

    def close(self) -> None:
        """Close the pipes; kill and reap the workers still at work (an error, Ctrl-C, a
        caller that stopped reading: the process may be about to exit, leaving zombies to
        an init that may not reap them, as in a container).  Workers that are only exiting
        are not waited for: tearing down a forked copy of a large parent takes
        milliseconds, a build waited for it twice, and the next pool reaps them."""
        if self._tickets is not None:
            os.close(self._tickets)
            self._tickets = None
        self.end_first_phase()
        for fd in [*self._results.values(), *self._inboxes.values()]:
            os.close(fd)
        self._results.clear()
        self._inboxes.clear()
        self._selector.close()
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


def _anonymous_file() -> int:
    if hasattr(os, "memfd_create"):  # Linux: in memory, like a pipe, but never full
        return os.memfd_create("codeplan-results", os.MFD_CLOEXEC)
    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


def _outcome(blob: bytes) -> list[Any]:
    """A chunk's results, from a worker's pickled outcome; re-raise its exception."""
    ok, outcome = pickle.loads(blob)
    if not ok:
        error, remote_traceback = outcome
        raise error from WorkerFailed(f"in a forked worker:\n{remote_traceback}")
    return outcome  # type: ignore[no-any-return]


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
