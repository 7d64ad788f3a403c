from net.exceptions import NetError, RequestTimeout


class BaseClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers: dict[str, str] = {}

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def send(self, path: str) -> str:
        if not path:
            raise NetError("empty path")
        return self.url(path)


class AuthClient(BaseClient):
    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url)
        self.headers["Authorization"] = f"Bearer {token}"

    def send(self, path: str) -> str:
        return "auth:" + super().send(path)


class RetryClient(AuthClient):
    def send(self, path: str) -> str:
        try:
            return super(RetryClient, self).send(path)  # noqa: UP008
        except NetError:
            raise RequestTimeout(1.5) from None
