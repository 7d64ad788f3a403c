RATES = {"de": 0.19, "fr": 0.2}


def rate_for(country: str) -> float:
    return RATES.get(country, 0.0)


def apply_tax(amount: float, country: str) -> float:
    return round(amount * (1 + rate_for(country)), 2)
