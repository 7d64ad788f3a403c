import geometry.angles
import geometry.vectors


def describe(x: float, y: float) -> str:
    nx, ny = geometry.vectors.normalize(x, y)
    size = geometry.vectors.length(x, y)
    angle = geometry.angles.heading(x, y)
    return f"{size:.2f} @ {angle:.1f} deg -> ({nx:.2f}, {ny:.2f})"


if __name__ == "__main__":
    print(describe(3.0, 4.0))
