from enum import Enum


class Color(Enum):
    RED = "#f00"
    GREEN = "#0f0"

    def hex(self) -> str:
        return str(self.value)

    def css(self) -> str:
        return f"color: {self.hex()}"


class Swatch:
    def __init__(self, color: Color, name: str) -> None:
        self.color = color
        self.name = name

    def label(self) -> str:
        return f"{self.name} ({self.color.hex()})"


class Gradient:
    def __init__(self, start: Color, end: Color) -> None:
        self.start = start
        self.end = end

    def label(self) -> str:
        return f"{self.start.hex()}..{self.end.hex()}"
