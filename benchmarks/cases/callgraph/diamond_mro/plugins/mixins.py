from plugins.base import Plugin


class LoggingMixin(Plugin):
    def log(self, msg: str) -> str:
        return f"[{self.name()}] {msg}"


class CachingMixin(Plugin):
    def setup(self) -> list[str]:
        return [*super().setup(), "cache"]
