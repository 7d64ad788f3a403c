"""Python, first-class: tree-sitter extraction plus scope- and import-aware resolution."""

from __future__ import annotations

import hashlib
import io
import operator
import pickle
import sys
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Tree

from codeplan.graph.analyzer import ResolutionIndex
from codeplan.graph.model import Block, content_hash
from codeplan.graph.python.exprs import reading
from codeplan.graph.python.extract import PythonExtractor, module_name_for
from codeplan.graph.python.lookup import KEY_PREFIX
from codeplan.graph.python.resolve import PythonResolver
from codeplan.graph.records import FileFacts, PackedBlocks

__all__ = ["PythonAnalyzer", "module_name_for", "parse_python"]

# Bump whenever extraction output changes: cached facts of older versions are ignored.
# 5: interface hashed from a memo-less pickle; 6: repeated references recorded once
_EXTRACTION_VERSION = "python-7"
_DEEP_STACK_BYTES = 512 * 1024 * 1024
_DEEP_RECURSION_LIMIT = 1_000_000
# what other files may consult of a block, read from its row (see `Block.to_row`)
_INTERFACE_FIELDS = operator.itemgetter(
    *(Block._fields.index(name) for name in ("id", "kind", "signature", "decorators"))
)


class PythonAnalyzer:
    language = "python"
    extensions = (".py",)
    version = _EXTRACTION_VERSION

    def extract(self, path: str, source: bytes) -> FileFacts:
        tree = parse_python(source)
        module = module_name_for(path)
        extractor = PythonExtractor(path, source, module)
        try:
            with reading(source):
                data = extractor.run(tree.root_node)
        except RecursionError:
            # generated code nests deeper than Python's stack allows: walk it again on a
            # thread with a bigger stack rather than losing the file
            extractor = PythonExtractor(path, source, module)
            data = _run_with_deep_stack(lambda: extractor.run(tree.root_node))
        rows = tuple(extractor.block_rows)
        module_block = Block.from_row(rows[0])
        whole = module_block.start_byte == 0 and module_block.end_byte == len(source)
        return FileFacts(
            path=path,
            language=self.language,
            analyzer_version=self.version,
            # the module block usually spans the whole file: its hash is the file's
            content_hash=module_block.content_hash if whole else content_hash(source),
            blocks=PackedBlocks.of_rows(rows),
            interface_hash=_interface_hash(extractor, data),
            provides=frozenset({KEY_PREFIX + module}),
            syntax_error_lines=_error_lines(tree.root_node) if tree.root_node.has_error else (),
            data=data,
        )

    def resolver(self, index: ResolutionIndex) -> PythonResolver:
        return PythonResolver(index)


@cache
def _python_parser() -> Parser:
    return Parser(Language(tree_sitter_python.language()))


def parse_python(source: bytes) -> Tree:
    """A tree-sitter tree of Python source (one parser per process, made on first use)."""
    return _python_parser().parse(source)


def _interface_hash(extractor: PythonExtractor, data: dict[str, Any]) -> str:
    """Hash what other files' resolution may consult: not positions, not body references,
    not plain local variables (returns and fields were already expressed without them)."""
    scopes = {
        sid: scope.interface if scope.kind == "function" else scope.bindings
        for sid, scope in extractor.scopes.items()
    }
    interface = {
        "blocks": [_INTERFACE_FIELDS(row) for row in extractor.block_rows],
        "scopes": scopes,
        "parents": {sid: s["parent"] for sid, s in data["scopes"].items()},
        **{k: data[k] for k in ("imports", "stars", "classes", "functions", "fields", "all")},
    }
    return hashlib.blake2b(_canonical_bytes(interface), digest_size=16).hexdigest()


def _canonical_bytes(value: object) -> bytes:
    """Bytes that are equal for equal JSON-shaped values built in the same order (dicts
    keep the order in which extraction filled them, which follows the source).  A pickle
    without its memo: the memo would encode whether two equal parts are one object, and
    marshal whether a string is interned.  Two and a half times faster than JSON, whose
    encoding was a tenth of extraction."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo: a part that appears twice is written twice, as in JSON
    pickler.dump(value)
    return buffer.getvalue()


def _run_with_deep_stack(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(work())
        except BaseException as error:  # re-raised in the calling thread
            errors.append(error)

    previous_limit = sys.getrecursionlimit()
    previous_stack = threading.stack_size(_DEEP_STACK_BYTES)
    sys.setrecursionlimit(_DEEP_RECURSION_LIMIT)
    try:
        worker = threading.Thread(target=target, name="codeplan-deep-extract")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous_stack)
        sys.setrecursionlimit(previous_limit)
    if errors:
        raise errors[0]
    return results[0]


def _error_lines(root: Node) -> tuple[int, ...]:
    lines: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            lines.add(node.start_point[0] + 1)
        elif node.has_error:
            stack.extend(node.children)
    return tuple(sorted(lines))
