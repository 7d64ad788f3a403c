class NetError(Exception):
    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class RequestTimeout(NetError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds}s", code=408)
        self.seconds = seconds
