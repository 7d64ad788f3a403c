from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orders.pricing import PriceBook


class Order:
    def __init__(self, sku: str, qty: int) -> None:
        self.sku = sku
        self.qty = qty

    def total(self, book: PriceBook) -> float:
        return book.price_of(self.sku) * self.qty
