_COUNTS: dict[str, int] = {}


def incr(name: str, by: int = 1) -> int:
    _COUNTS[name] = _COUNTS.get(name, 0) + by
    return _COUNTS[name]


def reset() -> None:
    _COUNTS.clear()
