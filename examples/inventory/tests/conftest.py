from datetime import date
from decimal import Decimal

import pytest

from inventory.models import DigitalProduct, PerishableProduct, Product
from inventory.services import InventoryService, OrderService
from inventory.storage import InMemoryRepository

TODAY = date(2024, 6, 1)


@pytest.fixture
def today() -> date:
    """A fixed day, two days before the milk expires."""
    return TODAY


@pytest.fixture
def products() -> list[Product]:
    return [
        Product("HW-1", "Hammer", Decimal("10.00")),
        Product("BK-1", "Dune", Decimal("9.50"), category="books"),
        PerishableProduct("FD-1", "Milk", Decimal("1.00"), "food", expires_on=date(2024, 6, 3)),
        DigitalProduct("EB-1", "Dune (e-book)", Decimal("5.00"), "books", download_url="https://x"),
    ]


@pytest.fixture
def service(products: list[Product]) -> InventoryService:
    service = InventoryService(InMemoryRepository(), low_stock_threshold=5)
    for product, quantity in zip(products, (20, 3, 50, 100), strict=True):
        service.register(product, quantity)
    return service


@pytest.fixture
def orders(service: InventoryService) -> OrderService:
    return OrderService(service, bulk_discount_percent=10)
