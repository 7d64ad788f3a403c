"""The forked worker pool: order, errors, dead workers, early exits and reaping."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from codeplan.graph import parallel
from codeplan.graph.parallel import (
    MIN_ITEMS_TO_FORK,
    WorkerFailed,
    forked_phases,
    forked_results,
    map_forked,
)

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="needs fork")

ITEMS = list(range(MIN_ITEMS_TO_FORK * 3))


@pytest.fixture(params=[False, True], ids=["forked", "and-here"])
def work_here(request: pytest.FixtureRequest) -> bool:
    """Whether this process works too, beside the forked workers."""
    return bool(request.param)


def _alive(pid: int) -> bool:
    """Running, or exited but not yet reaped and not a zombie."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


def test_results_come_back_in_order_from_other_processes(work_here: bool) -> None:
    def work(item: int) -> tuple[int, int]:
        time.sleep((item * 7919 % 13) / 20000)  # uneven: chunks finish out of order
        return item * item, os.getpid()

    results = map_forked(work, ITEMS, workers=3, work_here=work_here)
    assert [square for square, _ in results] == [item * item for item in ITEMS]
    pids = {pid for _, pid in results}
    forked = pids - {os.getpid()}
    assert 1 < len(forked) <= (2 if work_here else 3)  # working here, this process is one
    assert (os.getpid() in pids) == work_here


def test_small_inputs_and_one_worker_run_here() -> None:
    assert {pid for pid in map_forked(lambda _: os.getpid(), ITEMS, workers=1)} == {os.getpid()}
    few = list(range(MIN_ITEMS_TO_FORK - 1))
    assert {pid for pid in map_forked(lambda _: os.getpid(), few, workers=2)} == {os.getpid()}


def test_progress_counts_every_result() -> None:
    seen: list[int] = []
    map_forked(lambda item: item, ITEMS, workers=2, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == len(ITEMS)


def test_large_results_travel_whole(work_here: bool) -> None:
    def work(item: int) -> bytes:
        return bytes([item % 256]) * 300_000

    results = map_forked(work, ITEMS, workers=2, work_here=work_here)
    assert all(r == bytes([i % 256]) * 300_000 for i, r in zip(ITEMS, results, strict=True))


def test_an_exception_in_the_work_is_raised_here_with_the_remote_traceback(
    work_here: bool,
) -> None:
    here = os.getpid()

    def work(item: int) -> int:
        if os.getpid() != here:
            raise KeyError(f"no item {item}")
        time.sleep(0.001)  # leaves the forked worker tickets to take
        return item

    with pytest.raises(KeyError, match="no item") as raised:
        map_forked(work, ITEMS, workers=2, work_here=work_here)
    assert isinstance(raised.value.__cause__, WorkerFailed)
    assert "in work" in str(raised.value.__cause__)


def test_an_exception_that_does_not_pickle_arrives_as_its_text(work_here: bool) -> None:
    class Unpicklable(Exception):
        def __reduce__(self) -> tuple[object, ...]:
            raise TypeError("not today")

    here = os.getpid()

    def work(item: int) -> int:
        if os.getpid() != here:
            raise Unpicklable("odd")
        time.sleep(0.001)
        return item

    with pytest.raises(WorkerFailed, match="Unpicklable"):
        map_forked(work, ITEMS, workers=2, work_here=work_here)


def test_a_worker_that_dies_is_reported(work_here: bool) -> None:
    here = os.getpid()

    def work(item: int) -> int:
        if os.getpid() != here:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.001)
        return item

    with pytest.raises(WorkerFailed, match="signal 9"):
        map_forked(work, ITEMS, workers=2, work_here=work_here)


def test_leaving_early_kills_the_workers(work_here: bool) -> None:
    def work(item: int) -> int:
        time.sleep(0.05)
        return os.getpid()

    with forked_results(work, ITEMS, workers=2, work_here=work_here) as results:
        worker = next(pid for pid in results if pid != os.getpid())
    assert not Path(f"/proc/{worker}").exists()  # killed and reaped, not left a zombie


def test_workers_of_finished_pools_are_reaped(work_here: bool) -> None:
    pids: set[int] = set()
    for _ in range(4):
        found = map_forked(lambda _: os.getpid(), ITEMS, workers=2, work_here=work_here)
        pids |= set(found) - {os.getpid()}
        time.sleep(0.05)
    map_forked(lambda item: item, ITEMS, workers=2)  # reaps what has exited since
    assert len(parallel._exiting) <= 2
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_workers_ignore_ctrl_c_and_the_parent_kills_them_on_it(work_here: bool) -> None:
    def work(item: int) -> int:
        time.sleep(0.005)
        return os.getpid()

    workers: set[int] = set()
    alive_when_interrupted = False
    with (
        pytest.raises(KeyboardInterrupt),
        forked_results(work, ITEMS * 2, workers=3, work_here=work_here) as results,
    ):
        for pid in results:
            if pid != os.getpid() and pid not in workers:
                workers.add(pid)
                os.kill(pid, signal.SIGINT)  # as a terminal's Ctrl-C reaches the group
            if len(workers) == 2:  # two forked workers seen (of two or three)
                time.sleep(0.05)  # time enough for a Ctrl-C to take effect
                alive_when_interrupted = all(map(_alive, workers))
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)  # the KeyboardInterrupt surfaces during it
    assert alive_when_interrupted
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_pool_can_start_from_a_thread() -> None:
    outcome: list[list[int]] = []
    thread = threading.Thread(target=lambda: outcome.append(map_forked(abs, ITEMS, workers=2)))
    thread.start()
    thread.join()
    assert outcome == [ITEMS]


def _phases_work(item: int) -> tuple[int, int]:
    time.sleep(0.001)  # long enough that every worker takes chunks
    return item * 2, os.getpid()


def _resumed(message: object) -> Callable[[int], tuple[int, int, object]]:
    """A second phase's work, made in each worker of the message it was sent."""

    def work(item: int) -> tuple[int, int, object]:
        time.sleep(0.001)
        return item + 1, os.getpid(), message

    return work


def test_the_second_phase_resumes_on_the_first_phases_workers_with_their_messages() -> None:
    done_by: dict[int, list[int]] = {}

    def message_for(done: list[int]) -> list[int]:
        return sorted(done)

    with forked_phases(_phases_work, ITEMS, workers=2, resume=_resumed) as phases:
        first = list(phases.first)
        assert [doubled for doubled, _ in first] == [item * 2 for item in ITEMS]
        for item, (_, pid) in zip(ITEMS, first, strict=True):
            done_by.setdefault(pid, []).append(item)
        workers = set(done_by) - {os.getpid()}
        assert len(workers) == 1  # two workers: this process and one forked
        second_items = list(range(MIN_ITEMS_TO_FORK * 2))

        def here(item: int) -> tuple[int, int, object]:
            time.sleep(0.001)
            return item + 1, os.getpid(), "here"

        with phases.second(here, second_items, message_for) as results:
            second = list(results)
    assert [value for value, _, _ in second] == [item + 1 for item in second_items]
    pids = {pid for _, pid, _ in second}
    assert pids <= {os.getpid(), *workers} and workers <= pids  # no new fork
    for _, pid, message in second:
        # each worker was told which of the first phase's items it did
        assert message == ("here" if pid == os.getpid() else sorted(done_by[pid]))


def test_a_large_second_phase_runs_on_new_workers_and_the_first_phases_exit() -> None:
    with forked_phases(_phases_work, ITEMS, workers=2, resume=_resumed) as phases:
        first_workers = {pid for _, pid in phases.first} - {os.getpid()}
        many = list(range(parallel.MAX_ITEMS_TO_RESUME + 1))
        with phases.second(_phases_work, many, lambda done: None) as results:
            second = list(results)
    assert [doubled for doubled, _ in second] == [item * 2 for item in many]
    second_workers = {pid for _, pid in second}
    assert os.getpid() not in second_workers and not second_workers & first_workers
    time.sleep(0.05)
    parallel._reap_exited()
    assert not any(map(_alive, first_workers))


def test_small_phases_run_here() -> None:
    few = list(range(MIN_ITEMS_TO_FORK - 1))
    with forked_phases(_phases_work, few, workers=2, resume=_resumed) as phases:
        assert {pid for _, pid in phases.first} == {os.getpid()}
        with phases.second(_phases_work, ITEMS, lambda done: None) as results:
            assert len({pid for _, pid in results}) > 1  # forked now: it is large
    with forked_phases(_phases_work, ITEMS, workers=2, resume=_resumed) as phases:
        list(phases.first)
        with phases.second(_phases_work, few, lambda done: None) as results:
            assert {pid for _, pid in results} == {os.getpid()}


def test_an_error_in_resuming_is_raised_here() -> None:
    def resume(message: object) -> Callable[[int], int]:
        raise LookupError(f"cannot resume from {message}")

    here = os.getpid()

    def work(item: int) -> int:
        if os.getpid() == here:
            time.sleep(0.002)  # leaves the forked worker tickets to take
        return item

    with (
        pytest.raises(LookupError, match="cannot resume from sent") as raised,
        forked_phases(work, ITEMS, workers=2, resume=resume) as phases,
    ):
        list(phases.first)
        with phases.second(work, ITEMS, lambda done: "sent") as results:
            list(results)
    assert isinstance(raised.value.__cause__, WorkerFailed)


def test_leaving_between_phases_lets_the_waiting_workers_exit() -> None:
    with forked_phases(_phases_work, ITEMS, workers=3, resume=_resumed) as phases:
        workers = {pid for _, pid in phases.first} - {os.getpid()}
    assert workers
    time.sleep(0.1)
    parallel._reap_exited()
    assert not any(map(_alive, workers))


def test_a_worker_that_dies_in_the_second_phase_is_reported() -> None:
    here = os.getpid()

    def resume(message: object) -> Callable[[int], int]:
        def work(item: int) -> int:
            os.kill(os.getpid(), signal.SIGKILL)
            return item

        return work

    def work_here(item: int) -> int:
        time.sleep(0.002)  # leaves the forked worker tickets to take
        return item

    with (
        pytest.raises(WorkerFailed, match="signal 9"),
        forked_phases(work_here, ITEMS, workers=2, resume=resume) as phases,
    ):
        assert list(phases.first) == ITEMS
        with phases.second(work_here, ITEMS, lambda done: None) as results:
            list(results)
    assert os.getpid() == here
