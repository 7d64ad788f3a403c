import re
from collections.abc import Iterator


def iter_links(html: str) -> Iterator[str]:
    for match in re.finditer(r"<a>(.*?)</a>", html):
        yield match.group(1)


def absolute(base: str, link: str) -> str:
    return link if "://" in link else base.rstrip("/") + "/" + link.lstrip("/")
