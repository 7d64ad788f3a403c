"""Plain-text reports for the shop floor."""

from __future__ import annotations

from decimal import Decimal

from inventory.pricing import price_with_tax
from inventory.services import InventoryService


def format_money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def stock_report(service: InventoryService) -> str:
    """One row per item: SKU, description, quantity, gross unit price; then the total value."""
    rows = []
    for item in service.repository.all():
        product = item.product
        gross = price_with_tax(product.unit_price, product.tax_category())
        description = product.describe()
        rows.append(
            f"{product.sku:<8} {description:<40} {item.quantity:>5} {format_money(gross):>10}"
        )
    rows.append(f"{'Total value':<55} {format_money(service.stock_value()):>10}")
    return "\n".join(rows)


def low_stock_report(service: InventoryService) -> str:
    items = service.low_stock()
    if not items:
        return "No item is low on stock."
    return "\n".join(
        f"{item.product.sku:<8} {item.quantity:>5} left at {item.location}" for item in items
    )
