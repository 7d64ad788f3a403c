from textkit.cleaning import clean as normalise


def tokenize(text: str) -> list[str]:
    return normalise(text).split(" ")


def count_tokens(text: str) -> int:
    return len(tokenize(text))
