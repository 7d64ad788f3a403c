from typing import Optional

from inventory.models import Product, Warehouse, make_warehouse


def top_up(product: Optional[Product], amount: int) -> None:  # noqa: UP045
    if product is not None and product.is_low():
        product.restock(amount)


def audit(wh: "Warehouse", sku: str) -> bool:
    found = wh.find(sku)
    if found is None:
        return False
    return found.is_low()


def bootstrap() -> bool:
    make_warehouse().add(Product("B-2", 10))
    wh = make_warehouse()
    top_up(wh.find("A-1"), 10)
    return audit(wh, "A-1")
