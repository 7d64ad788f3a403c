def format_line(label: str, value: float) -> str:
    return f"{label:<12}{value:>10.2f}"


def format_total(value: float) -> str:
    return format_line("TOTAL", value)


render_line = format_line
