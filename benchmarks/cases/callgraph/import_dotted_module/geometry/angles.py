import math


def degrees(rad: float) -> float:
    return math.degrees(rad)


def heading(x: float, y: float) -> float:
    return degrees(math.atan2(y, x))
