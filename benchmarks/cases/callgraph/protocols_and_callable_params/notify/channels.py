class SmsSender:
    def send(self, to: str, text: str) -> bool:
        return len(text) <= 160


class EmailSender:
    def __init__(self, smtp_host: str) -> None:
        self.smtp_host = smtp_host

    def send(self, to: str, text: str) -> bool:
        return "@" in to
