from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from inventory.errors import UnknownProductError
from inventory.models import DigitalProduct, PerishableProduct, Product, StockItem
from inventory.storage import InMemoryRepository, JsonFileRepository, ProductRepository


@pytest.fixture(params=["memory", "json"])
def repository(request: pytest.FixtureRequest, tmp_path: Path) -> ProductRepository:
    if request.param == "memory":
        return InMemoryRepository()
    return JsonFileRepository(tmp_path / "stock.json")


def test_add_get_and_list_in_sku_order(repository: ProductRepository) -> None:
    repository.add(Product("B", "Bolt", Decimal("0.10")), 500)
    repository.add(Product("A", "Anvil", Decimal("99.00")), 1)
    assert repository.get("B").quantity == 500
    assert [item.product.sku for item in repository.all()] == ["A", "B"]


def test_get_unknown(repository: ProductRepository) -> None:
    with pytest.raises(UnknownProductError, match="'X'"):
        repository.get("X")


def test_json_round_trip_keeps_product_kinds(tmp_path: Path) -> None:
    path = tmp_path / "stock.json"
    items = [
        StockItem(PerishableProduct("FD-1", "Milk", Decimal("1.00"), "food", date(2024, 6, 3)), 4),
        StockItem(DigitalProduct("EB-1", "Guide", Decimal("5.00"), "books", "https://x"), 9),
        StockItem(Product("HW-1", "Hammer", Decimal("10.00")), 2, location="back"),
    ]
    writer = JsonFileRepository(path)
    for item in items:
        writer.save(item)
    assert JsonFileRepository(path).all() == sorted(items, key=lambda i: i.product.sku)
