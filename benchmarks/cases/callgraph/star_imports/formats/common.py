def _escape(text: str) -> str:
    return text.replace('"', '\\"')


def quote(text: str) -> str:
    return '"' + _escape(text) + '"'


def render(value: object) -> str:
    return str(value).strip()
