STOPWORDS = {"the", "a", "an"}


def normalize(word: str) -> str:
    return word.strip().lower()


def score(word: str) -> int:
    return sum(ord(c) for c in normalize(word)) % 97


def is_stopword(word: str) -> bool:
    return normalize(word) in STOPWORDS
