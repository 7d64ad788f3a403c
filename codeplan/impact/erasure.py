"""What of a Python block runs: its syntax tree with what the interpreter ignores erased.

Two versions of a block that differ only in type annotations, docstrings, comments,
layout, `if TYPE_CHECKING:` sections, `typing.cast(...)` wrappers or a `Generic[...]`
base behave the same when run, so no test can tell them apart.  Typing and documentation
commits are common in real histories, and without this every test reaching such a block
looked impacted (benchmarks/coevolution.py).  A text that does not parse on its own is
never called the same: the answer errs towards "changed".
"""

from __future__ import annotations

import ast


def same_at_runtime(old: str, new: str) -> bool:
    erased_old = _erased(old)
    return erased_old is not None and erased_old == _erased(new)


def _erased(text: str) -> str | None:
    try:
        tree = parse_block(text)
    except (SyntaxError, ValueError):  # ValueError: a null byte
        return None
    return ast.dump(_Eraser().visit(tree))


def parse_block(text: str) -> ast.Module:
    """A block's text (from the start of its first line) parsed on its own, however it was
    indented.  Not `textwrap.dedent`: a line of a docstring indented with a tab shares no
    prefix with lines indented with spaces, and old code often has one."""
    if text[:1] not in (" ", "\t"):
        return ast.parse(text)
    # under a header, the first line sets the indentation Python expects of the others;
    # lines inside strings or brackets are not held to it
    header = ast.parse("if 1:\n" + text).body[0]
    assert isinstance(header, ast.If)
    return ast.Module(body=header.body, type_ignores=[])


class _Eraser(ast.NodeTransformer):
    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = _without_docstring(node.body)
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.returns = None
        node.body = _without_docstring(node.body)
        self.generic_visit(node)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.body = _without_docstring(node.body)
        node.bases = [base for base in node.bases if not _is_generic(base)]
        self.generic_visit(node)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.annotation = None
        node.type_comment = None
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None  # `x: int` declares, assigns nothing
        erased: ast.AST = self.visit(ast.Assign(targets=[node.target], value=node.value))
        return erased

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        node.type_comment = None
        self.generic_visit(node)
        return node

    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt]:
        if _named(node.test, "TYPE_CHECKING"):
            return [self.visit(statement) for statement in node.orelse]
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if _named(node.func, "cast") and len(node.args) == 2 and not node.keywords:
            value: ast.AST = self.visit(node.args[1])
            return value
        self.generic_visit(node)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST | None:
        return None if node.module == "__future__" else node


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    if docstring and isinstance(first.value.value, str):  # type: ignore[union-attr]
        return body[1:]
    return body


def _named(node: ast.expr, name: str) -> bool:
    """`name` or `anything.name`."""
    if isinstance(node, ast.Name):
        return node.id == name
    return isinstance(node, ast.Attribute) and node.attr == name


def _is_generic(base: ast.expr) -> bool:
    return isinstance(base, ast.Subscript) and _named(base.value, "Generic")
