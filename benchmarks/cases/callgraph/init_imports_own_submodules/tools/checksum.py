import hashlib


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def verify(text: str, expected: str) -> bool:
    return digest(text) == expected
