import threading
from typing import NamedTuple


class Point(NamedTuple):
    x: float
    y: float

    def shifted(self, dx: float) -> "Point":
        return Point(self.x + dx, self.y)


class AttrDict(dict):
    def get_path(self, dotted: str) -> object:
        node: object = self
        for part in dotted.split("."):
            node = node[part]  # type: ignore[index]
        return node


def square(n: int) -> int:
    return n * n


class Worker(threading.Thread):
    def __init__(self, n: int) -> None:
        super().__init__(daemon=True)
        self.n = n
        self.result = 0

    def run(self) -> None:
        self.result = square(self.n)
