"""The facts one file's extraction records: its blocks and the fields its assignments
define.  The walk over the syntax tree that drives this is extract.py (`PythonExtractor`).
"""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from codeplan.graph.model import BlockKind, block_id, content_hash
from codeplan.graph.python.doctypes import DocumentedTypes
from codeplan.graph.python.exprs import UNKNOWN, Expr, annotation_types, expr_of, text
from codeplan.graph.python.fields import Field
from codeplan.graph.python.references import ReferenceCollector
from codeplan.graph.python.scope import Scope, is_instance_receiver


class FactRecorder(ReferenceCollector):
    """One file's blocks, scopes, imports, classes, functions and fields, as recorded."""

    def __init__(self, path: str, source: bytes, module: str) -> None:
        super().__init__(source)
        self.path = path
        self.module = module
        self.block_rows: list[tuple[Any, ...]] = []
        self._ids: set[str] = set()
        self.scopes: dict[str, Scope] = {}
        self.imports: dict[str, list[list[Any]]] = {}
        self.stars: list[list[Any]] = []
        self.classes: dict[str, dict[str, Any]] = {}
        self.functions: dict[str, dict[str, Any]] = {}
        self.fields: dict[str, dict[str, Any]] = {}
        # function scope id -> the fields (`self.x = ...`) given values inside it, as an
        # ordered set: finishing a function rewrites only those, not every field of the file
        self.fields_valued_in: dict[str, dict[str, None]] = {}
        self.all_names: list[str] | None = None
        self._statement_count = 0
        # class id -> the parameters its docstring documents (Google style documents the
        # constructor's arguments there, not on `__init__`)
        self.class_documented: dict[str, DocumentedTypes] = {}

    # -- blocks ---------------------------------------------------------------------------

    def _add_block(
        self,
        node: Node,
        kind: BlockKind,
        qualname: str,
        parent: str | None,
        signature: str,
        decorators: tuple[str, ...] = (),
    ) -> str:
        unique = qualname
        counter = 2
        new_id = block_id(self.path, unique)
        while new_id in self._ids:
            unique = f"{qualname}#{counter}"
            counter += 1
            new_id = block_id(self.path, unique)
        self._ids.add(new_id)
        start, end = node.start_byte, node.end_byte
        # a row of Block's fields in order (see `Block.to_row`): the blocks go to the
        # graph packed, and only a query makes Blocks of them (see `PackedBlocks.of_rows`)
        self.block_rows.append(
            (
                new_id,
                kind.value,
                "python",
                self.path,
                self.module,
                unique,
                node.start_point[0] + 1,
                node.end_point[0] + 1,
                start,
                end,
                signature,
                content_hash(self.source[start:end]),
                parent,
                decorators,
            )
        )
        return new_id

    def _add_statement(self, node: Node, parent: str, body: Node | None) -> None:
        """A top-level statement that is not a definition (`if __name__ == ...`, a call):
        named by its rank, since it has no name of its own."""
        self._statement_count += 1
        self._add_block(
            node,
            BlockKind.STATEMENT,
            f"<statement:{self._statement_count}>",
            parent,
            self._header(node, body)[:200],
        )

    def _header(self, node: Node, body: Node | None) -> str:
        end = body.start_byte if body is not None else node.end_byte
        header = self.source[node.start_byte : end].decode("utf-8", "replace")
        return " ".join(header.split()).rstrip(":").rstrip()

    # -- assignments ----------------------------------------------------------------------

    def _expression_statement(
        self, node: Node, scope: Scope, prefix: str, parent: str, top_level: bool
    ) -> None:
        children = node.named_children
        if not children:
            return
        first = children[0]
        if first.type == "assignment":
            self._assignment(node, first, scope, prefix, parent)
            return
        if first.type == "augmented_assignment":
            left = first.child_by_field_id(Field.LEFT)
            right = first.child_by_field_id(Field.RIGHT)
            if left is not None and scope.kind == "module" and text(left) == "__all__":
                self._collect_all(right, extend=True)
            self._visit(left, scope, context="store")
            self._visit(right, scope)
            return
        if first.type == "string" and len(children) == 1:
            return  # docstring
        if top_level and scope.kind == "module":
            self._add_statement(node, parent, None)
        for child in children:
            self._visit(child, scope)

    def _assignment(
        self, statement: Node, node: Node, scope: Scope, prefix: str, parent: str
    ) -> None:
        left = node.child_by_field_id(Field.LEFT)
        right = node.child_by_field_id(Field.RIGHT)
        annotation = node.child_by_field_id(Field.TYPE)
        values = annotation_types(annotation) if annotation is not None else []
        if right is not None:
            if right.type == "assignment":  # a = b = value
                self._assignment(statement, right, scope, prefix, parent)
                inner = right
                while inner.type == "assignment" and inner.child_by_field_id(Field.RIGHT):
                    nxt = inner.child_by_field_id(Field.RIGHT)
                    assert nxt is not None
                    inner = nxt
                values = values or [expr_of(inner, scope.class_id)]
            else:
                values = values or [expr_of(right, scope.class_id)]
                self._visit(right, scope)
        if annotation is not None:
            self._visit(annotation, scope, context="annotation")
        if left is None:
            return
        if scope.kind == "module" and text(left) == "__all__":
            self._collect_all(right, extend=False)
        if scope.kind in ("module", "class") and left.type in ("identifier", "pattern_list"):
            names = [left] if left.type == "identifier" else left.named_children
            single = left.type == "identifier"
            for position, name_node in enumerate(names):
                if name_node.type != "identifier":
                    continue
                name = text(name_node)
                existing = [b for b in scope.bindings.get(name, []) if b[0] == "assign" and b[1]]
                if existing:
                    field_id = existing[0][1]
                    self._reference(name_node, scope, "store")
                else:
                    field_id = self._add_block(
                        statement,
                        BlockKind.FIELD,
                        f"{prefix}{name}",
                        parent,
                        self._header(statement, None)[:200],
                    )
                    self.fields[field_id] = {"values": []}
                field_values = values if single else [["ix", v, position] for v in values]
                self.fields[field_id]["values"].extend([scope.id, v] for v in field_values)
                scope.bind(name, "assign", field_id, field_values)
            return
        self._bind_targets(left, scope, values)
        self._instance_fields(statement, left, scope, values)
        self._visit(left, scope, context="store")

    def _instance_fields(
        self, statement: Node, left: Node, scope: Scope, values: list[Expr]
    ) -> None:
        """`self.x = ...` inside a method defines field `Class.x` (once per class)."""
        if scope.kind != "function" or scope.class_id is None:
            return
        targets = [left] if left.type == "attribute" else left.named_children
        for target in targets:
            if target.type != "attribute":
                continue
            obj = target.child_by_field_id(Field.OBJECT)
            attr = target.child_by_field_id(Field.ATTRIBUTE)
            if obj is None or attr is None or obj.type != "identifier":
                continue
            if not is_instance_receiver(scope, text(obj), scope.class_id):
                continue
            class_id = scope.class_id
            members = self.classes[class_id]["members"]
            class_scope = self.scopes[class_id]
            name = text(attr)
            field_id = members.get(name) or next(
                (b[1] for b in class_scope.bindings.get(name, []) if b[1]), None
            )
            if field_id is None:
                qualname = self._qualname_of(class_id) + "." + name
                field_id = self._add_block(
                    statement,
                    BlockKind.FIELD,
                    qualname,
                    class_id,
                    self._header(statement, None)[:200],
                )
                self.fields[field_id] = {"values": []}
                members[name] = field_id
            if field_id in self.fields:
                field_values = values if targets == [left] else [UNKNOWN]
                self.fields[field_id]["values"].extend([scope.id, v] for v in field_values)
                self.fields_valued_in.setdefault(scope.id, {})[field_id] = None

    def _qualname_of(self, some_block_id: str) -> str:
        return some_block_id.split("::", 1)[1] if "::" in some_block_id else ""

    def _collect_all(self, node: Node | None, extend: bool) -> None:
        if node is None or node.type not in ("list", "tuple"):
            return
        names = [
            text(c).strip("\"'")
            for c in node.named_children
            if c.type == "string" and "{" not in text(c)
        ]
        self.all_names = (self.all_names or []) + names if extend else names
