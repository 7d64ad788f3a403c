import functools

from cfg.loader import load, opened, schema_version


class ConfigService:
    def __init__(self, root: str) -> None:
        self.root = root

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def path_for(self, name: str) -> str:
        return f"{self.root}/{name}.json"

    def get(self, name: str) -> dict[str, object]:
        with opened(self.path_for(name)) as data:
            return {**data, "schema": schema_version()}

    def peek(self, name: str) -> dict[str, object]:
        return load(self.path_for(name))
