"""May-impact analysis between two states of a small repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from impact_helpers import impact

from codeplan.impact import ImpactReport, body_change_escapes

BASE = {
    "shop/pricing.py": (
        "RATE = 0.2\n\n\n"
        "def price_with_tax(amount):\n"
        "    total = amount * (1 + RATE)\n"
        "    return round(total, 2)\n\n\n"
        "def line_total(qty, amount):\n"
        "    return qty * price_with_tax(amount)\n"
    ),
    "shop/models.py": (
        "class Product:\n"
        "    currency = 'EUR'\n\n"
        "    def __init__(self, name):\n"
        "        self.name = name\n\n"
        "    def describe(self):\n"
        "        return self.name + ' ' + self.currency\n\n\n"
        "class Book(Product):\n"
        "    def describe(self):\n"
        "        return 'book'\n\n\n"
        "def make():\n"
        "    return Product('x')\n"
    ),
    "shop/report.py": (
        "from shop.pricing import price_with_tax\n\n\n"
        "def report(items):\n"
        "    return [price_with_tax(i) for i in items]\n"
    ),
    "tests/test_pricing.py": (
        "from shop.pricing import price_with_tax\n\n\n"
        "def test_price():\n"
        "    assert price_with_tax(10) == 12\n"
    ),
}


def summary(report: ImpactReport) -> set[tuple[str, str, bool]]:
    return {(i.block.id, i.relation, i.is_test) for i in report.impacted}


def test_signature_change_impacts_callers_and_flags_tests(tmp_path: Path) -> None:
    report = impact(
        tmp_path,
        BASE,
        {
            "shop/pricing.py": (
                "def price_with_tax(amount):",
                "def price_with_tax(amount, currency):",
            )
        },
    )
    assert [(c.change.block.qualname, [lab.value for lab in c.labels]) for c in report.changes] == [
        ("price_with_tax", ["MMS", "param-added-required"])
    ]
    # a signature change reaches callers (tests flagged); imports of the name still hold
    assert summary(report) == {
        ("shop/pricing.py::line_total", "CalledBy", False),
        ("shop/report.py::report", "CalledBy", False),
        ("tests/test_pricing.py::test_price", "CalledBy", True),
    }
    reason = next(i.reason for i in report.impacted if i.block.qualname == "line_total")
    assert reason == "CalledBy price_with_tax: signature changed [param-added-required]"


def test_internal_refactor_does_not_propagate_but_a_new_return_does(tmp_path: Path) -> None:
    internal = impact(
        tmp_path / "a",
        BASE,
        {
            "shop/pricing.py": (
                "    total = amount * (1 + RATE)\n",
                "    rate = 1 + RATE\n    total = amount * rate\n",
            )
        },
    )
    assert [lab.value for lab in internal.changes[0].labels] == ["MMB"]
    assert internal.changes[0].escape is not None and not internal.changes[0].escape.escapes
    assert internal.impacted == ()

    escaping = impact(
        tmp_path / "b",
        BASE,
        {"shop/pricing.py": ("return round(total, 2)", "return round(total, 3)")},
    )
    assert {i.block.qualname for i in escaping.impacted} == {"line_total", "report", "test_price"}
    assert [lab.value for lab in escaping.changes[0].labels] == ["MMB", "returns-changed"]
    assert "returned value changed" in escaping.impacted[0].reason


def test_renamed_function_impacts_callers_and_importers(tmp_path: Path) -> None:
    report = impact(
        tmp_path,
        BASE,
        {"shop/pricing.py": ("def price_with_tax(", "def gross_price(")},
    )
    kinds = {(i.block.qualname, i.relation) for i in report.impacted}
    assert ("report", "CalledBy") in kinds
    assert ("import:price_with_tax", "ImportedBy") in kinds
    assert ("line_total", "CalledBy") in kinds


def test_field_change_impacts_users_and_the_constructor(tmp_path: Path) -> None:
    report = impact(tmp_path, BASE, {"shop/models.py": ("currency = 'EUR'", "currency = 'USD'")})
    assert summary(report) >= {
        ("shop/models.py::Product.describe", "UsedBy", False),
        ("shop/models.py::Product.__init__", "ConstructedBy", False),
        ("shop/models.py::Book", "BaseClassOf", False),
    }


def test_constructor_and_override_changes(tmp_path: Path) -> None:
    constructor = impact(
        tmp_path / "a",
        BASE,
        {"shop/models.py": ("def __init__(self, name):", "def __init__(self, name, price):")},
    )
    assert ("shop/models.py::make", "InstantiatedBy", False) in summary(constructor)
    overridden = impact(
        tmp_path / "b",
        BASE,
        {
            "shop/models.py": (
                "    def describe(self):\n        return self.name",
                "    def describe(self, short):\n        return self.name",
            )
        },
    )
    assert ("shop/models.py::Book.describe", "OverriddenBy", False) in summary(overridden)


def test_a_constructor_signature_reaches_overriding_constructors_and_super_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subclass = (
        "\n\nclass Ebook(Product):\n    def __init__(self, name):\n        super().__init__(name)\n"
        "\n\nclass Gift(Product):\n    def __init__(self, name):\n        self.label = name\n"
    )
    monkeypatch.setitem(BASE, "shop/models.py", BASE["shop/models.py"] + subclass)
    report = impact(
        tmp_path,
        BASE,
        {
            "shop/models.py": (
                "def __init__(self, name):\n        self.name",
                "def __init__(self, name, price):\n        self.name",
            )
        },
    )
    found = summary(report)
    assert ("shop/models.py::Ebook.__init__", "CalledBy", False) in found
    assert ("shop/models.py::Gift.__init__", "OverriddenBy", False) in found


@pytest.mark.parametrize(
    ("before", "after", "escapes", "because"),
    [
        (
            "def f(d):\n    return d\n",
            "def f(d):\n    d.pop('k')\n    return d\n",
            True,
            "mutation",
        ),
        (
            "def f(x):\n    y = x\n    return y\n",
            "def f(x):\n    z = x\n    return z\n",
            False,
            "internal",
        ),
        ("def f(x):\n    return x\n", "def f(x):\n    raise ValueError(x)\n", True, "raised"),
        ("def f(x):\n    return x\n", "def f(x):\n    print(x)\n    return x\n", True, "I/O"),
        (
            "def f(x):\n    global N\n    N = 1\n",
            "def f(x):\n    global N\n    N = 2\n",
            False,
            "internal",
        ),
        (
            "def f(x):\n    global N\n    N = 1\n",
            "def f(x):\n    global N, M\n    M = 1\n",
            True,
            "global",
        ),
        ("def f(x):\n    yield x\n", "def f(x):\n    yield x + 1\n", True, "yielded"),
    ],
)
def test_escape_analysis(before: str, after: str, escapes: bool, because: str) -> None:
    verdict = body_change_escapes(before, after)
    assert verdict.escapes is escapes
    assert because in verdict.reason


# One scenario per may-impact rule not covered above: (label, edit) -> an impacted block
# reached through the expected relation.
RULE_SCENARIOS = [
    (
        "MC",
        {"shop/models.py": ("class Book(Product):", "class Book(Product, dict):")},
        ("shop/models.py::Product", "DerivedClassOf"),
    ),
    (
        "MI",
        {
            "shop/report.py": (
                "from shop.pricing import price_with_tax",
                "from shop.pricing import price_with_tax as price_with_tax",
            )
        },
        ("shop/report.py::report", "ImportedBy"),
    ),
    (
        "AM",
        {
            "shop/models.py": (
                "class Book(Product):\n",
                "class Book(Product):\n    def label(self):\n        return 1\n\n",
            )
        },
        ("shop/models.py::Product", "DerivedClassOf"),
    ),
    (
        "AF",
        {"shop/models.py": ("    currency = 'EUR'\n", "    currency = 'EUR'\n    vat = 0.2\n")},
        ("shop/models.py::Product.__init__", "ConstructedBy"),
    ),
    (
        "ACC",
        {
            "shop/models.py": (
                "class Book(Product):\n",
                "class Book(Product):\n    def __init__(self, name):\n        super().__init__(name)\n\n",
            )
        },
        ("shop/models.py::Product", "DerivedClassOf"),
    ),
    (
        "DM",
        {
            "shop/pricing.py": (
                "def line_total(qty, amount):\n    return qty * price_with_tax(amount)\n",
                "",
            )
        },
        None,  # nothing calls line_total: a deletion with no callers impacts nothing
    ),
    (
        "DM",
        {"shop/models.py": ("    def describe(self):\n        return 'book'\n", "    pass\n")},
        ("shop/models.py::Product.describe", "Overrides"),
    ),
    (
        "DF",
        {"shop/models.py": ("    currency = 'EUR'\n", "")},
        ("shop/models.py::Product.describe", "UsedBy"),
    ),
    (
        "DC",
        {
            "shop/models.py": (
                "class Book(Product):\n    def describe(self):\n        return 'book'\n",
                "",
            )
        },
        ("shop/models.py::Product", "DerivedClassOf"),
    ),
    (
        "DCC",
        {"shop/models.py": ("    def __init__(self, name):\n        self.name = name\n", "")},
        ("shop/models.py::make", "InstantiatedBy"),
    ),
    (
        "DI",
        {"shop/report.py": ("from shop.pricing import price_with_tax\n", "")},
        ("shop/report.py::report", "ImportedBy"),
    ),
]


@pytest.mark.parametrize(("label", "edits", "expected"), RULE_SCENARIOS)
def test_every_rule(
    tmp_path: Path,
    label: str,
    edits: dict[str, tuple[str, str]],
    expected: tuple[str, str] | None,
) -> None:
    report = impact(tmp_path, BASE, edits)
    labels = {lab.value for c in report.changes for lab in c.labels}
    if expected is None:
        assert report.impacted == ()
        return
    assert label in labels
    assert expected in {(i.block.id, i.relation) for i in report.impacted if i.label.value == label}


def test_every_rule_with_relations_has_a_scenario() -> None:
    from codeplan.impact import DEFAULT_RULES

    covered_above = {"MMS", "MMB", "MF", "MCC", "renamed"}
    covered = covered_above | {label for label, _, expected in RULE_SCENARIOS if expected}
    with_relations = {label.value for label, follows in DEFAULT_RULES.items() if follows}
    assert with_relations - covered == set()


def test_functions_nested_in_a_test_are_not_tests(tmp_path: Path) -> None:
    from codeplan.graph import GraphOptions, build_graph
    from codeplan.impact.analysis import is_test

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_cli.py").write_text(
        "def test_command():\n    def test_helper():\n        pass\n    test_helper()\n"
    )
    graph = build_graph(tmp_path, GraphOptions(use_cache=False)).graph
    assert is_test(graph.block("tests/test_cli.py::test_command"), graph)
    assert not is_test(graph.block("tests/test_cli.py::test_command.test_helper"), graph)
