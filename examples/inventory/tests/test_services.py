from datetime import date
from decimal import Decimal

import pytest

from inventory.errors import OutOfStockError, UnknownProductError
from inventory.models import Order
from inventory.services import InventoryService, OrderService


def test_receive_and_ship_move_the_quantity(service: InventoryService, today: date) -> None:
    assert service.receive("HW-1", 5).quantity == 25
    assert service.ship("HW-1", 7, today).quantity == 18
    assert service.repository.get("HW-1").quantity == 18


def test_ship_refuses_more_than_available(service: InventoryService, today: date) -> None:
    with pytest.raises(OutOfStockError, match="only 3 in stock"):
        service.ship("BK-1", 4, today)


def test_expired_perishables_cannot_be_shipped(service: InventoryService, today: date) -> None:
    assert service.available("FD-1", today) == 50
    with pytest.raises(OutOfStockError):
        service.ship("FD-1", 1, today.replace(month=7))


def test_unknown_sku(service: InventoryService) -> None:
    with pytest.raises(UnknownProductError):
        service.receive("NOPE", 1)


def test_stock_value_sums_gross_line_totals(service: InventoryService) -> None:
    # 20 x 12.00 + 3 x 9.50 + 50 x 1.05 + 100 x 6.00
    assert service.stock_value() == Decimal("921.00")


def test_low_stock(service: InventoryService) -> None:
    assert [item.product.sku for item in service.low_stock()] == ["BK-1"]


def test_quote_applies_the_bulk_discount(orders: OrderService) -> None:
    order = Order("o-1", "ada")
    order.add_line("HW-1", 10)  # 120.00 less 10%
    order.add_line("BK-1", 2)  # 19.00
    assert orders.quote(order) == Decimal("127.00")


def test_place_ships_every_line(
    orders: OrderService, service: InventoryService, today: date
) -> None:
    order = Order("o-2", "grace")
    order.add_line("HW-1", 2)
    order.add_line("FD-1", 5)
    assert orders.place(order, today) == Decimal("29.25")
    assert order.status == "placed"
    assert service.repository.get("HW-1").quantity == 18
    assert service.repository.get("FD-1").quantity == 45


def test_place_ships_nothing_when_one_line_is_short(
    orders: OrderService, service: InventoryService, today: date
) -> None:
    order = Order("o-3", "alan")
    order.add_line("HW-1", 2)
    order.add_line("BK-1", 99)
    with pytest.raises(OutOfStockError):
        orders.place(order, today)
    assert service.repository.get("HW-1").quantity == 20
    assert order.status == "new"
