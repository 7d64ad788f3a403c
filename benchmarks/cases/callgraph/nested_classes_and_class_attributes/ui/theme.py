class Palette:
    def __init__(self, primary: str, accent: str) -> None:
        self.primary = primary
        self.accent = accent

    def css(self) -> str:
        return f"--primary:{self.primary};--accent:{self.accent}"


def default_palette() -> Palette:
    return Palette("#333", "#09f")
