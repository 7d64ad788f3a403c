from ..pricing import discounts
from ..pricing.tax import rate_for
from .receipt import format_line


class Cart:
    def __init__(self, country: str) -> None:
        self.country = country
        self.lines: list[tuple[str, float]] = []

    def add(self, name: str, price: float) -> None:
        self.lines.append((name, price))

    def total(self, percent: float = 0.0) -> float:
        return sum(discounts.final_price(p, percent, self.country) for _, p in self.lines)

    def receipt(self) -> str:
        rows = [format_line(name, price) for name, price in self.lines]
        rows.append(f"tax rate {rate_for(self.country):.0%}")
        return "\n".join(rows)
