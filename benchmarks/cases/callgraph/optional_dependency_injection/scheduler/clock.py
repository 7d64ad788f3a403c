import time


class SystemClock:
    def now(self) -> float:
        return time.time()


class FrozenClock(SystemClock):
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at
