"""Test support for the planner: the example's codemod editor, and the same change as a
scripted chat-completions answer (for the tests that go through the LLM editor)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from swap_price_arguments import (
    NEW_SIGNATURE,
    OLD_SIGNATURE,
    TASK,
    SwapPriceArguments,
    swapped,
)

__all__ = ["NEW_SIGNATURE", "OLD_SIGNATURE", "TASK", "SwapPriceArguments", "chat_answer"]

_BLOCK = re.compile(r"The block:\n(?P<fence>`{3,})\w*\n(?P<code>.*?)\n(?P=fence)", re.S)


_CANDIDATE = re.compile(
    r"### \[(?P<number>\d+)\][^\n]*\n(?:- [^\n]*\n)*(?P<fence>`{3,})\w*\n(?P<code>.*?)\n(?P=fence)",
    re.S,
)


def chat_answer(body: dict) -> str:  # type: ignore[type-arg]
    """A scripted chat-completions answer for the same change: the code to change is read
    back from the prompt and answered as a fenced block, or NO CHANGE; a triage is answered
    with the candidates the change rewrites."""
    user = body["messages"][-1]["content"]
    if "## Blocks that may need a change" in user:
        chosen = [m["number"] for m in _CANDIDATE.finditer(user) if swapped(m["code"])]
        return f"CHANGE: {', '.join(chosen) or 'NONE'}"
    block = _BLOCK.search(user)
    if block is None:
        return "NO CHANGE"
    new = swapped(block.group("code"))
    return "NO CHANGE" if new is None else f"```python\n{new}\n```"
