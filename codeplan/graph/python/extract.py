"""Python extraction: one file's blocks, scopes, bindings and references (no other file).

The output (`FileFacts.data`) is JSON:

    scopes:    {scope_id: {"kind", "parent", "bindings": {name: [[kind, block|None, values]]}}}
    imports:   {import_block_id: [[bound_name, module, level, imported_name|None]]}
    stars:     [[import_block_id, module, level]]
    classes:   {class_id: {"bases": [expr], "members": {name: block_id}, "scope": enclosing}}
    functions: {function_id: {"kind", "ret_ann": [expr], "returns": [expr], "class"}}
    fields:    {field_id: {"values": [[scope_id, expr]]}}
    refs:      [[owner_id, expr, context, line]]
    all:       [names] | None

Binding kinds: def, class, import, assign (module/class fields carry their block),
param, global, nonlocal.  A scope id is its block's id; the module scope's id is the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tree_sitter import Node

from codeplan.graph.model import Block, BlockKind, block_id, content_hash
from codeplan.graph.python.exprs import (
    UNKNOWN,
    Expr,
    annotation_types,
    expr_of,
    text,
)
from codeplan.graph.python.references import ReferenceCollector
from codeplan.graph.python.scope import (
    Scope,
    has_typed_value,
    is_instance_receiver,
    substitute_all,
)

_DEFINITIONS = ("function_definition", "class_definition", "decorated_definition")
_IMPORTS = ("import_statement", "import_from_statement", "future_import_statement")
_PROPERTY_DECORATORS = {"property", "cached_property", "functools.cached_property"}


def module_name_for(path: str) -> str:
    """Dotted module name from a repository path (`src/` layouts stripped)."""
    stem = path[:-3] if path.endswith(".py") else path
    parts = stem.split("/")
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    if parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


@dataclass(frozen=True)
class _Definition:
    """A class or function definition about to become a block."""

    node: Node  # the decorated definition when decorated: the block starts at its decorators
    definition: Node
    qualname: str
    parent: str
    signature: str
    decorators: tuple[str, ...]


class PythonExtractor(ReferenceCollector):
    """Walks one parsed file once, collecting blocks, scopes and references."""

    def __init__(self, path: str, source: bytes, module: str) -> None:
        super().__init__()
        self.path = path
        self.source = source
        self.module = module
        self.blocks: list[Block] = []
        self._ids: set[str] = set()
        self.scopes: dict[str, Scope] = {}
        self.imports: dict[str, list[list[Any]]] = {}
        self.stars: list[list[Any]] = []
        self.classes: dict[str, dict[str, Any]] = {}
        self.functions: dict[str, dict[str, Any]] = {}
        self.fields: dict[str, dict[str, Any]] = {}
        self.all_names: list[str] | None = None
        self._statement_count = 0

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
        while block_id(self.path, unique) in self._ids:
            unique = f"{qualname}#{counter}"
            counter += 1
        new_id = block_id(self.path, unique)
        self._ids.add(new_id)
        self.blocks.append(
            Block(
                id=new_id,
                kind=kind,
                language="python",
                path=self.path,
                module=self.module,
                qualname=unique,
                start_line=node.start_point[0] + 1,
                end_line=node.end_point[0] + 1,
                start_byte=node.start_byte,
                end_byte=node.end_byte,
                signature=signature,
                content_hash=content_hash(self.source[node.start_byte : node.end_byte]),
                parent=parent,
                decorators=decorators,
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

    # -- entry point ----------------------------------------------------------------------

    def run(self, root: Node) -> dict[str, Any]:
        module_id = self._add_block(root, BlockKind.MODULE, "", None, self.path)
        scope = Scope(module_id, "module", None)
        self.scopes[module_id] = scope
        self._body(root, scope, prefix="", parent=module_id, top_level=True)
        return {
            "module": self.module,
            "scopes": {
                sid: {"kind": s.kind, "parent": s.parent, "bindings": s.bindings}
                for sid, s in self.scopes.items()
            },
            "imports": self.imports,
            "stars": self.stars,
            "classes": self.classes,
            "functions": self.functions,
            "fields": self.fields,
            "refs": self.refs,
            "all": self.all_names,
        }

    # -- statements -----------------------------------------------------------------------

    def _body(self, node: Node, scope: Scope, prefix: str, parent: str, top_level: bool) -> None:
        for child in node.named_children:
            self._statement(child, scope, prefix, parent, top_level)

    def _statement(
        self, node: Node, scope: Scope, prefix: str, parent: str, top_level: bool
    ) -> None:
        kind = node.type
        if kind in _DEFINITIONS:
            self._definition(node, scope, prefix, parent)
        elif kind in _IMPORTS:
            self._import(node, scope, prefix, parent)
        elif kind == "expression_statement":
            self._expression_statement(node, scope, prefix, parent, top_level)
        elif kind in ("global_statement", "nonlocal_statement"):
            for name in node.named_children:
                scope.bind(text(name), kind.split("_")[0], None, [])
        elif kind in ("comment", "pass_statement"):
            return
        elif kind == "return_statement":
            values = node.named_children
            if values and scope.kind == "function":
                returned = expr_of(values[0], scope.class_id)
                if returned != UNKNOWN:
                    self.functions[scope.id]["returns"].append(returned)
            for child in values:
                self._visit(child, scope)
        elif kind in ("block", "else_clause", "elif_clause", "finally_clause", "case_clause"):
            for child in node.named_children:
                self._statement(child, scope, prefix, parent, top_level)
        else:
            if top_level and scope.kind == "module" and not _contains_definition(node):
                self._add_statement(node, parent, node.child_by_field_name("body"))
            self._compound(node, scope, prefix, parent, top_level)

    def _compound(
        self, node: Node, scope: Scope, prefix: str, parent: str, top_level: bool
    ) -> None:
        """if/for/while/try/with/match: bind targets, visit expressions, recurse into bodies."""
        kind = node.type
        if kind == "for_statement":
            iterated = expr_of(node.child_by_field_name("right"), scope.class_id)
            self._bind_targets(node.child_by_field_name("left"), scope, [["it", iterated]])
        elif kind == "with_statement":
            for item in _descendants_of_type(node, "with_item", stop=("block",)):
                self._with_item(item, scope)
        elif kind == "except_clause":
            self._except_clause(node, scope)
        for child in node.named_children:
            if child.type in ("block", "else_clause", "elif_clause", "finally_clause"):
                self._statement(child, scope, prefix, parent, top_level)
            elif child.type in ("except_clause", "case_clause"):
                self._compound(child, scope, prefix, parent, top_level)
            elif child.type in _DEFINITIONS or child.type.endswith("_statement"):
                self._statement(child, scope, prefix, parent, top_level)
            elif child.type not in ("with_clause", "pattern_list", "comment"):
                self._visit(child, scope)

    def _with_item(self, item: Node, scope: Scope) -> None:
        value = item.child_by_field_name("value")
        if value is not None and value.type == "as_pattern":
            inner = value.named_children
            target = value.child_by_field_name("alias")
            if inner:
                self._visit(inner[0], scope)
                # `with Foo() as f` usually binds what __enter__ returns: commonly self
                self._bind_targets(target, scope, [expr_of(inner[0], scope.class_id)])
        elif value is not None:
            self._visit(value, scope)

    def _except_clause(self, node: Node, scope: Scope) -> None:
        for child in node.named_children:
            if child.type == "as_pattern":
                inner = child.named_children
                if inner:
                    self._visit(inner[0], scope)
                    self._bind_targets(
                        child.child_by_field_name("alias"),
                        scope,
                        [["i", expr_of(inner[0], scope.class_id)]],
                    )

    def _definition(self, node: Node, scope: Scope, prefix: str, parent: str) -> None:
        decorators: list[Node] = []
        definition = node
        if node.type == "decorated_definition":
            decorators = [c for c in node.named_children if c.type == "decorator"]
            inner = node.child_by_field_name("definition")
            if inner is None:
                return
            definition = inner
        name_node = definition.child_by_field_name("name")
        if name_node is None:
            return
        name = text(name_node)
        qualname = f"{prefix}{name}"
        decorator_texts = tuple(text(d).lstrip("@").strip() for d in decorators)
        for decorator in decorators:
            expression = decorator.named_children
            if expression:
                self._reference(expression[0], scope, "call")
                self._visit_inner(expression[0], scope)
        body = definition.child_by_field_name("body")
        signature = self._header(definition, body)
        found = _Definition(node, definition, qualname, parent, signature, decorator_texts)
        if definition.type == "class_definition":
            self._class(found, scope)
        else:
            self._function(found, scope)

    def _class(self, found: _Definition, scope: Scope) -> None:
        definition, qualname = found.definition, found.qualname
        class_id = self._add_block(
            found.node, BlockKind.CLASS, qualname, found.parent, found.signature, found.decorators
        )
        scope.bind(qualname.rsplit(".", 1)[-1], "class", class_id, [])
        bases: list[Expr] = []
        superclasses = definition.child_by_field_name("superclasses")
        if superclasses is not None:
            for arg in superclasses.named_children:
                if arg.type == "keyword_argument":
                    value = arg.child_by_field_name("value")
                    if value is not None:
                        self._reference(value, scope, "load")
                    continue
                bases.append(expr_of(arg, scope.class_id))
                self._visit(arg, scope, context="base")
        class_scope = Scope(class_id, "class", scope.id, class_id=None)
        self.scopes[class_id] = class_scope
        info: dict[str, Any] = {"bases": bases, "members": {}, "scope": scope.id}
        self.classes[class_id] = info
        body = definition.child_by_field_name("body")
        if body is not None:
            self._body(body, class_scope, f"{qualname}.", class_id, top_level=False)
        for name, entries in class_scope.bindings.items():
            for kind, target, _ in entries:
                if target is not None and kind in ("def", "class", "assign"):
                    info["members"].setdefault(name, target)

    def _function(self, found: _Definition, scope: Scope) -> None:
        definition, qualname, parent = found.definition, found.qualname, found.parent
        in_class = scope.kind == "class"
        kind = BlockKind.METHOD if in_class else BlockKind.FUNCTION
        function_id = self._add_block(
            found.node, kind, qualname, parent, found.signature, found.decorators
        )
        scope.bind(qualname.rsplit(".", 1)[-1], "def", function_id, [])
        method_kind = _method_kind(found.decorators) if in_class else ""
        function_scope = Scope(
            function_id, "function", scope.id, class_id=parent if in_class else scope.class_id
        )
        self.scopes[function_id] = function_scope
        info: dict[str, Any] = {
            "kind": method_kind,
            "ret_ann": annotation_types(definition.child_by_field_name("return_type")),
            "returns": [],
            "class": parent if in_class else None,
        }
        self.functions[function_id] = info
        self._parameters(definition, scope, function_scope, parent if in_class else None, info)
        first_ref = len(self.refs)
        body = definition.child_by_field_name("body")
        if body is not None:
            self._body(body, function_scope, f"{qualname}.", function_id, top_level=False)
        self._finish_function_scope(function_scope, info, first_ref)

    def _parameters(
        self,
        definition: Node,
        outer: Scope,
        scope: Scope,
        class_id: str | None,
        info: dict[str, Any],
    ) -> None:
        parameters = definition.child_by_field_name("parameters")
        if parameters is None:
            return
        first = True
        for param in parameters.named_children:
            name_node: Node | None = param
            annotation: Node | None = None
            if param.type in ("typed_parameter", "typed_default_parameter", "default_parameter"):
                name_node = param.child_by_field_name("name")
                if name_node is None and param.named_children:
                    name_node = param.named_children[0]
                annotation = param.child_by_field_name("type")
                default = param.child_by_field_name("value")
                if default is not None:
                    self._visit(default, outer)
            elif param.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                name_node = param.named_children[0] if param.named_children else None
                first = False
            if name_node is None or name_node.type != "identifier":
                continue
            values: list[Expr] = annotation_types(annotation)
            if annotation is not None:
                self._visit(annotation, outer, context="annotation")
            if first and class_id is not None and info["kind"] != "staticmethod":
                receiver: Expr = ["b", class_id]
                values = [receiver if info["kind"] == "classmethod" else ["i", receiver]]
            scope.bind(text(name_node), "param", None, values)
            first = False

    def _finish_function_scope(self, scope: Scope, info: dict[str, Any], first_ref: int) -> None:
        """Substitute local variables in what other files may consult (returns, fields),
        and drop references to plain locals: neither depends on anything but this body."""
        local = scope.local_assigned()
        info["returns"] = substitute_all(info["returns"], scope, local)
        for field_info in self.fields.values():
            field_info["values"] = [
                [sid, sub]
                for sid, value in field_info["values"]
                for sub in (substitute_all([value], scope, local) if sid == scope.id else [value])
            ]
        params = {n for n, e in scope.bindings.items() if all(b[0] == "param" for b in e)}
        plain_locals = local - params
        self.refs[first_ref:] = [
            r
            for r in self.refs[first_ref:]
            if not (
                r[0] == scope.id
                and r[1][0] == "n"
                and r[1][1] in plain_locals
                and r[2] in ("load", "arg")
                and not has_typed_value(scope, r[1][1])
            )
        ]

    # -- imports --------------------------------------------------------------------------

    def _import(self, node: Node, scope: Scope, prefix: str, parent: str) -> None:
        entries: list[list[Any]] = []
        if node.type == "future_import_statement":
            return
        if node.type == "import_statement":
            for name in node.children_by_field_name("name"):
                if name.type == "aliased_import":
                    dotted = name.child_by_field_name("name")
                    alias = name.child_by_field_name("alias")
                    module = text(dotted) if dotted is not None else ""
                    bound = text(alias) if alias is not None else module
                    entries.append([bound, module, 0, None, module])
                else:
                    module = text(name)
                    entries.append([module.split(".")[0], module, 0, None, module.split(".")[0]])
        else:
            module_node = node.child_by_field_name("module_name")
            module, level = _module_and_level(module_node)
            wildcard = any(c.type == "wildcard_import" for c in node.children)
            for name in node.children_by_field_name("name"):
                if name.type == "aliased_import":
                    real = name.child_by_field_name("name")
                    alias = name.child_by_field_name("alias")
                    imported = text(real) if real is not None else ""
                    bound = text(alias) if alias is not None else imported
                else:
                    imported = bound = text(name)
                entries.append([bound, module, level, imported, None])
            if wildcard:
                entries.append(["*", module, level, "*", None])
        bound_names = ",".join(e[0] for e in entries) or "?"
        import_id = self._add_block(
            node,
            BlockKind.IMPORT,
            f"{prefix}import:{bound_names}",
            parent,
            self._header(node, None),
        )
        self.imports[import_id] = entries
        for bound, module, level, imported, _ in entries:
            if imported == "*":
                self.stars.append([import_id, module, level])
            else:
                scope.bind(bound, "import", import_id, [])

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
            left = first.child_by_field_name("left")
            right = first.child_by_field_name("right")
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
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        annotation = node.child_by_field_name("type")
        values = annotation_types(annotation) if annotation is not None else []
        if right is not None:
            if right.type == "assignment":  # a = b = value
                self._assignment(statement, right, scope, prefix, parent)
                inner = right
                while inner.type == "assignment" and inner.child_by_field_name("right"):
                    nxt = inner.child_by_field_name("right")
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
            obj = target.child_by_field_name("object")
            attr = target.child_by_field_name("attribute")
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


def _method_kind(decorators: tuple[str, ...]) -> str:
    for decorator in decorators:
        base = decorator.split("(")[0]
        if base in _PROPERTY_DECORATORS:
            return "property"
        if base.endswith(".setter") or base.endswith(".deleter"):
            return "setter"
        if base == "staticmethod":
            return "staticmethod"
        if base == "classmethod":
            return "classmethod"
    return ""


def _module_and_level(node: Node | None) -> tuple[str, int]:
    if node is None:
        return "", 0
    if node.type == "relative_import":
        prefix = next((c for c in node.children if c.type == "import_prefix"), None)
        level = len(text(prefix)) if prefix is not None else 1
        dotted = next((c for c in node.children if c.type == "dotted_name"), None)
        return (text(dotted) if dotted is not None else ""), level
    return text(node), 0


def _contains_definition(node: Node) -> bool:
    stack = list(node.named_children)
    while stack:
        child = stack.pop()
        if child.type in _DEFINITIONS or child.type in _IMPORTS:
            return True
        if child.type in ("block", "else_clause", "elif_clause", "except_clause", "finally_clause"):
            stack.extend(child.named_children)
    return False


def _descendants_of_type(node: Node, kind: str, stop: tuple[str, ...]) -> list[Node]:
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        for child in current.named_children:
            if child.type == kind:
                found.append(child)
            elif child.type not in stop:
                stack.append(child)
    return found
