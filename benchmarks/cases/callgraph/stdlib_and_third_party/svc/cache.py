import logging
import time

logger = logging.getLogger(__name__)


class Cache:
    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, str]] = {}

    def get(self, key: str) -> str | None:
        hit = self._items.get(key)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            logger.debug("miss %s", key)
            return None
        return hit[1]

    def set(self, key: str, value: str) -> None:
        self._items[key] = (time.monotonic(), value)

    def join(self, keys: list[str]) -> str:
        return ",".join(v for k in keys if (v := self.get(k)) is not None)
