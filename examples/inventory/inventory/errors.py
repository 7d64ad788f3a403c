"""Errors the library raises on purpose; the CLI reports them without a traceback."""


class InventoryError(Exception):
    """Base class of every expected failure."""


class UnknownProductError(InventoryError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"unknown product {sku!r}")
        self.sku = sku


class OutOfStockError(InventoryError):
    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"cannot take {requested} of {sku!r}: only {available} in stock")
        self.sku = sku
        self.requested = requested
        self.available = available


class PricingError(InventoryError):
    """A price cannot be computed (no tax rate for a category, a negative amount)."""
