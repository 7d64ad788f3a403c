from .codec import decode, encode


class MemoryBackend:
    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def put(self, key: str, value: dict[str, object]) -> None:
        self._data[key] = encode(value)

    def fetch(self, key: str) -> dict[str, object]:
        return decode(self._data[key])
