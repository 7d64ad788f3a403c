class Event:
    def __init__(self, name: str, payload: dict[str, object]) -> None:
        self.name = name
        self.payload = payload


class Handler:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.handled: list[str] = []

    def __call__(self, event: Event) -> str:
        msg = self.format(event)
        self.handled.append(msg)
        return msg

    def format(self, event: Event) -> str:
        return f"{self.prefix}:{event.name}"


audit = Handler("audit")
