from ... import audit as corp_audit
from ...audit import record


def make_payslip(name: str, amount: float) -> str:
    class Payslip:
        def __init__(self) -> None:
            self.name = name
            self.amount = amount

        def render(self) -> str:
            return f"{self.name}: {self.amount:.2f}"

    slip = Payslip()
    record(f"payslip {name}")
    return slip.render()


def close_month() -> str:
    return corp_audit.record("month closed")
