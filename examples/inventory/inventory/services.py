"""Use cases: receiving and shipping stock, valuing it, quoting and placing orders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from inventory.errors import OutOfStockError
from inventory.models import Order, Product, StockItem
from inventory.pricing import apply_discount, line_total
from inventory.storage import ProductRepository


class InventoryService:
    def __init__(self, repository: ProductRepository, low_stock_threshold: int = 5) -> None:
        self.repository = repository
        self.low_stock_threshold = low_stock_threshold

    def register(self, product: Product, quantity: int = 0) -> StockItem:
        return self.repository.add(product, quantity)

    def receive(self, sku: str, quantity: int) -> StockItem:
        item = self.repository.get(sku)
        item.quantity += quantity
        self.repository.save(item)
        return item

    def available(self, sku: str, today: date | None = None) -> int:
        """Units that can be sold today (none once a perishable product has expired)."""
        item = self.repository.get(sku)
        return item.quantity if item.product.is_available(today or date.today()) else 0

    def ship(self, sku: str, quantity: int, today: date | None = None) -> StockItem:
        item = self.repository.get(sku)
        available = self.available(sku, today)
        if quantity > available:
            raise OutOfStockError(sku, quantity, available)
        item.quantity -= quantity
        self.repository.save(item)
        return item

    def stock_value(self) -> Decimal:
        """What the stock on hand would fetch at gross prices."""
        return sum(
            (line_total(item.product, item.quantity) for item in self.repository.all()),
            Decimal("0.00"),
        )

    def low_stock(self) -> list[StockItem]:
        return [item for item in self.repository.all() if item.is_low(self.low_stock_threshold)]


class OrderService:
    def __init__(self, inventory: InventoryService, bulk_discount_percent: int = 10) -> None:
        self.inventory = inventory
        self.bulk_discount_percent = bulk_discount_percent

    def quote(self, order: Order) -> Decimal:
        """The gross total of `order`; ten or more units of one line earn the bulk discount."""
        total = Decimal("0.00")
        for line in order.lines:
            product = self.inventory.repository.get(line.sku).product
            amount = line_total(product, line.quantity)
            if line.quantity >= 10:
                amount = apply_discount(amount, self.bulk_discount_percent)
            total += amount
        return total

    def place(self, order: Order, today: date | None = None) -> Decimal:
        """Check every line is in stock, ship them all, and return the amount to charge."""
        total = self.quote(order)
        for line in order.lines:
            available = self.inventory.available(line.sku, today)
            if line.quantity > available:
                raise OutOfStockError(line.sku, line.quantity, available)
        for line in order.lines:
            self.inventory.ship(line.sku, line.quantity, today)
        order.status = "placed"
        return total
