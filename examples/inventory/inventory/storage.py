"""Where stock items live: a repository interface and two backends."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from inventory.errors import UnknownProductError
from inventory.models import DigitalProduct, PerishableProduct, Product, StockItem


class ProductRepository(ABC):
    """Stock items keyed by SKU.  Backends implement `save`, `all` and `_load`."""

    def get(self, sku: str) -> StockItem:
        item = self._load(sku)
        if item is None:
            raise UnknownProductError(sku)
        return item

    def add(self, product: Product, quantity: int = 0) -> StockItem:
        item = StockItem(product, quantity)
        self.save(item)
        return item

    @abstractmethod
    def save(self, item: StockItem) -> None: ...

    @abstractmethod
    def all(self) -> list[StockItem]: ...

    @abstractmethod
    def _load(self, sku: str) -> StockItem | None: ...


class InMemoryRepository(ProductRepository):
    def __init__(self) -> None:
        self._items: dict[str, StockItem] = {}

    def save(self, item: StockItem) -> None:
        self._items[item.product.sku] = item

    def all(self) -> list[StockItem]:
        return [self._items[sku] for sku in sorted(self._items)]

    def _load(self, sku: str) -> StockItem | None:
        return self._items.get(sku)


class JsonFileRepository(ProductRepository):
    """All items in one JSON file, rewritten on every save."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, item: StockItem) -> None:
        records = self._read()
        records[item.product.sku] = item_to_record(item)
        self._write(records)

    def all(self) -> list[StockItem]:
        records = self._read()
        return [item_from_record(records[sku]) for sku in sorted(records)]

    def _load(self, sku: str) -> StockItem | None:
        record = self._read().get(sku)
        return None if record is None else item_from_record(record)

    def _read(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        data: dict[str, dict[str, Any]] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _write(self, records: dict[str, dict[str, Any]]) -> None:
        self.path.write_text(json.dumps(records, indent=2, sort_keys=True), encoding="utf-8")


def item_to_record(item: StockItem) -> dict[str, Any]:
    product = item.product
    record: dict[str, Any] = {
        "kind": "product",
        "sku": product.sku,
        "name": product.name,
        "unit_price": str(product.unit_price),
        "category": product.category,
        "quantity": item.quantity,
        "location": item.location,
    }
    if isinstance(product, PerishableProduct):
        record["kind"] = "perishable"
        record["expires_on"] = product.expires_on.isoformat()
    elif isinstance(product, DigitalProduct):
        record["kind"] = "digital"
        record["download_url"] = product.download_url
    return record


def item_from_record(record: dict[str, Any]) -> StockItem:
    common = {
        "sku": record["sku"],
        "name": record["name"],
        "unit_price": Decimal(record["unit_price"]),
        "category": record["category"],
    }
    product: Product
    if record["kind"] == "perishable":
        product = PerishableProduct(**common, expires_on=date.fromisoformat(record["expires_on"]))
    elif record["kind"] == "digital":
        product = DigitalProduct(**common, download_url=record["download_url"])
    else:
        product = Product(**common)
    return StockItem(product, record["quantity"], record["location"])
