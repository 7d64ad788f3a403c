import os


class Settings:
    DEFAULTS = {"debug": "0", "workers": "2"}

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    @classmethod
    def from_env(cls, prefix: str = "APP_") -> "Settings":
        values = cls.defaults()
        values.update(cls._scan(prefix))
        return cls(values)

    @classmethod
    def defaults(cls) -> dict[str, str]:
        return dict(cls.DEFAULTS)

    @staticmethod
    def _scan(prefix: str) -> dict[str, str]:
        return {
            key[len(prefix) :].lower(): value
            for key, value in os.environ.items()
            if key.startswith(prefix)
        }

    @staticmethod
    def parse_bool(raw: str) -> bool:
        return raw.lower() in {"1", "true", "yes"}

    def flag(self, key: str) -> bool:
        return self.parse_bool(self.values.get(key, "0"))

    def workers(self) -> int:
        return int(self.values["workers"])
