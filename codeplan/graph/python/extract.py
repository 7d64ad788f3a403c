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
What is recorded, and how blocks and fields are made, is recorder.py (`FactRecorder`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from tree_sitter import Node

from codeplan.graph.model import BlockKind
from codeplan.graph.python.doctypes import DocumentedTypes, docstring_of, documented_types
from codeplan.graph.python.exprs import (
    UNKNOWN,
    Expr,
    annotation_types,
    expr_of,
    text,
)
from codeplan.graph.python.fields import Field
from codeplan.graph.python.recorder import FactRecorder
from codeplan.graph.python.scope import (
    Scope,
    has_typed_value,
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


class _Definition(NamedTuple):
    """A class or function definition about to become a block (a NamedTuple: one is made
    for each of a large repository's tens of thousands of definitions, and a frozen
    dataclass takes twice as long to make)."""

    node: Node  # the decorated definition when decorated: the block starts at its decorators
    definition: Node
    qualname: str
    parent: str
    signature: str
    decorators: tuple[str, ...]


class PythonExtractor(FactRecorder):
    """Walks one parsed file once, collecting blocks, scopes and references."""

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
                self._add_statement(node, parent, node.child_by_field_id(Field.BODY))
            self._compound(node, scope, prefix, parent, top_level)

    def _compound(
        self, node: Node, scope: Scope, prefix: str, parent: str, top_level: bool
    ) -> None:
        """if/for/while/try/with/match: bind targets, visit expressions, recurse into bodies."""
        kind = node.type
        if kind == "for_statement":
            iterated = expr_of(node.child_by_field_id(Field.RIGHT), scope.class_id)
            self._bind_targets(node.child_by_field_id(Field.LEFT), scope, [["it", iterated]])
        elif kind == "with_statement":
            for item in _descendants_of_type(node, "with_item", stop=("block",)):
                self._with_item(item, scope)
        elif kind == "except_clause":
            self._except_clause(node, scope)
        for child in node.named_children:
            child_kind = child.type  # a new str on every read: read once
            if child_kind in ("block", "else_clause", "elif_clause", "finally_clause"):
                self._statement(child, scope, prefix, parent, top_level)
            elif child_kind in ("except_clause", "case_clause"):
                self._compound(child, scope, prefix, parent, top_level)
            elif child_kind in _DEFINITIONS or child_kind.endswith("_statement"):
                self._statement(child, scope, prefix, parent, top_level)
            elif child_kind not in ("with_clause", "pattern_list", "comment"):
                self._visit(child, scope)

    def _with_item(self, item: Node, scope: Scope) -> None:
        value = item.child_by_field_id(Field.VALUE)
        if value is not None and value.type == "as_pattern":
            inner = value.named_children
            target = value.child_by_field_id(Field.ALIAS)
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
                        child.child_by_field_id(Field.ALIAS),
                        scope,
                        [["i", expr_of(inner[0], scope.class_id)]],
                    )

    def _definition(self, node: Node, scope: Scope, prefix: str, parent: str) -> None:
        decorators: list[Node] = []
        definition = node
        if node.type == "decorated_definition":
            decorators = [c for c in node.named_children if c.type == "decorator"]
            inner = node.child_by_field_id(Field.DEFINITION)
            if inner is None:
                return
            definition = inner
        name_node = definition.child_by_field_id(Field.NAME)
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
        body = definition.child_by_field_id(Field.BODY)
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
        superclasses = definition.child_by_field_id(Field.SUPERCLASSES)
        if superclasses is not None:
            for arg in superclasses.named_children:
                if arg.type == "keyword_argument":
                    value = arg.child_by_field_id(Field.VALUE)
                    if value is not None:
                        self._reference(value, scope, "load")
                    continue
                bases.append(expr_of(arg, scope.class_id))
                self._visit(arg, scope, context="base")
        class_scope = Scope(class_id, "class", scope.id, class_id=None)
        self.scopes[class_id] = class_scope
        info: dict[str, Any] = {"bases": bases, "members": {}, "scope": scope.id}
        self.classes[class_id] = info
        body = definition.child_by_field_id(Field.BODY)
        class_documented = documented_types(docstring_of(body))
        if class_documented.parameters:
            self.class_documented[class_id] = class_documented
        if body is not None:
            self._body(body, class_scope, f"{qualname}.", class_id, top_level=False)
        for name, entries in class_scope.bindings.items():
            for kind, target, _ in entries:
                if target is not None and kind in ("def", "class", "assign"):
                    info["members"].setdefault(name, target)
        for name, types in class_documented.attributes.items():
            field_id = info["members"].get(name)
            if field_id in self.fields:  # documented and assigned: one more value it may hold
                self.fields[field_id]["values"].extend([class_id, ["dt", t]] for t in types)

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
        body = definition.child_by_field_id(Field.BODY)
        documented = documented_types(docstring_of(body))
        if in_class and qualname.rsplit(".", 1)[-1] == "__init__" and parent is not None:
            documented = documented.beside(self.class_documented.get(parent))
        info: dict[str, Any] = {
            "kind": method_kind,
            "ret_ann": annotation_types(definition.child_by_field_id(Field.RETURN_TYPE))
            or [["dt", name] for name in documented.returns],
            "returns": [],
            "class": parent if in_class else None,
        }
        self.functions[function_id] = info
        self._parameters(
            definition, scope, function_scope, parent if in_class else None, info, documented
        )
        first_ref = len(self.refs)
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
        documented: DocumentedTypes,
    ) -> None:
        parameters = definition.child_by_field_id(Field.PARAMETERS)
        if parameters is None:
            return
        first = True
        for param in parameters.named_children:
            name_node: Node | None = param
            annotation: Node | None = None
            if param.type in ("typed_parameter", "typed_default_parameter", "default_parameter"):
                name_node = param.child_by_field_id(Field.NAME)
                if name_node is None and param.named_children:
                    name_node = param.named_children[0]
                annotation = param.child_by_field_id(Field.TYPE)
                default = param.child_by_field_id(Field.VALUE)
                if default is not None:
                    self._visit(default, outer)
            elif param.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                name_node = param.named_children[0] if param.named_children else None
                first = False
            if name_node is None or name_node.type != "identifier":
                continue
            values: list[Expr] = annotation_types(annotation) or [
                ["dt", name] for name in documented.parameters.get(text(name_node), ())
            ]
            if annotation is not None:
                self._visit(annotation, outer, context="annotation")
            if first and class_id is not None and info["kind"] != "staticmethod":
                receiver: Expr = ["b", class_id]
                values = [receiver if info["kind"] == "classmethod" else ["i", receiver]]
            scope.bind(text(name_node), "param", None, values)
            first = False

    def _finish_function_scope(self, scope: Scope, info: dict[str, Any], first_ref: int) -> None:
        """Substitute local variables in what other files may consult (returns, fields),
        and drop the references to locals that cannot link anything: neither depends on
        anything but this body.  (Dropping them left every edge of Django, flask, rich,
        click and requests as it was, and took a fifth of Django's references.)"""
        local = scope.local_assigned()
        info["returns"] = substitute_all(info["returns"], scope, local)
        for field_id in self.fields_valued_in.pop(scope.id, {}):
            field_info = self.fields[field_id]
            field_info["values"] = [
                [sid, sub]
                for sid, value in field_info["values"]
                for sub in (substitute_all([value], scope, local) if sid == scope.id else [value])
            ]
        params = {n for n, e in scope.bindings.items() if all(b[0] == "param" for b in e)}
        self.refs[first_ref:] = [
            r
            for r in self.refs[first_ref:]
            if not (
                r[0] == scope.id
                and r[1][0] == "n"
                and r[1][1] in local
                and (
                    # a write to a local (or a parameter), or a bare read of it, links
                    # nothing: its values are inferred where it is called or its
                    # attributes read
                    r[2] in ("store", "load")
                    # passed on, a typed local may be a callback (`register(make())`)
                    or (
                        r[2] == "arg" and (r[1][1] in params or not has_typed_value(scope, r[1][1]))
                    )
                )
            )
        ]

    # -- imports --------------------------------------------------------------------------

    def _import(self, node: Node, scope: Scope, prefix: str, parent: str) -> None:
        entries: list[list[Any]] = []
        if node.type == "future_import_statement":
            return
        if node.type == "import_statement":
            for name in node.children_by_field_id(Field.NAME):
                if name.type == "aliased_import":
                    dotted = name.child_by_field_id(Field.NAME)
                    alias = name.child_by_field_id(Field.ALIAS)
                    module = text(dotted) if dotted is not None else ""
                    bound = text(alias) if alias is not None else module
                    entries.append([bound, module, 0, None, module])
                else:
                    module = text(name)
                    entries.append([module.split(".")[0], module, 0, None, module.split(".")[0]])
        else:
            module_node = node.child_by_field_id(Field.MODULE_NAME)
            module, level = _module_and_level(module_node)
            wildcard = any(c.type == "wildcard_import" for c in node.children)
            for name in node.children_by_field_id(Field.NAME):
                if name.type == "aliased_import":
                    real = name.child_by_field_id(Field.NAME)
                    alias = name.child_by_field_id(Field.ALIAS)
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
        # by index: `imported` above is a str, and an entry's may be None (compiled, the
        # names of an unpacking keep the types they were first given)
        for entry in entries:
            if entry[3] == "*":
                self.stars.append([import_id, entry[1], entry[2]])
            else:
                scope.bind(entry[0], "import", import_id, [])


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
