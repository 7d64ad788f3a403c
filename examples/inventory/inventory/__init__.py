"""Stock keeping and ordering for a small shop."""

from inventory.errors import InventoryError, OutOfStockError, PricingError, UnknownProductError
from inventory.models import DigitalProduct, Order, OrderLine, PerishableProduct, Product, StockItem
from inventory.pricing import line_total, price_with_tax
from inventory.services import InventoryService, OrderService
from inventory.storage import InMemoryRepository, JsonFileRepository, ProductRepository

__all__ = [
    "DigitalProduct",
    "InMemoryRepository",
    "InventoryError",
    "InventoryService",
    "JsonFileRepository",
    "Order",
    "OrderLine",
    "OrderService",
    "OutOfStockError",
    "PerishableProduct",
    "PricingError",
    "Product",
    "ProductRepository",
    "StockItem",
    "UnknownProductError",
    "line_total",
    "price_with_tax",
]
__version__ = "0.3.0"
