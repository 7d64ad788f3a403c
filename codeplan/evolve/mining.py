"""Mining one commit's co-changes: which changed production blocks and which changed tests
pair up, given the Python files the commit changed, before and after.

Pure work on file contents (no git, no database): the experience bank
(codeplan/evolve/experiences.py) mines with `BANK_RULES`, the "history" evidence
(codeplan/evolve/history.py) with rules of its own.  A change to `BANK_RULES` or to the
limits here changes what the bank holds: bump the bank's SCHEMA_VERSION with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from codeplan.edit.apply import block_text
from codeplan.evolve.model import Experience
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind
from codeplan.graph.python import PythonAnalyzer
from codeplan.graph.records import FileFacts
from codeplan.impact.diff import BlockChange, diff_blocks
from codeplan.impact.erasure import same_at_runtime
from codeplan.validate.parsers import is_test_path

MAX_BLOCK_LINES = 200
MAX_PAIRS_PER_COMMIT = 20

Extract = Callable[[str, bytes], FileFacts]
_PRODUCTION_KINDS = frozenset({BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.CLASS})
_TEST_KINDS = frozenset({BlockKind.FUNCTION, BlockKind.METHOD})


@dataclass(frozen=True)
class CoChangeRules:
    """Which changed blocks of one commit pair up as co-changes, and how many pairs it
    gives.  The bank's are `BANK_RULES`; the "history" evidence has its own
    (codeplan/evolve/history.py)."""

    # the block a change of production code is recorded as; None: not one
    production: Callable[[BlockChange], Block | None]
    # likewise for a test function; the graph holds the blocks before the commit
    test: Callable[[BlockChange, CodeGraph], Block | None]
    named: bool = True  # the test's text after the commit must name the production block
    max_lines: int | None = MAX_BLOCK_LINES  # a pair with a longer block is left out
    max_pairs: int | None = MAX_PAIRS_PER_COMMIT  # tests named after the block first
    strict: bool = True  # a changed file that does not parse skips the whole commit


def _bank_production(change: BlockChange) -> Block | None:
    # a production block that did not exist before has no change to learn from
    old, new = change.old, change.new
    if old is None or new is None or new.kind not in _PRODUCTION_KINDS or is_test_path(new.path):
        return None
    return new


def _bank_test(change: BlockChange, graph: CodeGraph) -> Block | None:
    new = change.new
    if new is None or new.kind not in _TEST_KINDS or not new.name.startswith("test"):
        return None
    return new if is_test_path(new.path) else None


BANK_RULES = CoChangeRules(_bank_production, _bank_test)


def mine_commit(
    sha: str,
    message: str,
    old_sources: dict[str, bytes],
    new_sources: dict[str, bytes],
    extract: Extract | None = None,
    rules: CoChangeRules = BANK_RULES,
) -> list[Experience] | None:
    """The co-change pairs of one commit from the Python files it changed, before and
    after (by path); None when a changed file does not parse and the rules are strict."""
    extract = extract or PythonAnalyzer().extract
    old_blocks, old_broken = parse_files(old_sources, extract)
    new_blocks, new_broken = parse_files(new_sources, extract)
    if rules.strict and (old_broken or new_broken):
        return None
    changed = diff_blocks(old_blocks, new_blocks, old_sources, new_sources)
    old_graph = graph_of(old_blocks)
    productions = [(b, c) for c in changed if (b := rules.production(c)) is not None]
    tests = [(b, c) for c in changed if (b := rules.test(c, old_graph)) is not None]
    pairs: list[tuple[bool, Experience]] = []
    for prod, prod_change in productions:
        prod_texts = _texts(prod_change, old_sources, new_sources, rules.max_lines)
        if prod_texts is None or same_at_runtime(*prod_texts):
            continue  # reformatted, or only its annotations or docstring changed
        mention = re.compile(rf"\b{re.escape(_mention_name(prod))}\b")
        for test, test_change in tests:
            test_texts = _texts(test_change, old_sources, new_sources, rules.max_lines)
            if test_texts is None or same_at_runtime(*test_texts):
                continue
            if rules.named and not mention.search(test_texts[1]):
                continue
            experience = Experience(
                sha, message, prod.path, prod.qualname, *prod_texts, test.path, test.qualname,
                *test_texts,
            )  # fmt: skip
            pairs.append((_mention_name(prod).lower() not in test.name.lower(), experience))
    if rules.max_pairs is not None:
        # tests named after the block they exercise first (a stable sort keeps diff order)
        pairs.sort(key=lambda pair: pair[0])
        pairs = pairs[: rules.max_pairs]
    return [experience for _, experience in pairs]


def parse_files(sources: dict[str, bytes], extract: Extract) -> tuple[list[Block], bool]:
    """The blocks of some files, and whether one of them does not parse."""
    blocks: list[Block] = []
    broken = False
    for path, source in sources.items():
        facts = extract(path, source)
        broken = broken or bool(facts.syntax_error_lines)
        blocks.extend(facts.blocks)
    return blocks, broken


def graph_of(blocks: Iterable[Block]) -> CodeGraph:
    """A graph of the blocks without relations (enough for `is_test`'s look at a method's
    class)."""
    graph = CodeGraph()
    for block in blocks:
        graph.add_block(block)
    return graph


def _texts(
    change: BlockChange,
    old_sources: dict[str, bytes],
    new_sources: dict[str, bytes],
    max_lines: int | None,
) -> tuple[str, str] | None:
    """A block's text before and after ("" for a side that is absent); None when a side
    is too long or not UTF-8."""
    before = _text(change.old, old_sources, max_lines)
    after = _text(change.new, new_sources, max_lines)
    return None if before is None or after is None else (before, after)


def _text(block: Block | None, sources: dict[str, bytes], max_lines: int | None) -> str | None:
    """The block's text from the start of its first line."""
    if block is None:
        return ""
    if max_lines is not None and block.end_line - block.start_line + 1 > max_lines:
        return None
    try:
        return block_text(sources[block.path], block)
    except UnicodeDecodeError:
        return None


def _mention_name(block: Block) -> str:
    """What a test calls to exercise the block: a constructor is reached through its class."""
    if block.kind is BlockKind.METHOD and block.name == "__init__" and "." in block.qualname:
        return block.qualname.split(".")[-2]
    return block.name
