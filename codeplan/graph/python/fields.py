"""The tree-sitter-python field ids extraction reads, resolved once per process.

`Node.child_by_field_name` looks its name up in the grammar on every call; extraction
reads fields well over a million times on a large repository, and `child_by_field_id`
with an id from here costs half as much.
"""

from __future__ import annotations

from typing import Final

import tree_sitter_python
from tree_sitter import Language

_LANGUAGE = Language(tree_sitter_python.language())


def _field_id(name: str) -> int:
    found = _LANGUAGE.field_id_for_name(name)
    if found is None:
        raise RuntimeError(f"tree-sitter-python has no field {name!r}")
    return found


class Field:
    """`node.child_by_field_id(Field.BODY)` is `node.child_by_field_name("body")`.  Final:
    compiled with mypyc, a class attribute that is not Final cannot be read from the class."""

    ALIAS: Final = _field_id("alias")
    ARGUMENTS: Final = _field_id("arguments")
    ATTRIBUTE: Final = _field_id("attribute")
    BODY: Final = _field_id("body")
    DEFINITION: Final = _field_id("definition")
    FUNCTION: Final = _field_id("function")
    LEFT: Final = _field_id("left")
    MODULE_NAME: Final = _field_id("module_name")
    NAME: Final = _field_id("name")
    OBJECT: Final = _field_id("object")
    PARAMETERS: Final = _field_id("parameters")
    RETURN_TYPE: Final = _field_id("return_type")
    RIGHT: Final = _field_id("right")
    SUBSCRIPT: Final = _field_id("subscript")
    SUPERCLASSES: Final = _field_id("superclasses")
    TYPE: Final = _field_id("type")
    VALUE: Final = _field_id("value")
