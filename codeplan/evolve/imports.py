"""Repairing a test module's imports before its tests: a module that no longer imports
after a production change (a name it imports was removed, renamed or moved) fails every
test in it, and no edit of a test function can fix that.

The failing import statement is found from the error pytest reports, and the editor is
asked for it like for any block: the production change as the earlier edit, the error as
the cause.  It answers the statement edited, NO CHANGE, or DELETE when nothing the
statement imports exists any more.  One statement at a time, as each fix may reveal the
next failing one; every answer is checked like any edit before it is written."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from codeplan.edit.apply import Applied, apply_answer, block_text, delete_block
from codeplan.edit.model import EditContext, Editor, EditRequest
from codeplan.evolve.model import ProductionChange
from codeplan.graph.builder import GraphBuilder
from codeplan.graph.model import Block, BlockKind
from codeplan.plan.planner import Tree

INSTRUCTION = (
    "The test module no longer imports after the production change shown as an earlier "
    "edit. Update this import statement so that it imports what the production code now "
    "provides under its new name or module. If nothing it imports exists any more, answer "
    "DELETE; answer NO CHANGE if the problem is not in this statement."
)
# "DELETE", "DELETE TEST", "**Delete the test.**": the words alone
DELETE_ANSWER = re.compile(r"[\W_]*delete(?:[\s_-]+(?:the[\s_-]+)?test)?[\W_]*", re.IGNORECASE)
_ERRORS = re.compile(
    r"ImportError: cannot import name '(?P<name>[\w.]+)'"
    r"|ModuleNotFoundError: No module named '(?P<module>[\w.]+)'"
)

RunTest = Callable[[str], tuple[bool, str]]  # node id or path -> (passed, output)


def mentions_import_error(text: str) -> bool:
    return _ERRORS.search(text) is not None


def repair_imports(
    builder: GraphBuilder,
    tree: Tree,
    editor: Editor,
    run_test: RunTest,
    path: str,
    changes: Sequence[ProductionChange],
    max_statements: int = 5,
) -> tuple[tuple[str, str], ...]:
    """The import statements edited (before, after; after "" for a deleted one) until
    `path` imports, or no statement is to blame, or the editor cannot fix one."""
    edits: list[tuple[str, str]] = []
    asked: set[str] = set()
    while len(asked) < max_statements:
        _, output = run_test(path)
        found = failing_import(builder, tree, path, output)
        if found is None or found[0].id in asked:
            break
        block, error = found
        asked.add(block.id)
        answer = editor(_request(block, tree.read(block.path) or b"", error, changes))
        if answer is None:
            break
        edit = _apply(builder, tree, block, answer)
        if edit is None:
            break
        edits.append(edit)
    return tuple(edits)


def failing_import(
    builder: GraphBuilder, tree: Tree, path: str, output: str
) -> tuple[Block, str] | None:
    """The import statement the last import error in `output` names, with the error's
    line: in the test module `path`, or in a conftest.py pytest loads for it."""
    errors = list(_ERRORS.finditer(output))
    if not errors:
        return None
    error = errors[-1]
    wanted = error["name"] or error["module"]
    parent, _, last = wanted.rpartition(".")
    for module in (path, *_conftests(path)):
        file = tree.read(module) or b""
        for block in builder.current_blocks(module):
            if block.kind is not BlockKind.IMPORT:
                continue
            text = block_text(file, block)
            named = re.search(rf"(?<![\w.]){re.escape(wanted)}\b", text)
            from_parent = parent and re.search(rf"\b{re.escape(last)}\b", text) and parent in text
            if named or from_parent:
                return block, output[error.start() :].splitlines()[0]
    return None


def _conftests(path: str) -> list[str]:
    """The conftest.py files pytest loads for a test module, nearest first."""
    folders = path.split("/")[:-1]
    return ["/".join([*folders[:depth], "conftest.py"]) for depth in range(len(folders), -1, -1)]


def _request(
    block: Block, file: bytes, error: str, changes: Sequence[ProductionChange]
) -> EditRequest:
    context = EditContext(
        task="Keep the tests in step with the production change",
        causes=(f"the test module fails to import: {error}",),
        earlier_edits=tuple(c.as_earlier_edit() for c in changes),
    )
    return EditRequest.of_block(block, block_text(file, block), INSTRUCTION, context)


def _apply(builder: GraphBuilder, tree: Tree, block: Block, answer: str) -> tuple[str, str] | None:
    """Write the answer (or the deletion) when it checks out; its before and after."""
    original = tree.read(block.path) or b""
    before = block_text(original, block)
    deleting = DELETE_ANSWER.fullmatch(answer.strip()) is not None
    outcome = delete_block(original, block) if deleting else apply_answer(original, block, answer)
    if not isinstance(outcome, Applied):
        return None
    tree.write(block.path, outcome.new_file)
    builder.update_file(block.path, outcome.new_file)
    return before, "" if deleting else answer.strip("\n")
