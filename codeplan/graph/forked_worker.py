"""The life of a forked worker (see parallel.py): chunk numbers in through a ticket pipe,
each chunk's pickled results appended to a results file of its own, and a notice of where
they are out through a pipe; then, for a pool of two phases, the second phase's."""

from __future__ import annotations

import os
import pickle
import signal
import struct
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

TICKET = struct.Struct("<I")
# a chunk's pickled outcome is in its worker's results file at (offset, length)
NOTICE = struct.Struct("<IQQ")
PROTOCOL = pickle.HIGHEST_PROTOCOL

# what a worker calls with the message the second phase sends it, for that phase's work
Resume = Callable[[Any], Callable[[Any], Any]]


class WorkerFailed(RuntimeError):
    """A forked worker died, or its work raised something that could not travel back."""


def fork_ignoring_interrupts() -> int:
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


class SecondPhase(NamedTuple):
    """What a worker needs to wait for the second phase, and then to do it."""

    resume: Resume
    tickets: int
    inbox: int  # its message, written before the first ticket
    first_number: int  # of its chunks, numbered on from the first phase's


def serve(
    work: Callable[[Any], Any],
    chunks: Sequence[Sequence[Any]],
    tickets: int,
    notices: int,
    results: int,
    inherited: list[int],
    second: SecondPhase | None,
) -> NoReturn:  # pragma: no cover - runs in the forked child
    """A worker's life: chunks until the tickets run out, then, if there is a second
    phase, its chunks; then exit without running the parent's exit handlers or flushing
    its buffers (they are the parent's to flush)."""
    status = 0
    try:
        for fd in inherited:
            os.close(fd)
        offset = _serve_chunks(work, chunks.__getitem__, tickets, notices, results, 0)
        if second is not None and offset is not None:
            os.close(tickets)
            ticket = os.read(second.tickets, TICKET.size)
            if ticket:  # the parent wrote the message, then the tickets
                size = os.fstat(second.inbox).st_size
                message, second_chunks = pickle.loads(read_at(second.inbox, 0, size))
                os.close(second.inbox)
                try:
                    second_work = second.resume(message)
                except Exception as error:
                    _deliver_chunk(notices, results, offset, ticket, _pickled_failure(error))
                else:

                    def chunk_of(number: int) -> Sequence[Any]:
                        return second_chunks[number - second.first_number]  # type: ignore[no-any-return]

                    _serve_chunks(
                        second_work, chunk_of, second.tickets, notices, results, offset, ticket
                    )
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _serve_chunks(
    work: Callable[[Any], Any],
    chunk_of: Callable[[int], Sequence[Any]],
    tickets: int,
    notices: int,
    results: int,
    offset: int,
    ticket: bytes = b"",
) -> int | None:  # pragma: no cover - runs in the forked child
    """Do the chunks of the tickets read from `tickets` (and of `ticket`, already read),
    appending their results to `results` from `offset`.  The offset after them, or None
    once a chunk failed (the parent raises its error, and kills the workers)."""
    while ticket := ticket or os.read(tickets, TICKET.size):
        (chunk,) = TICKET.unpack(ticket)
        try:
            data = pickle.dumps((True, [work(item) for item in chunk_of(chunk)]), PROTOCOL)
        except Exception as error:
            _deliver_chunk(notices, results, offset, ticket, _pickled_failure(error))
            return None
        offset = _deliver_chunk(notices, results, offset, ticket, data)
        ticket = b""
    return offset


def _deliver_chunk(
    notices: int, results: int, offset: int, ticket: bytes, data: bytes
) -> int:  # pragma: no cover - runs in the forked child
    """Append a chunk's pickled outcome to the results file, and tell the parent where."""
    (chunk,) = TICKET.unpack(ticket)
    write_all(results, data, offset)
    write_all(notices, NOTICE.pack(chunk, offset, len(data)))
    return offset + len(data)


def _pickled_failure(error: Exception) -> bytes:
    remote = "".join(traceback.format_exception(error))
    try:
        return pickle.dumps((False, (error, remote)), PROTOCOL)
    except Exception:  # an exception that does not pickle travels as its text
        return pickle.dumps((False, (WorkerFailed(repr(error)), remote)))


def write_all(fd: int, data: bytes, offset: int | None = None) -> None:
    """Write all of `data` to a pipe, or to a file at `offset`."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view) if offset is None else os.pwrite(fd, view, offset)
        view = view[written:]
        if offset is not None:
            offset += written


def read_at(fd: int, offset: int, length: int) -> bytes:
    parts = []
    while length:
        part = os.pread(fd, length, offset)
        if not part:
            raise WorkerFailed("a worker's results file ended early")
        parts.append(part)
        offset += len(part)
        length -= len(part)
    return b"".join(parts)  # one part comes back as it is, not copied
