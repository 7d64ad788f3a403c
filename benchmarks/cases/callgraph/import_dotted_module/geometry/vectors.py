import math


def length(x: float, y: float) -> float:
    return math.hypot(x, y)


def normalize(x: float, y: float) -> tuple[float, float]:
    n = length(x, y)
    if n == 0:
        return (0.0, 0.0)
    return (x / n, y / n)
