"""Finding past co-changes like a new production change: BM25 over identifier tokens.

Code is compared through the words of its identifiers (`priceWithTax` and `price_with_tax`
both say price, with, tax), so a change to one function finds changes to functions about
the same things.  An experience's document is its production change, its names and its
commit message; the lines the change added or removed count more than the unchanged rest,
since they say what the change is about.  A new change becomes a query the same way.
Everything here is pure: the same experiences and query always give the same ranking.
"""

from __future__ import annotations

import difflib
import keyword
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from codeplan.evolve.model import Experience, ProductionChange

__all__ = [
    "ExperienceIndex",
    "ProductionChange",
    "change_terms",
    "changed_lines",
    "experience_terms",
    "query_terms",
    "tokenize",
]

K1 = 1.5
B = 0.75
DIFF_WEIGHT = 3  # each token of an added or removed line counts this many times
NAME_WEIGHT = 2  # the changed block's qualname and module

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# ACRONYMWord -> ACRONYM, Word; camelCase -> camel, Case; digits apart
_WORD_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# words in every Python change, which only blur the ranking
_STOP_WORDS = frozenset(
    {word.lower() for word in keyword.kwlist} | {"self", "cls", "args", "kwargs", "the"}
)


def tokenize(text: str) -> list[str]:
    """Lower-case identifier words, and each compound identifier whole (rarer, so it tells
    more), in order; keywords, one-letter words and numbers left out."""
    tokens: list[str] = []
    for identifier in _IDENTIFIER.findall(text):
        parts = [part.lower() for part in _WORD_PART.findall(identifier)]
        words = [p for p in parts if len(p) > 1 and not p.isdigit() and p not in _STOP_WORDS]
        tokens.extend(words)
        whole = identifier.strip("_").lower()
        if len(parts) > 1 and whole not in _STOP_WORDS:
            tokens.append(whole)
    return tokens


def changed_lines(before: str, after: str) -> list[str]:
    """The lines removed from `before` and added in `after` (difflib's line matching)."""
    old, new = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    lines: list[str] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag != "equal":
            lines.extend(old[old_start:old_end])
            lines.extend(new[new_start:new_end])
    return lines


def change_terms(change: ProductionChange) -> Counter[str]:
    """A change's weighted bag of tokens: changed lines, then names, then the whole text."""
    terms: Counter[str] = Counter()
    for token in tokenize("\n".join(changed_lines(change.before, change.after))):
        terms[token] += DIFF_WEIGHT
    module = change.path.rsplit("/", 1)[-1].removesuffix(".py")
    for token in tokenize(f"{change.qualname} {module}"):
        terms[token] += NAME_WEIGHT
    terms.update(tokenize(change.after or change.before))
    return terms


def experience_terms(experience: Experience) -> Counter[str]:
    """An experience's document: its production change, its test's name, its message."""
    terms = change_terms(
        ProductionChange(
            experience.production_path,
            experience.production_qualname,
            experience.production_before,
            experience.production_after,
        )
    )
    terms.update(tokenize(f"{experience.test_qualname} {experience.message}"))
    return terms


def query_terms(query: str | ProductionChange) -> Counter[str]:
    if isinstance(query, ProductionChange):
        return change_terms(query)
    return Counter(tokenize(query))


@dataclass(frozen=True)
class ExperienceIndex:
    """An in-memory BM25 index (k1=1.5, b=0.75) over experiences, in their given order."""

    experiences: tuple[Experience, ...]
    # term -> [(document, term frequency)], documents in increasing order
    postings: Mapping[str, tuple[tuple[int, int], ...]]
    lengths: tuple[int, ...]
    average_length: float

    @classmethod
    def build(cls, experiences: Iterable[Experience]) -> ExperienceIndex:
        items = tuple(experiences)
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths = []
        for number, experience in enumerate(items):
            terms = experience_terms(experience)
            lengths.append(sum(terms.values()))
            for term, frequency in terms.items():
                postings.setdefault(term, []).append((number, frequency))
        average = sum(lengths) / len(lengths) if lengths else 0.0
        frozen = {term: tuple(entries) for term, entries in postings.items()}
        return cls(items, frozen, tuple(lengths), average)

    def idf(self, term: str) -> float:
        """Lucene's non-negative BM25 idf: a term in fewer documents weighs more."""
        count, found = len(self.experiences), len(self.postings.get(term, ()))
        return math.log(1.0 + (count - found + 0.5) / (found + 0.5))

    def scores(self, query: str | ProductionChange) -> dict[int, float]:
        """Each matching document's BM25 score; a query term counts as often as it occurs."""
        totals: dict[int, float] = {}
        for term, weight in sorted(query_terms(query).items()):
            idf = self.idf(term)
            for number, frequency in self.postings.get(term, ()):
                norm = K1 * (1.0 - B + B * self.lengths[number] / self.average_length)
                gain = weight * idf * frequency * (K1 + 1.0) / (frequency + norm)
                totals[number] = totals.get(number, 0.0) + gain
        return totals

    def search(self, query: str | ProductionChange, k: int = 5) -> list[tuple[Experience, float]]:
        """The k best experiences, best first; equal scores keep the index's order (the
        bank's: newest commit first)."""
        ranked = sorted(self.scores(query).items(), key=lambda item: (-item[1], item[0]))
        return [(self.experiences[number], score) for number, score in ranked[: max(k, 0)]]
