from palette.colors import Color, Gradient, Swatch


def warning_css() -> str:
    return Color.RED.css()


def labels(swatches: list[Swatch]) -> list[str]:
    out = []
    for swatch in swatches:
        out.append(swatch.label())
    return out


def first_label(swatches: list[Swatch]) -> str:
    return swatches[0].label()


def preview(fancy: bool) -> str:
    item = Gradient(Color.RED, Color.GREEN) if fancy else Swatch(Color.GREEN, "go")
    return item.label()


def pair() -> tuple[Swatch, Gradient]:
    return Swatch(Color.RED, "stop"), Gradient(Color.GREEN, Color.RED)


def pair_labels() -> str:
    swatch, gradient = pair()
    return swatch.label() + gradient.label()
