from render.shapes import Circle, Shape, Square


def describe(shape: Shape) -> str:
    return f"{shape.label()} covers {shape.area():.2f}"


def biggest(a: Shape, b: Shape) -> Shape:
    return a if a.area() >= b.area() else b


def demo() -> str:
    sq = Square(2.0)
    winner = biggest(sq, Circle(1.0))
    return describe(winner) + " / " + sq.label()
