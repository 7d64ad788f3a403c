def extract(source: str) -> list[str]:
    return source.splitlines()


def transform(rows: list[str]) -> list[str]:
    return [r.upper() for r in rows]


def load(rows: list[str]) -> int:
    return len(rows)
