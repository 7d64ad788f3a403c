import functools
import time

_TIMINGS: dict[str, float] = {}


def _record(name: str, elapsed: float) -> None:
    _TIMINGS[name] = _TIMINGS.get(name, 0.0) + elapsed


def timed(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            _record(func.__name__, time.perf_counter() - start)

    return wrapper


def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        print(f"calling {func.__qualname__}")
        return func(*args, **kwargs)

    return wrapper


def report() -> dict[str, float]:
    return dict(_TIMINGS)
