class Mailer:
    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.outbox: list[str] = []

    def send(self, to: str, body: str) -> None:
        self.outbox.append(f"{self.sender}->{to}: {body}")
