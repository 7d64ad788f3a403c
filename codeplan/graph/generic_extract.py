"""Turn one file into `FileFacts` by running a language's three query files over its tree.

The queries say *what* is a definition, an import or a reference (see the capture
vocabulary at the top of each `analyzers/<language>/*.scm`); this module only knows how to
nest definitions into blocks, name them, attribute references to their owner block and
record everything the resolver needs in `FileFacts.data`.
"""

from __future__ import annotations

import json
import posixpath
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tree_sitter import Language, Node, Parser, Query, QueryCursor

from codeplan.graph.model import Block, BlockKind, block_id, content_hash
from codeplan.graph.records import FileFacts

# Blocks that own the references inside them; fields and imports defer to their parent.
OWNER_KINDS = frozenset({BlockKind.MODULE, BlockKind.CLASS, BlockKind.FUNCTION, BlockKind.METHOD})

_DEFINITION_KINDS = {
    "class": BlockKind.CLASS,
    "function": BlockKind.FUNCTION,
    "method": BlockKind.METHOD,
    "constructor": BlockKind.METHOD,
    "field": BlockKind.FIELD,
}
_REFERENCE_KINDS = ("call", "new", "extends", "implements", "field", "identifier")
_SIGNATURE_LIMIT = 400
_MAX_ERROR_WIDTH = 20_000
_MAX_RECEIVER_BYTES = 200
_MATCH_LIMIT = 1024  # a field initialised with a huge literal must not bloat the facts
_DOTTED_NAME = re.compile(r"[\w$#]+(?:\.[\w$#]+)*")


class Reference(NamedTuple):
    """A use of a name.  `receiver` is None for a bare name, "" for a complex expression."""

    kind: str  # one of _REFERENCE_KINDS
    owner: str
    name: str
    receiver: str | None
    line: int
    arity: int | None


class Binding(NamedTuple):
    """A local variable, parameter or field, with its class when the source says it."""

    owner: str
    name: str
    type: str | None


@dataclass(frozen=True)
class ImportRecord:
    """One import statement: where it imports from and which local names it binds."""

    block: str
    source: str
    line: int
    names: tuple[tuple[str, str], ...] = ()  # (imported name, local name)
    default: str | None = None  # local name of the default export
    namespace: str | None = None  # local name of the whole module
    wildcard: bool = False
    reexport: bool = False  # `export ... from`: binds nothing locally

    @property
    def local_names(self) -> tuple[str, ...]:
        bound = [local for _, local in self.names]
        bound += [n for n in (self.default, self.namespace) if n is not None]
        return tuple(bound)

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "source": self.source,
            "line": self.line,
            "names": [list(pair) for pair in self.names],
            "default": self.default,
            "namespace": self.namespace,
            "wildcard": self.wildcard,
            "reexport": self.reexport,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportRecord:
        return cls(
            block=data["block"],
            source=data["source"],
            line=data["line"],
            names=tuple((pair[0], pair[1]) for pair in data["names"]),
            default=data["default"],
            namespace=data["namespace"],
            wildcard=data["wildcard"],
            reexport=data["reexport"],
        )


@dataclass(frozen=True)
class CompiledQueries:
    """A grammar with the language's three query files compiled against it."""

    language: Language
    blocks: Query
    imports: Query
    references: Query


@dataclass
class _Entry:
    """A definition or import found by the queries, before it becomes a `Block`."""

    node: Node
    kind: BlockKind
    names: list[str] = field(default_factory=list)
    body_start: int | None = None
    arity: int | None = None
    constructor: bool = False
    source: str = ""  # imports only, from here down
    imported: list[tuple[str, str]] = field(default_factory=list)
    default: str | None = None
    namespace: str | None = None
    wildcard: bool = False
    reexport: bool = False
    bound_at: dict[str, int] = field(default_factory=dict)  # local name -> byte offset


def module_name(path: str) -> str:
    """`src/app/util.ts` -> `src.app.util`."""
    return posixpath.splitext(path)[0].replace("/", ".")


def extract_facts(
    language: str,
    version: str,
    queries: CompiledQueries,
    path: str,
    source: bytes,
    *,
    implicit_this: bool,
    package_scoped: bool,
) -> FileFacts:
    root = Parser(queries.language).parse(source).root_node
    module = module_name(path)
    error_lines, widest_error = _syntax_errors(root)
    # Tree-sitter's query cursor is quadratic in an ERROR node's width (a file of 100k
    # stray brackets takes minutes): such a file keeps only its module block.
    readable = widest_error <= _MAX_ERROR_WIDTH
    entries: dict[Node, _Entry] = {}
    name_nodes: set[tuple[int, int]] = set()
    default_nodes: list[Node] = []
    default_names: set[str] = set()
    package = ""
    if readable:
        entries, name_nodes, default_nodes, default_names = _definitions(
            queries.blocks, root, source
        )
        import_entries, package = _imports(queries.imports, root, source)
        entries.update(import_entries)
    ordered = sorted(entries.values(), key=lambda e: (e.node.start_byte, -e.node.end_byte))
    blocks = _blocks(language, path, module, source, root, ordered)
    by_node = {entry.node: block for entry, block in zip(ordered, blocks[1:], strict=True)}

    definitions = [
        [name, block.id]
        for entry, block in zip(ordered, blocks[1:], strict=True)
        if entry.kind is not BlockKind.IMPORT
        for name in entry.names
    ]
    imports = [
        ImportRecord(
            block=by_node[e.node].id,
            source=e.source,
            line=e.node.start_point.row + 1,
            names=tuple(e.imported),
            default=e.default,
            namespace=e.namespace,
            wildcard=e.wildcard,
            reexport=e.reexport,
        )
        for e in ordered
        if e.kind is BlockKind.IMPORT
    ]
    bound_by_imports = {n for record in imports if not record.reexport for n in record.local_names}
    field_names = {
        name for entry in ordered if entry.kind is BlockKind.FIELD for name in entry.names
    }
    references, bindings = _references(
        queries.references if readable else None,
        root,
        source,
        _OwnerFinder(blocks),
        keep_identifier=lambda name: (
            name in bound_by_imports or (implicit_this and name in field_names)
        ),
        skip_nodes=name_nodes,
    )
    typed_locals = {b.name for b in bindings if b.type is not None}
    references = [
        r
        for r in references
        if r.kind != "field"
        or r.receiver in ("this", "super")
        or r.name in field_names
        or r.receiver in typed_locals
    ]
    default_export = next((by_node[n].id for n in default_nodes if n in by_node), None)
    if default_export is None:
        default_export = next((bid for name, bid in definitions if name in default_names), None)

    data: dict[str, Any] = {
        "package": package,
        "definitions": definitions,
        "constructors": [by_node[e.node].id for e in ordered if e.constructor],
        "arity": {by_node[e.node].id: e.arity for e in ordered if e.arity is not None},
        "default_export": default_export,
        "imports": [record.to_json() for record in imports],
        "references": [list(r) for r in references],
        "bindings": [list(b) for b in bindings],
    }
    provides = {f"{language}:module:{module}"}
    provides.update(f"{language}:name:{name}" for name, _ in definitions)
    if package_scoped:
        provides.add(f"{language}:package:{package}")
    return FileFacts(
        path=path,
        language=language,
        analyzer_version=version,
        content_hash=content_hash(source),
        blocks=tuple(blocks),
        interface_hash=_interface_hash(blocks, data),
        provides=frozenset(provides),
        syntax_error_lines=error_lines,
        data=data,
    )


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _count(node: Node) -> int | None:
    """How many arguments or parameters a list holds; None when variadic."""
    items = [c for c in node.named_children if c.type != "comment"]
    if any("spread" in c.type or "rest" in c.type for c in items):
        return None
    return len(items)


def _matches(query: Query, root: Node) -> Iterable[dict[str, list[Node]]]:
    # Bounding the matches in progress keeps deeply nested input (`a.a.a...` 50k deep)
    # linear; ordinary code never has this many open at once.
    for _, captures in QueryCursor(query, match_limit=_MATCH_LIMIT).matches(root):
        yield captures


def _definitions(
    query: Query, root: Node, source: bytes
) -> tuple[dict[Node, _Entry], set[tuple[int, int]], list[Node], set[str]]:
    """Definition entries, the byte ranges of their names, and the default export's node
    or name."""
    entries: dict[Node, _Entry] = {}
    name_ranges: set[tuple[int, int]] = set()
    default_nodes: list[Node] = []
    default_names: set[str] = set()
    for captures in _matches(query, root):
        default_nodes += captures.get("export.default", [])
        default_names.update(_text(source, n) for n in captures.get("export.default_name", []))
        tag = next((k for k in captures if k.startswith("definition.")), None)
        names = captures.get("name", [])
        if tag is None or tag[len("definition.") :] not in _DEFINITION_KINDS or not names:
            continue
        node = captures[tag][0]
        kind_name = tag[len("definition.") :]
        # Several patterns (method + constructor) and several matches (one per declarator
        # of `int a, b;`) describe the same node: merge them into one entry.
        entry = entries.setdefault(node, _Entry(node, _DEFINITION_KINDS[kind_name]))
        entry.constructor |= kind_name == "constructor"
        for name_node in names:
            name_ranges.add((name_node.start_byte, name_node.end_byte))
            name = _text(source, name_node)
            if name not in entry.names:
                entry.names.append(name)
        if entry.body_start is None and captures.get("body"):
            entry.body_start = captures["body"][0].start_byte
        if entry.arity is None and captures.get("parameters"):
            entry.arity = _count(captures["parameters"][0])
    return entries, name_ranges, default_nodes, default_names


def _imports(query: Query, root: Node, source: bytes) -> tuple[dict[Node, _Entry], str]:
    entries: dict[Node, _Entry] = {}
    package = ""
    for captures in _matches(query, root):
        if captures.get("package"):
            package = "".join(_text(source, captures["package"][0]).split())
        statement = captures.get("import") or captures.get("reexport")
        if not statement:
            continue
        entry = entries.setdefault(statement[0], _Entry(statement[0], BlockKind.IMPORT))
        entry.reexport = "reexport" in captures
        if captures.get("import.source"):
            entry.source = "".join(_text(source, captures["import.source"][0]).split())
        for imported in captures.get("import.name", []):
            local_node = (captures.get("import.alias") or [imported])[0]
            pair = (_text(source, imported), _text(source, local_node))
            if pair not in entry.imported:
                entry.imported.append(pair)
            entry.bound_at[pair[1]] = local_node.start_byte
        for local_node in captures.get("import.default", []):
            entry.default = _text(source, local_node)
            entry.bound_at[entry.default] = local_node.start_byte
        for local_node in captures.get("import.namespace", []):
            entry.namespace = _text(source, local_node)
            entry.bound_at[entry.namespace] = local_node.start_byte
        entry.wildcard |= "import.wildcard" in captures
    for entry in entries.values():
        bound = sorted(entry.bound_at, key=entry.bound_at.__getitem__)  # in source order
        label = ",".join(bound) or entry.source + (".*" if entry.wildcard else "")
        entry.names = [f"import:{label}"]
    return entries, package


def _blocks(
    language: str, path: str, module: str, source: bytes, root: Node, ordered: list[_Entry]
) -> list[Block]:
    """The module block followed by one block per entry, in the entries' order."""
    module_block = Block(
        id=block_id(path, ""),
        kind=BlockKind.MODULE,
        language=language,
        path=path,
        module=module,
        qualname="",
        start_line=1,
        end_line=max(1, root.end_point.row + 1),
        start_byte=0,
        end_byte=len(source),
        signature="",
        content_hash=content_hash(source),
    )
    blocks = [module_block]
    enclosing: list[Block] = []  # the chain of blocks containing the current entry
    seen: dict[str, int] = {}
    for entry in ordered:
        node = entry.node
        while enclosing and node.end_byte > enclosing[-1].end_byte:
            enclosing.pop()
        parent = enclosing[-1] if enclosing else module_block
        if entry.kind is BlockKind.IMPORT or not parent.qualname:
            qualname = entry.names[0]
        else:
            qualname = f"{parent.qualname}.{entry.names[0]}"
        seen[qualname] = seen.get(qualname, 0) + 1
        if seen[qualname] > 1:  # Java overloads, JS redefinitions: number them in order
            qualname = f"{qualname}#{seen[qualname]}"
        header_end = entry.body_start if entry.body_start is not None else node.end_byte
        header = source[node.start_byte : header_end].decode("utf-8", errors="replace")
        block = Block(
            id=block_id(path, qualname),
            kind=entry.kind,
            language=language,
            path=path,
            module=module,
            qualname=qualname,
            start_line=node.start_point.row + 1,
            end_line=node.end_point.row + 1,
            start_byte=node.start_byte,
            end_byte=node.end_byte,
            signature=_signature(header, entry.kind),
            content_hash=content_hash(source[node.start_byte : node.end_byte]),
            parent=parent.id,
        )
        blocks.append(block)
        enclosing.append(block)
    return blocks


def _signature(header: str, kind: BlockKind) -> str:
    signature = " ".join(header.split())[:_SIGNATURE_LIMIT]
    # A field's header ends with the `=` before its initial value, or with `;`.
    return signature.rstrip("=; ") if kind is BlockKind.FIELD else signature


class _OwnerFinder:
    """Finds the innermost owner block of a byte range in O(log n + nesting depth)."""

    def __init__(self, blocks: list[Block]) -> None:
        # `blocks` is the module block then the others sorted by (start, -end), so the last
        # block starting at or before a position is the innermost one or a descendant of
        # a sibling; walking up its parents reaches the innermost container.
        self._blocks = blocks
        self._starts = [b.start_byte for b in blocks]
        self._by_id = {b.id: b for b in blocks}

    def owner(self, start: int, end: int) -> Block | None:
        """The owner block, or None when the range lies inside an import statement."""
        block: Block | None = self._blocks[max(0, bisect_right(self._starts, start) - 1)]
        while block is not None and not (block.start_byte <= start and end <= block.end_byte):
            block = self._by_id.get(block.parent) if block.parent else None
        if block is None:
            return self._blocks[0]
        if block.kind is BlockKind.IMPORT:
            return None
        while block.kind not in OWNER_KINDS and block.parent:
            block = self._by_id[block.parent]
        return block


def _references(
    query: Query | None,
    root: Node,
    source: bytes,
    owners: _OwnerFinder,
    *,
    keep_identifier: Callable[[str], bool],
    skip_nodes: set[tuple[int, int]],
) -> tuple[list[Reference], list[Binding]]:
    references: dict[Reference, tuple[int, int]] = {}  # an ordered set, with name ranges
    bindings: dict[tuple[str, str], str | None] = {}
    for captures in _matches(query, root) if query is not None else ():
        if captures.get("binding.name"):
            node = captures["binding.name"][0]
            owner = owners.owner(node.start_byte, node.end_byte)
            if owner is not None:
                types = captures.get("binding.type")
                key = (owner.id, _text(source, node))
                # Patterns overlap (typed and untyped); the first known class wins.
                if bindings.get(key) is None:
                    bindings[key] = _text(source, types[0]) if types else None
            continue
        kind = next((k for k in _REFERENCE_KINDS if f"reference.{k}" in captures), None)
        if kind is None:
            continue
        node = captures[f"reference.{kind}"][0]
        name = _text(source, node)
        if kind == "identifier" and (
            (node.start_byte, node.end_byte) in skip_nodes or not keep_identifier(name)
        ):
            continue
        owner = owners.owner(node.start_byte, node.end_byte)
        if owner is None:
            continue
        receiver: str | None = None
        if captures.get("reference.receiver"):
            receiver_node = captures["reference.receiver"][0]
            receiver = ""  # a complex expression; long ones are not even read (a.a.a...)
            if receiver_node.end_byte - receiver_node.start_byte <= _MAX_RECEIVER_BYTES:
                text = "".join(_text(source, receiver_node).split())
                receiver = text if _DOTTED_NAME.fullmatch(text) else ""
        arguments = captures.get("reference.arguments")
        arity = _count(arguments[0]) if arguments else None
        line = node.start_point.row + 1
        reference = Reference(kind, owner.id, name, receiver, line, arity)
        references.setdefault(reference, (node.start_byte, node.end_byte))
    # A callee or a `new`-ed class is also an identifier: its own reference covers it.
    specific = {span for ref, span in references.items() if ref.kind != "identifier"}
    kept = [r for r, span in references.items() if r.kind != "identifier" or span not in specific]
    return kept, [Binding(o, n, t) for (o, n), t in bindings.items()]


def _interface_hash(blocks: list[Block], data: Mapping[str, Any]) -> str:
    """Hash what other files consult: definitions, imports, bases, not positions or calls."""
    shape = {
        "blocks": [(b.id, b.kind.value, b.parent, b.signature) for b in blocks],
        # A base reference's line is a position: leave it out.
        "bases": [r[:4] for r in data["references"] if r[0] in ("extends", "implements")],
        "imports": [{k: v for k, v in i.items() if k != "line"} for i in data["imports"]],
        **{k: data[k] for k in ("package", "definitions", "constructors", "arity")},
        "default_export": data["default_export"],
    }
    return content_hash(json.dumps(shape, sort_keys=True).encode())


def _syntax_errors(root: Node) -> tuple[tuple[int, ...], int]:
    """Lines of ERROR and MISSING nodes, and the most children any ERROR node has."""
    if not root.has_error:
        return (), 0
    lines: set[int] = set()
    widest = 0
    pending = [root]
    while pending:  # iterative: deeply nested input must not exhaust the Python stack
        node = pending.pop()
        if node.is_error or node.is_missing:
            lines.add(node.start_point.row + 1)
            widest = max(widest, node.child_count)
        pending.extend(c for c in node.children if c.has_error or c.is_missing)
    return tuple(sorted(lines)), widest
