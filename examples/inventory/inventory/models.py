"""Domain objects: products, stock items and orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    """Something the shop sells.  `unit_price` is net of tax."""

    sku: str
    name: str
    unit_price: Decimal
    category: str = "general"

    def tax_category(self) -> str:
        """The category whose tax rate applies to this product."""
        return self.category

    def describe(self) -> str:
        return f"{self.name} ({self.sku})"

    def is_available(self, today: date) -> bool:
        return True


@dataclass(frozen=True)
class PerishableProduct(Product):
    expires_on: date = date.max

    def describe(self) -> str:
        return f"{super().describe()}, best before {self.expires_on.isoformat()}"

    def is_available(self, today: date) -> bool:
        return today <= self.expires_on


@dataclass(frozen=True)
class DigitalProduct(Product):
    download_url: str = ""

    def tax_category(self) -> str:
        # Digital goods are taxed at the digital rate whatever their shelf category.
        return "digital"

    def describe(self) -> str:
        return f"{super().describe()}, download"


@dataclass
class StockItem:
    """How many units of a product the shop holds, and where."""

    product: Product
    quantity: int = 0
    location: str = "main"

    def is_low(self, threshold: int) -> bool:
        return self.quantity < threshold


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int


@dataclass
class Order:
    order_id: str
    customer: str
    lines: list[OrderLine] = field(default_factory=list)
    status: str = "new"

    def add_line(self, sku: str, quantity: int) -> None:
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, not {quantity}")
        self.lines.append(OrderLine(sku, quantity))
