class Gateway:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def charge(self, cents: int) -> str:
        return f"ch_{cents}"

    def refund(self, charge_id: str) -> bool:
        return charge_id.startswith("ch_")
