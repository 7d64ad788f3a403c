import functools
import time


def retry(times: int = 3, delay: float = 0.0):
    def decorate(func):
        @functools.wraps(func)
        def attempt(*args, **kwargs):
            last: Exception | None = None
            for _ in range(times):
                try:
                    return func(*args, **kwargs)
                except Exception as exc:
                    last = exc
                    time.sleep(delay)
            raise RuntimeError("gave up") from last

        return attempt

    return decorate
