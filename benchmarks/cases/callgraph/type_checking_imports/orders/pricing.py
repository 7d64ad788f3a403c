from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orders.models import Order


class PriceBook:
    def __init__(self, prices: dict[str, float]) -> None:
        self.prices = prices

    def price_of(self, sku: str) -> float:
        return self.prices[sku]

    def quote(self, order: "Order") -> str:
        return f"{order.sku}: {order.total(self):.2f}"
