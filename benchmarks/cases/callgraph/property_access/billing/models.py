from dataclasses import dataclass, field


@dataclass
class LineItem:
    description: str
    unit_price: float
    quantity: int = 1

    @property
    def subtotal(self) -> float:
        return self.unit_price * self.quantity


@dataclass
class Customer:
    name: str
    vip: bool = False

    @property
    def discount(self) -> float:
        return 0.1 if self.vip else 0.0


@dataclass
class Invoice:
    customer: Customer
    items: list[LineItem] = field(default_factory=list)

    @property
    def gross(self) -> float:
        return sum(i.unit_price * i.quantity for i in self.items)

    @property
    def net(self) -> float:
        return round(self.gross * (1 - self.customer.discount), 2)

    def add(self, description: str, price: float, qty: int = 1) -> "Invoice":
        self.items.append(LineItem(description, price, qty))
        return self
