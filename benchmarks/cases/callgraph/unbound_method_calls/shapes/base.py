import math


class Shape:
    def area(self) -> float:
        return 0.0

    def describe(self) -> str:
        return f"{type(self).__name__} with area {self.area():.2f}"


class Circle(Shape):
    def __init__(self, r: float) -> None:
        self.r = r

    def area(self) -> float:
        return math.pi * self.r**2


class Ring(Circle):
    def __init__(self, r: float, inner: float) -> None:
        Circle.__init__(self, r)
        self.inner = inner

    def area(self) -> float:
        return Circle.area(self) - math.pi * self.inner**2
