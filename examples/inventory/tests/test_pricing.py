from decimal import Decimal

import pytest

from inventory.errors import PricingError
from inventory.models import DigitalProduct, Product
from inventory.pricing import apply_discount, line_total, price_with_tax, round_money


def test_price_with_tax_applies_the_category_rate() -> None:
    assert price_with_tax(Decimal("10.00"), "general") == Decimal("12.00")
    assert price_with_tax(Decimal("10.00"), "food") == Decimal("10.50")
    assert price_with_tax(Decimal("10.00"), "books") == Decimal("10.00")


def test_price_with_tax_rounds_half_up_to_cents() -> None:
    assert price_with_tax(Decimal("0.125"), "books") == Decimal("0.13")
    assert round_money(Decimal("2.345")) == Decimal("2.35")


def test_price_with_tax_rejects_unknown_categories_and_negative_amounts() -> None:
    with pytest.raises(PricingError, match="no tax rate"):
        price_with_tax(Decimal("1"), "weapons")
    with pytest.raises(PricingError, match="negative"):
        price_with_tax(Decimal("-1"), "general")


def test_line_total_uses_the_products_tax_category() -> None:
    book = Product("BK-1", "Dune", Decimal("5.00"), "books")
    ebook = DigitalProduct("EB-1", "Dune (e-book)", Decimal("5.00"), "books")
    assert line_total(book, 3) == Decimal("15.00")
    assert line_total(ebook, 3) == Decimal("18.00")  # digital rate, not the books rate


def test_apply_discount() -> None:
    assert apply_discount(Decimal("100.00"), 10) == Decimal("90.00")
    with pytest.raises(PricingError):
        apply_discount(Decimal("100.00"), 120)
