from scheduler.clock import SystemClock
from scheduler.store import JobStore


class Scheduler:
    def __init__(self, store: JobStore | None = None, clock: SystemClock | None = None) -> None:
        self.store = store or JobStore()
        self.clock = clock if clock is not None else SystemClock()

    def schedule(self, name: str, delay: float) -> None:
        self.store.put(name, self.clock.now() + delay)

    def tick(self) -> list[str]:
        return self.store.due(self.clock.now())


def run_once(store: JobStore | None = None) -> list[str]:
    active = store or JobStore()
    sched = Scheduler(active)
    sched.schedule("backup", 0.0)
    return active.due(float("inf")) + sched.tick()
