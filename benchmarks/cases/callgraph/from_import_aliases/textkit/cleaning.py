import re

_WS = re.compile(r"\s+")


def collapse_whitespace(text: str) -> str:
    return _WS.sub(" ", text).strip()


def strip_punctuation(text: str) -> str:
    return re.sub(r"[^\w\s]", "", text)


def clean(text: str) -> str:
    return collapse_whitespace(strip_punctuation(text)).lower()
