__all__ = ["tag"]


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def render(value: object) -> str:
    return _escape(str(value))


def tag(name: str, body: str) -> str:
    return f"<{name}>{body}</{name}>"
