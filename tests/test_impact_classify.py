"""Block diff and change classification, as before/after source strings."""

from __future__ import annotations

from codeplan.graph.python import PythonAnalyzer
from codeplan.impact import ChangeKind, ChangeLabel, classify, diff_blocks, parse_signature

L = ChangeLabel
PATH = "m.py"


def changes(before: str, after: str) -> dict[str, tuple[ChangeKind, set[str]]]:
    analyzer = PythonAnalyzer()
    old = analyzer.extract(PATH, before.encode()).blocks
    new = analyzer.extract(PATH, after.encode()).blocks
    found = diff_blocks(old, new, {PATH: before.encode()}, {PATH: after.encode()})
    return {c.block.qualname: (c.kind, {label.value for label in classify(c)}) for c in found}


def test_a_body_edit_is_mmb_on_the_function_only() -> None:
    before = "class C:\n    def f(self):\n        return 1\n\n    def g(self):\n        pass\n"
    after = before.replace("return 1", "return 2")
    assert changes(before, after) == {"C.f": (ChangeKind.MODIFIED, {"MMB"})}


def test_a_statement_moved_out_of_a_block_is_a_body_change() -> None:
    before = "def f(x):\n    if x:\n        a()\n        b()\n"
    after = "def f(x):\n    if x:\n        a()\n    b()\n"
    assert changes(before, after) == {"f": (ChangeKind.MODIFIED, {"MMB"})}


def test_parameters_added_with_and_without_default() -> None:
    assert changes("def f(a):\n    pass\n", "def f(a, b=1):\n    pass\n") == {
        "f": (ChangeKind.MODIFIED, {"MMS", "param-added-optional"})
    }
    assert changes("def f(a):\n    pass\n", "def f(a, b):\n    pass\n")["f"][1] == {
        "MMS",
        "param-added-required",
    }


def test_parameter_renamed_removed_reordered_and_made_keyword_only() -> None:
    assert changes("def f(a, b):\n    pass\n", "def f(a, c):\n    pass\n")["f"][1] == {
        "MMS",
        "param-renamed",
    }
    assert changes("def f(a, b):\n    pass\n", "def f(a):\n    pass\n")["f"][1] == {
        "MMS",
        "param-removed",
    }
    assert changes("def f(a, b):\n    pass\n", "def f(b, a):\n    pass\n")["f"][1] == {
        "MMS",
        "params-reordered",
    }
    assert changes("def f(a, b):\n    pass\n", "def f(a, *, b):\n    pass\n")["f"][1] == {
        "MMS",
        "param-kind-changed",
    }


def test_defaults_and_return_annotations() -> None:
    assert changes("def f(a=1):\n    pass\n", "def f(a=2):\n    pass\n")["f"][1] == {
        "MMS",
        "default-changed",
    }
    assert changes("def f() -> int:\n    pass\n", "def f() -> str:\n    pass\n")["f"][1] == {
        "MMS",
        "return-annotation-changed",
    }


def test_constructor_changes() -> None:
    before = "class C:\n    def __init__(self, a):\n        self.a = a\n"
    after = before.replace("self, a)", "self, a, b)")
    assert changes(before, after)["C.__init__"] == (
        ChangeKind.MODIFIED,
        {"MCC", "param-added-required"},
    )
    added = changes(
        "class C:\n    x = 1\n", "class C:\n    x = 1\n\n    def __init__(self):\n        pass\n"
    )
    assert added["C.__init__"] == (ChangeKind.ADDED, {"ACC"})


def test_a_renamed_function_is_a_rename_not_delete_and_add() -> None:
    before = "def helper(x):\n    return x * 2\n\n\ndef other():\n    pass\n"
    after = before.replace("def helper(", "def assist(")
    assert changes(before, after) == {"assist": (ChangeKind.RENAMED, {"MMS", "renamed"})}


def test_a_renamed_class_carries_its_unchanged_members_along() -> None:
    before = "class Old(Base):\n    def m(self):\n        return 1\n"
    after = before.replace("class Old(", "class New(")
    assert changes(before, after) == {"New": (ChangeKind.RENAMED, {"MC", "renamed"})}


def test_fields_module_variables_class_attributes_and_exports() -> None:
    assert changes("X = 1\n", "X = 2\n") == {"X": (ChangeKind.MODIFIED, {"MF", "module-variable"})}
    class_attribute = changes("class C:\n    a = 1\n", "class C:\n    a = 1\n    b = 2\n")
    assert class_attribute == {"C.b": (ChangeKind.ADDED, {"AF", "class-attribute"})}
    exports = changes("__all__ = ['a']\n", "__all__ = ['a', 'b']\n")
    assert exports["__all__"][1] == {"MF", "module-variable", "exports-changed"}


def test_instance_attributes_are_told_from_class_attributes() -> None:
    before = "class C:\n    def __init__(self):\n        self.size = 1\n"
    after = before.replace("self.size = 1", "self.size = 2")
    assert changes(before, after)["C.size"][1] == {"MF", "instance-attribute"}


def test_a_function_moved_to_another_file_is_a_rename() -> None:
    analyzer = PythonAnalyzer()
    body = "def helper(x):\n    return x * 2\n"
    old = {"a.py": body.encode(), "b.py": b"X = 1\n"}
    new = {"a.py": b"", "b.py": b"X = 1\n\n\n" + body.encode()}
    found = diff_blocks(
        [b for p, t in old.items() for b in analyzer.extract(p, t).blocks],
        [b for p, t in new.items() for b in analyzer.extract(p, t).blocks],
        old,
        new,
    )
    moved = [c for c in found if c.block.qualname == "helper"]
    assert [(c.kind, c.old and c.old.id, c.new and c.new.id) for c in moved] == [
        (ChangeKind.RENAMED, "a.py::helper", "b.py::helper")
    ]


def test_imports_decorators_and_bases() -> None:
    imports = changes("import os\nimport re\n", "import os\nimport json\n")
    assert imports == {"import:json": (ChangeKind.MODIFIED, {"MI"})}
    assert changes("import os\n", "import os\nimport json\n") == {
        "import:json": (ChangeKind.ADDED, {"AI"})
    }
    assert changes("import os\nimport re\n", "import os\n") == {
        "import:re": (ChangeKind.DELETED, {"DI"})
    }
    before = "class C(A):\n    @property\n    def size(self):\n        return 1\n"
    after = before.replace("    @property\n", "").replace("class C(A)", "class C(A, B)")
    found = changes(before, after)
    assert found["C.size"][1] == {"MMS", "decorator-removed", "property-to-method"}
    assert found["C"][1] == {"MC", "bases-changed"}


def test_an_attribute_turned_into_a_property_is_both_a_field_deletion_and_a_method() -> None:
    before = "class C:\n    size = 1\n"
    after = "class C:\n    @property\n    def size(self):\n        return 1\n"
    assert changes(before, after) == {
        "C.size": (ChangeKind.MODIFIED, {"DF", "class-attribute", "AM"})
    }


def test_signature_parsing() -> None:
    signature = parse_signature("async def f(a, /, b: int = 1, *args, c, d=2, **kw) -> list[int]")
    assert [(p.name, p.kind, p.default, p.annotation) for p in signature.parameters] == [
        ("a", "positional-only", None, None),
        ("b", "positional", "1", "int"),
        ("args", "var-positional", None, None),
        ("c", "keyword-only", None, None),
        ("d", "keyword-only", "2", None),
        ("kw", "var-keyword", None, None),
    ]
    assert signature.returns == "list[int]"


def test_annotated_splats_are_variadic_and_what_follows_is_keyword_only() -> None:
    from codeplan.impact.classify import parse_signature

    params = parse_signature("def f(a, *args: int, b=1, **kw: str) -> None").parameters
    assert [(p.name, p.kind, p.annotation) for p in params] == [
        ("a", "positional", None),
        ("args", "var-positional", "int"),
        ("b", "keyword-only", None),
        ("kw", "var-keyword", "str"),
    ]


OVERLOADS = """from typing import overload


@overload
def parse(x: int) -> int: ...


@overload
def parse(x: str) -> str: ...


def parse(x):
    return x
"""


def test_an_inserted_overload_is_one_addition_not_a_shift_of_every_later_one() -> None:
    second = "@overload\ndef parse(x: str)"
    inserted = OVERLOADS.replace(
        second, "@overload\ndef parse(x: bytes) -> bytes: ...\n\n\n" + second
    )
    assert changes(OVERLOADS, inserted) == {"parse#2": (ChangeKind.ADDED, {"AM"})}
    # the implementation, now parse#4, is edited: it alone is modified
    edited = inserted.replace("    return x\n", "    return x or None\n")
    found = changes(OVERLOADS, edited)
    assert found["parse#4"][0] is ChangeKind.MODIFIED and found["parse#2"][0] is ChangeKind.ADDED
    assert len(found) == 2


def test_a_property_setter_edit_modifies_the_setter_only() -> None:
    before = (
        "class C:\n    @property\n    def x(self):\n        return self._x\n\n"
        "    @x.setter\n    def x(self, value):\n        self._x = value\n"
    )
    after = before.replace("self._x = value", "self._x = int(value)")
    found = changes(before, after)
    assert found["C.x#2"] == (ChangeKind.MODIFIED, {"MMB"}) and "C.x" not in found


def test_imports_renamed_together_are_each_paired_with_their_own_new_name() -> None:
    # sorted imports: the renamed ones move up, past `format_filename`
    before = (
        "from .utils import format_filename\nfrom .utils import LazyFile\n"
        "from .utils import safecall\n\n\ndef f():\n    pass\n"
    )
    after = (
        "from .utils import _LazyFile\nfrom .utils import _safecall\n"
        "from .utils import format_filename\n\n\ndef f():\n    pass\n"
    )
    analyzer = PythonAnalyzer()
    old = analyzer.extract(PATH, before.encode()).blocks
    new = analyzer.extract(PATH, after.encode()).blocks
    found = diff_blocks(old, new, {PATH: before.encode()}, {PATH: after.encode()})
    pairs = {(c.old.qualname if c.old else None, c.new.qualname if c.new else None) for c in found}
    assert pairs == {
        ("import:LazyFile", "import:_LazyFile"),
        ("import:safecall", "import:_safecall"),
    }
