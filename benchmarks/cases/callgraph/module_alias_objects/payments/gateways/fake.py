from payments.gateways import stripe_like


class FakeGateway(stripe_like.Gateway):
    def __init__(self) -> None:
        super().__init__("test")
        self.charges: list[int] = []

    def charge(self, cents: int) -> str:
        self.charges.append(cents)
        return super().charge(cents)
