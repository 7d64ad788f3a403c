import time

from metrics import counters


def timed_incr(name: str) -> float:
    start = time.perf_counter()
    counters.incr(name)
    return time.perf_counter() - start
