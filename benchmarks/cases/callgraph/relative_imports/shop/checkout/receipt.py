def format_line(name: str, price: float) -> str:
    return f"{name:<20}{price:>8.2f}"
