import re

TOKEN = re.compile(r"\d+|[-+*()]")


def tokenize(src: str) -> list[str]:
    return TOKEN.findall(src)
