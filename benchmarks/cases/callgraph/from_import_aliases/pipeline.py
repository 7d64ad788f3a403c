import textkit.tokens as tok
from textkit.cleaning import collapse_whitespace
from textkit.tokens import count_tokens as n_tokens


def summarize(doc: str) -> dict[str, object]:
    head = collapse_whitespace(doc)[:40]
    return {"head": head, "tokens": tok.tokenize(doc), "count": n_tokens(doc)}
