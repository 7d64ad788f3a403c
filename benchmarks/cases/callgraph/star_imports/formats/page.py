# ruff: noqa: F403, F405
from formats.base import _escape
from formats.common import *
from formats.html import *


def build_page(title: str, body: str) -> str:
    heading = tag("h1", quote(title))
    return tag("body", heading + render(_escape(body)))
