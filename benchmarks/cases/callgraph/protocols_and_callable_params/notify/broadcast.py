from collections.abc import Callable

from notify.channels import EmailSender, SmsSender
from notify.protocols import Sender


def notify_one(sender: Sender, to: str, text: str) -> bool:
    return sender.send(to, text)


def notify_with(hook: Callable[[str], None], to: str) -> None:
    hook(to)


def broadcast(text: str) -> list[bool]:
    senders: list[Sender] = [SmsSender(), EmailSender("smtp.local")]
    results = [notify_one(s, "+100", text) for s in senders]
    notify_with(print, "+100")
    return results
