from orders.models import Order
from orders.pricing import PriceBook


def checkout() -> str:
    book = PriceBook({"A": 2.5})
    return book.quote(Order("A", 4))
