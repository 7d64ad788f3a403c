from ui.theme import Palette, default_palette


class Widget:
    palette = default_palette()

    class Style:
        def __init__(self, padding: int = 4) -> None:
            self.padding = padding

        def render(self) -> str:
            return f"padding:{self.padding}px"

    def __init__(self, label: str) -> None:
        self.label = label
        self.style = Widget.Style()

    def html(self) -> str:
        style = f"{self.style.render()};{self.palette.css()}"
        return f'<div style="{style}">{self.label}</div>'


class Button(Widget):
    palette = Palette("#fff", "#f00")

    def html(self) -> str:
        return "<button>" + super().html() + "</button>"
