from ranking.scoring import is_stopword, normalize, score

RANKERS = {
    "score": lambda w: -score(w),
    "alpha": lambda w: normalize(w),
}


def keywords(text: str) -> list[str]:
    words = [normalize(w) for w in text.split() if not is_stopword(w)]
    return sorted(set(words), key=lambda w: (-score(w), w))


def histogram(words: list[str]) -> dict[str, int]:
    return {normalize(w): score(w) for w in words}


def unique_roots(words: list[str]) -> set[str]:
    return {normalize(w)[:3] for w in words}


def rank(words: list[str], how: str = "score") -> list[str]:
    return sorted(words, key=RANKERS[how])
