from shapes.base import Circle, Ring, Shape


def summary() -> list[str]:
    ring = Ring(2.0, 1.0)
    return [
        Shape.describe(ring),
        Circle.describe(Circle(1.0)),
        str(Shape.area(ring)),
    ]
