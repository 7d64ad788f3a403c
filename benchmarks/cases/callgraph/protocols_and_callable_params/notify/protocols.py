from typing import Protocol


class Sender(Protocol):
    def send(self, to: str, text: str) -> bool: ...
