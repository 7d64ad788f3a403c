import payments.gateways.stripe_like as live
from payments.gateways import fake as testing


def make_gateway(test_mode: bool) -> live.Gateway:
    if test_mode:
        return testing.FakeGateway()
    return live.Gateway("sk_live")


def bill(cents: int, test_mode: bool = True) -> str:
    gw = make_gateway(test_mode)
    charge_id = gw.charge(cents)
    if not gw.refund(charge_id):
        raise RuntimeError("refund failed")
    return charge_id
