import os


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


DEBUG = env("APP_DEBUG", "0") == "1"
PORT = env_int("APP_PORT", 8000)


class Limits:
    MAX_BODY = env_int("APP_MAX_BODY", 1 << 20)
    TIMEOUT = float(env("APP_TIMEOUT", "30"))

    def describe(self) -> str:
        return f"{self.MAX_BODY} bytes / {self.TIMEOUT}s"
