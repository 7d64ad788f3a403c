"""Seeds from a task alone: the LLM picks them from a map of the repository's blocks.

The map lists block ids with their kind and signature, blocks whose names share words with
the task first, then the most depended-upon ones, cut to a character budget.  The answer
is checked against the graph: ids the graph does not know are dropped, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jinja2

from codeplan.errors import PlanError
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind
from codeplan.resources import data_dir

Complete = Callable[[list[dict[str, str]]], str]

_MAPPED_KINDS = (BlockKind.CLASS, BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.FIELD)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")


def pick_seeds(
    task: str, graph: CodeGraph, complete: Complete, map_chars: int = 24_000
) -> list[Block]:
    lines, truncated = repository_map(task, graph, map_chars)
    template = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("prompts")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    ).get_template("pick_seeds.j2")
    prompt = template.render(task=task, blocks=lines, truncated=truncated)
    answer = complete([{"role": "user", "content": prompt}])
    picked: dict[str, Block] = {}
    for token in re.findall(r"[^\s`'\",]+::[^\s`'\",]+|[^\s`'\",]+\.py\b", answer):
        block = graph.get(token.strip())
        if block is not None:
            picked[block.id] = block
    if not picked:
        raise PlanError(
            "the model named no block of this repository as a seed; give --seed PATH::QUALNAME"
        )
    return list(picked.values())


def repository_map(task: str, graph: CodeGraph, budget: int) -> tuple[list[str], int]:
    words = {w.lower() for w in _WORD.findall(task) if len(w) > 2}
    candidates = [b for b in graph.blocks() if b.kind in _MAPPED_KINDS]

    def rank(block: Block) -> tuple[int, int, str]:
        name_words = {w.lower() for w in _WORD.findall(block.qualname.replace("_", " "))}
        overlap = len(words & name_words) + (block.name.lower() in words) * 2
        incoming = len(graph.related(block.id, inverse=True))
        return (-overlap, -incoming, block.id)

    lines, spent = [], 0
    ordered = sorted(candidates, key=rank)
    for block in ordered:
        line = f"{block.id}  [{block.kind.value}]  {block.signature.strip()[:160]}"
        if spent + len(line) > budget:
            break
        lines.append(line)
        spent += len(line) + 1
    return lines, len(ordered) - len(lines)
