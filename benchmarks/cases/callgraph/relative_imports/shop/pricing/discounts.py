from . import tax


def discounted(amount: float, percent: float) -> float:
    return amount * (1 - percent / 100)


def final_price(amount: float, percent: float, country: str) -> float:
    return tax.apply_tax(discounted(amount, percent), country)
