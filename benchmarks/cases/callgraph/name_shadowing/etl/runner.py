from collections.abc import Callable

from etl.steps import extract, load, transform

Stage = Callable[[list[str]], list[str]]


def run_default(source: str) -> int:
    return load(transform(extract(source)))


def run_custom(source: str, transform: Stage) -> int:
    return load(transform(extract(source)))


def run_pipeline(source: str, stages: list[Stage]) -> int:
    rows = extract(source)
    for transform in stages:  # noqa: F402
        rows = transform(rows)
    return load(rows)


def run_split(source: str) -> int:
    extract = str.split
    return load(extract(source))


def run_verbose(source: str) -> int:
    def transform(rows: list[str]) -> list[str]:
        return [f"> {r}" for r in rows]

    return load(transform(extract(source)))
