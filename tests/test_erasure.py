"""Changes that do not change what runs: annotations, docstrings, comments, layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from impact_helpers import impact
from planner_helpers import example_repo

from codeplan.evolve.identify import identify
from codeplan.evolve.mining import mine_commit
from codeplan.impact import ChangeLabel
from codeplan.impact.erasure import same_at_runtime

METHOD = '''    @cached
    def total(self, items: list[Item], *, rate: float = 0.2) -> float:
        """The gross total."""
        subtotal: float = sum(i.price for i in items)  # net
        return subtotal * (1 + rate)
'''


@pytest.mark.parametrize(
    "new",
    [
        # annotations gone, docstring and comment gone, reformatted
        """    @cached
    def total(self, items, *, rate=0.2):
        subtotal = sum(
            i.price for i in items
        )
        return subtotal * (1 + rate)
""",
        # typing-only wrappers and sections
        '''    @cached
    def total(self, items: "list[Item]", *, rate: float = 0.2) -> "float":
        """Reworded docs."""
        if t.TYPE_CHECKING:
            reveal_type(items)
        subtotal: float = t.cast(float, sum(i.price for i in items))
        return subtotal * (1 + rate)
''',
    ],
)
def test_what_the_interpreter_ignores_is_no_change(new: str) -> None:
    assert same_at_runtime(METHOD, new)


@pytest.mark.parametrize(
    "new",
    [
        METHOD.replace("rate: float = 0.2", "rate: float = 0.25"),  # a default
        METHOD.replace("@cached\n", ""),  # a decorator
        METHOD.replace("1 + rate", "1 - rate"),  # the body
        METHOD.replace("subtotal: float = sum", "subtotal: float = max"),
        METHOD.replace("*, rate", "rate"),  # the parameter kind
        METHOD.replace('"""The gross total."""', '"""The gross total."""\n        log()'),
        "    def total(self, items\n",  # does not parse: never the same
    ],
)
def test_what_runs_differently_is_a_change(new: str) -> None:
    assert not same_at_runtime(METHOD, new)


def test_a_generic_base_class_and_class_annotations_are_typing_only() -> None:
    old = "class Box:\n    size = 1\n"
    new = 'class Box(t.Generic[T]):\n    """A box."""\n\n    label: str\n    size: int = 1\n'
    assert same_at_runtime(old, new)
    assert not same_at_runtime(old, "class Box(Base):\n    size = 1\n")


PRICING = "inventory/pricing.py"
SIGNATURE = "def price_with_tax(amount: Decimal, category: str) -> Decimal:"


def test_an_annotation_only_change_is_labelled_and_still_reaches_the_callers(
    tmp_path: Path,
) -> None:
    root = example_repo(tmp_path)
    base = {PRICING: (root / PRICING).read_text()}
    typed_only = "def price_with_tax(amount: Decimal, category: str) -> object:"
    report = impact(tmp_path, base, {PRICING: (SIGNATURE, typed_only)})
    (change,) = report.changes
    assert ChangeLabel.NO_RUNTIME_CHANGE in change.labels
    assert ChangeLabel.MMS in change.labels
    # callers may still need their annotations to follow: the planner is not told otherwise
    assert "inventory/pricing.py::line_total" in {i.block.id for i in report.impacted}
    renamed = impact(
        tmp_path / "2", base, {PRICING: (SIGNATURE, SIGNATURE.replace("amount", "net"))}
    )
    assert all(ChangeLabel.NO_RUNTIME_CHANGE not in c.labels for c in renamed.changes)


def test_no_test_is_impacted_by_a_docstring_or_annotation_change(tmp_path: Path) -> None:
    root = example_repo(tmp_path)
    pricing = root / PRICING
    text = pricing.read_text()
    pricing.write_text(
        text.replace(SIGNATURE, "def price_with_tax(amount: Decimal, category: str | None) -> Decimal:")
        .replace("rounded to cents.", "rounded half up to whole cents.")
    )  # fmt: skip
    assert identify(root, history=False).tests == []
    pricing.write_text(text.replace("amount * (1 + tax_rate", "amount * (1 - tax_rate"))
    found = {t.qualname for t in identify(root, history=False).tests}
    assert "test_price_with_tax_applies_the_category_rate" in found


def test_a_reformatting_commit_mines_no_experience() -> None:
    production = "def area(w, h):\n    return w * h\n"
    test = "from shapes import area\n\n\ndef test_area():\n    assert area(2, 3) == 6\n"
    old = {"shapes.py": production.encode(), "tests/test_shapes.py": test.encode()}
    reformatted = {
        "shapes.py": b'def area(w: int, h: int) -> int:\n    """Area."""\n    return w * h\n',
        "tests/test_shapes.py": test.replace("== 6", "==  6").encode(),
    }
    assert mine_commit("abc", "style", old, reformatted) == []
    changed = {
        "shapes.py": b"def area(w, h, d=1):\n    return w * h * d\n",
        "tests/test_shapes.py": test.replace("area(2, 3)", "area(2, 3, d=1)").encode(),
    }
    (experience,) = mine_commit("def", "depth", old, changed) or []
    assert experience.production_qualname == "area"


def test_a_docstring_line_indented_with_a_tab_does_not_hide_a_docstring_only_change() -> None:
    # requests' history: a closing quote indented with a tab, then the tab replaced
    old = '    def send(self, request):\n        """Send it.\n\t"""\n        return self.adapter(request)\n'
    new = old.replace('\t"""', '        :rtype: Response\n        """')
    assert same_at_runtime(old, new)
    assert not same_at_runtime(old, new.replace("self.adapter(request)", "self.adapter(None)"))
    # the first line sets the indentation: a body dedented below it is still wrong
    assert not same_at_runtime(old, "    def send(self, request):\n  return 1\n")
