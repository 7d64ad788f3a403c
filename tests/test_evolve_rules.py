"""Rules learnt from past co-changes: what each side of a co-change did, and which pairs
the history supports."""

from __future__ import annotations

from codeplan.evolve.model import Experience, ProductionChange
from codeplan.evolve.rules import Rule, change_kinds, edits_of_test, learn_rules, matching

PRICE = "def price(amount, tax=0.2):\n    return amount * (1 + tax)\n"
PRICE_DEFAULT = "def price(amount, tax=0.25):\n    return amount * (1 + tax)\n"
PRICE_RAISES = (
    "def price(amount, tax=0.2):\n    if amount < 0:\n        raise ValueError(amount)\n"
    "    return amount * (1 + tax)\n"
)
TEST = "def test_price():\n    assert price(10) == 12\n"


def test_the_production_side_gets_the_classifiers_labels() -> None:
    assert change_kinds(PRICE, PRICE_DEFAULT) == {"default-changed"}
    assert change_kinds(PRICE, PRICE_RAISES) == {"raises-changed"}
    assert change_kinds(PRICE, "") == {"deleted"}
    method = "    def price(self, amount):\n        return amount\n"
    assert change_kinds(method, method.replace("amount)", "amount, tax)")) == {
        "param-added-required"
    }
    assert change_kinds("not python (", PRICE) == frozenset()


def test_the_test_side_tells_new_arguments_from_new_expectations() -> None:
    assert edits_of_test("price", TEST, TEST.replace("== 12", "== 12.5")) == {"asserted-values"}
    # a new argument inside an asserted call is a change of the call, not of what is asserted
    assert edits_of_test("price", TEST, TEST.replace("price(10)", "price(10, tax=0)")) == {
        "call-arguments"
    }
    raising = "def test_negative():\n    with pytest.raises(ValueError):\n        price(-1)\n"
    assert edits_of_test("price", raising, raising.replace("ValueError", "TypeError")) == {
        "expected-exceptions"
    }
    assert edits_of_test("price", TEST, "") == {"deleted"}
    assert edits_of_test("price", "", TEST) == {"added"}


def experience(commit: str, before: str, after: str, test_after: str) -> Experience:
    return Experience(
        commit, "", "shop.py", "price", before, after, "tests/test_shop.py", "test_price",
        TEST, test_after,
    )  # fmt: skip


def test_rules_need_support_in_several_commits_and_in_most_of_them() -> None:
    expected_more = TEST.replace("== 12", "== 12.5")
    history = [
        experience("c1", PRICE, PRICE_DEFAULT, expected_more),
        experience("c2", PRICE, PRICE_DEFAULT, expected_more),
        experience("c3", PRICE, PRICE_DEFAULT, TEST.replace("price(10)", "price(10, tax=0.2)")),
        experience("c4", PRICE, PRICE_RAISES, expected_more),  # one commit: no rule
    ]
    rules = learn_rules(history)
    assert rules == [Rule("default-changed", "asserted-values", 2, 3)]
    assert str(rules[0]) == (
        "when a default value changes, tests changed the values they assert (2 of 3 past commits)"
    )
    assert learn_rules(history, min_share=0.7) == []
    # the same commit twice counts once
    assert learn_rules([history[0], history[0]]) == []


def test_the_rules_matching_a_change_are_those_about_its_kind() -> None:
    rules = [Rule("default-changed", "asserted-values", 2, 3), Rule("deleted", "deleted", 4, 4)]
    change = ProductionChange("shop.py", "price", PRICE, PRICE_DEFAULT)
    assert matching(rules, [change]) == rules[:1]
    assert matching(rules, [ProductionChange("shop.py", "price", PRICE, "")]) == rules[1:]
