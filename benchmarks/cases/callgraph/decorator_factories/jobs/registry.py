from collections.abc import Callable


class Registry:
    def __init__(self) -> None:
        self._jobs: dict[str, Callable[[], object]] = {}

    def register(self, name: str):
        def add(func):
            self._jobs[name] = func
            return func

        return add

    def names(self) -> list[str]:
        return sorted(self._jobs)


registry = Registry()
