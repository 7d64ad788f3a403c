class Product:
    def __init__(self, sku: str, qty: int) -> None:
        self.sku = sku
        self.qty = qty

    def restock(self, amount: int) -> None:
        self.qty += amount

    def is_low(self, threshold: int = 5) -> bool:
        return self.qty < threshold


class Warehouse:
    def __init__(self) -> None:
        self.products: dict[str, Product] = {}

    def add(self, product: Product) -> None:
        self.products[product.sku] = product

    def find(self, sku: str) -> Product | None:
        return self.products.get(sku)


def make_warehouse() -> Warehouse:
    wh = Warehouse()
    wh.add(Product("A-1", 3))
    return wh
