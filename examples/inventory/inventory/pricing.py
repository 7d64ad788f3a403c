"""Prices: tax by category, rounding, line totals and discounts.

All amounts are `Decimal`s in the shop's single currency, rounded to cents.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from inventory.errors import PricingError
from inventory.models import Product

TAX_RATES: dict[str, Decimal] = {
    "general": Decimal("0.20"),
    "food": Decimal("0.05"),
    "books": Decimal("0.00"),
    "digital": Decimal("0.20"),
}
CENT = Decimal("0.01")


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def tax_rate(category: str) -> Decimal:
    try:
        return TAX_RATES[category]
    except KeyError:
        raise PricingError(f"no tax rate for category {category!r}") from None


def price_with_tax(amount: Decimal, category: str) -> Decimal:
    """The gross price of a net `amount` in tax `category`, rounded to cents."""
    if amount < 0:
        raise PricingError(f"negative amount {amount}")
    return round_money(amount * (1 + tax_rate(category)))


def line_total(product: Product, quantity: int) -> Decimal:
    """The gross price of `quantity` units of `product`."""
    return price_with_tax(product.unit_price * quantity, product.tax_category())


def apply_discount(amount: Decimal, percent: int) -> Decimal:
    if not 0 <= percent <= 100:
        raise PricingError(f"discount must be between 0 and 100 percent, not {percent}")
    return round_money(amount * (100 - percent) / 100)
