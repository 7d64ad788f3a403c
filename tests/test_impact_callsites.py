"""Call-site screening: a caller of a changed signature needs an edit only when one of its
calls would bind differently (or not at all) under the new parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
from impact_helpers import impact

from codeplan.graph.model import Block, BlockKind, content_hash
from codeplan.impact import ImpactReport
from codeplan.impact.callsites import (
    SELF,
    CallSite,
    binding,
    call_needs_update,
    caller_verdict,
    calls_to,
    signature_change,
)
from codeplan.impact.classify import Parameter


def params(text: str) -> tuple[Parameter, ...]:
    change = signature_change(block(f"def f({text}):\n    pass\n"), block("def f():\n    pass\n"))
    assert change is not None
    return change.old_params


def block(source: str, *, qualname: str = "f", decorators: tuple[str, ...] = ()) -> Block:
    """A block covering all of `source`."""
    kind = BlockKind.METHOD if "." in qualname else BlockKind.FUNCTION
    data = source.encode()
    return Block(
        id=f"m.py::{qualname}",
        kind=kind,
        language="python",
        path="m.py",
        module="m",
        qualname=qualname,
        start_line=1,
        end_line=source.count("\n") + 1,
        start_byte=0,
        end_byte=len(data),
        signature=source.split(":\n", 1)[0],
        content_hash=content_hash(data),
        decorators=decorators,
    )


def call(body: str, name: str = "f", class_name: str | None = None) -> CallSite:
    """The one call to `name` in a caller whose body is `body`."""
    source = f"def caller(self):\n    {body}\n"
    found = calls_to(source.encode(), block(source, qualname="caller"), name, class_name=class_name)
    assert found is not None and len(found) == 1, found
    return found[0]


def test_positional_only_and_keyword_only_parameters() -> None:
    assert binding(params("a, /, b"), call("f(1, b=2)")) == {
        "a": (("pos", 0),),
        "b": (("kw", "b"),),
    }
    assert binding(params("a, /, b"), call("f(a=1, b=2)")) is None
    assert binding(params("a, *, b"), call("f(1, 2)")) is None
    assert binding(params("a, *, b"), call("f(1, b=2)")) == {
        "a": (("pos", 0),),
        "b": (("kw", "b"),),
    }


def test_defaults_and_missing_arguments() -> None:
    assert binding(params("a, b=1"), call("f(1)")) == {"a": (("pos", 0),), "b": ()}
    assert binding(params("a, b=1"), call("f()")) is None
    assert binding(params("a"), call("f(1, c=3)")) is None
    assert binding(params("a"), call("f(1, a=3)")) is None  # `a` given twice


def test_var_positional_and_var_keyword_collect_the_rest() -> None:
    bound = binding(params("a, *args, b=0, **kw"), call("f(1, 2, 3, b=4, x=5)"))
    assert bound == {
        "a": (("pos", 0),),
        "args": (("pos", 1), ("pos", 2)),
        "b": (("kw", "b"),),
        "kw": (("kw", "x"),),
    }
    # annotated splats too: what follows `*args: int` is keyword-only
    assert binding(params("*args: int, b: str = ''"), call("f(1, 2)")) == {
        "args": (("pos", 0), ("pos", 1)),
        "b": (),
    }


def test_methods_called_through_self_super_and_the_class() -> None:
    through_self = call("self.f(1)")
    assert through_self.receiver == "self"
    assert binding(params("self, x"), through_self, implicit_first=True) == {
        "self": (SELF,),
        "x": (("pos", 0),),
    }
    assert call("super().__init__(name)", "__init__", "Product").receiver == "super"
    constructor = call("return Product('x', price=2)", "__init__", "Product")
    assert (constructor.receiver, constructor.positional, constructor.keywords) == (
        "constructor",
        1,
        ("price",),
    )
    assert call("Product.__init__(self, 'x')", "__init__", "Product").receiver == "class"
    assert call("shop.models.f(1)").receiver == "instance"


def test_call_sites_record_splats_and_skip_other_callees() -> None:
    source = "def caller(xs, kw):\n    g(1)\n    f(*xs)\n    obj.f(**kw)\n    f(x for x in xs)\n"
    found = calls_to(source.encode(), block(source, qualname="caller"), "f")
    assert found is not None
    assert [(c.line, c.positional, c.star_args, c.star_kwargs) for c in found] == [
        (3, 0, True, False),
        (4, 0, False, True),
        (5, 1, False, False),
    ]
    # text that is not what the graph saw can't be screened
    assert calls_to(b"def caller(): f()\n", block(source, qualname="caller"), "f") is None


@pytest.mark.parametrize(
    ("old", "new", "body", "needs"),
    [
        ("a", "a, b=None", "f(1)", False),  # optional parameter appended
        ("a", "a, b", "f(1)", True),  # required parameter appended
        ("a, b", "a, c", "f(1, 2)", False),  # renamed, passed positionally
        ("a, b", "a, c", "f(1, b=2)", True),  # renamed, passed by keyword
        ("a, b", "b, a", "f(1, 2)", True),  # reordered, positional
        ("a, b", "b, a", "f(b=2, a=1)", False),  # reordered, all by keyword
        ("a, b=1", "a", "f(1)", False),  # removed and not passed
        ("a, b=1", "a", "f(1, 2)", True),  # removed and passed
        ("a, b=1", "a, *, b=1", "f(1, 2)", True),  # made keyword-only, passed positionally
        ("a, b=1", "a, *, b=1", "f(1, b=2)", False),
        ("a, b", "a, b, c=0", "f(*xs)", True),  # a splat can't be checked
        ("a: int, b: str", "a: float, b: bytes", "f(1, b='x')", False),  # annotations only
        ("a, b=1", "a, b=2", "f(1)", True),  # relies on a default that changed
        ("a, b=1", "a, b=2", "f(1, 3)", False),
        ("a, b=1", "a, b", "f(1)", True),  # a default it relied on is gone
        ("a, b, c=0", "a, c=0", "f(1, 2)", True),  # argument 2 now reaches `c`
        ("*args", "*items, sep=''", "f(1, 2)", False),
    ],
)
def test_call_needs_update(old: str, new: str, body: str, needs: bool) -> None:
    assert call_needs_update(params(old), params(new), call(body)) is needs


def verdict(
    old: str, new: str, body: str, decorators: tuple[tuple[str, ...], ...] = ((), ())
) -> bool:
    change = signature_change(
        block(f"def m({old}):\n    pass\n", qualname="C.m", decorators=decorators[0]),
        block(f"def m({new}):\n    pass\n", qualname="C.m", decorators=decorators[1]),
    )
    assert change is not None
    source = f"def caller(self, obj):\n    {body}\n"
    return caller_verdict(change, source.encode(), block(source, qualname="caller")).keep


def test_the_caller_is_kept_when_any_reading_of_its_call_changes() -> None:
    assert not verdict("self, a", "self, a, b=0", "obj.m(1)")
    assert verdict("self, a", "self, b, a", "obj.m(1, 2)")
    # `C.m(obj, 1)` passes self explicitly; the implicit reading is rejected by the old
    # signature, so only the explicit one counts
    assert not verdict("self, a", "self, a, b=0", "C.m(obj, 1)")
    assert verdict("self, a", "self, a, b", "C.m(obj, 1)")
    static = (("staticmethod",), ("staticmethod",))
    assert not verdict("a", "a, b=0", "C.m(1)", static)
    # a method that became static no longer gets the instance
    assert verdict("self, a", "a", "obj.m(1)", ((), ("staticmethod",)))
    # an unknown decorator may change the signature: no screening at all
    assert (
        signature_change(
            block("def m(self):\n    pass\n", qualname="C.m", decorators=("app.route('/')",)),
            block("def m(self, a=0):\n    pass\n", qualname="C.m"),
        )
        is None
    )


def test_a_caller_without_a_recognised_call_is_kept() -> None:
    change = signature_change(block("def f(a):\n    pass\n"), block("def f(a, b=0):\n    pass\n"))
    assert change is not None
    source = "def caller(items):\n    return map(f, items)\n"
    assert caller_verdict(change, source.encode(), block(source, qualname="caller")).keep


BASE = {
    "shop/pricing.py": (
        "def price(amount, rate):\n"
        "    return amount * (1 + rate)\n"
    ),
    "shop/orders.py": (
        "from shop.pricing import price\n\n\n"
        "def by_position(amount):\n"
        "    return price(amount, 0.2)\n\n\n"
        "def by_keyword(amount):\n"
        "    return price(amount, rate=0.2)\n"
    ),
    "shop/models.py": (
        "class Product:\n"
        "    def __init__(self, name):\n"
        "        self.name = name\n\n\n"
        "def make():\n"
        "    return Product('x')\n\n\n"
        "def make_named():\n"
        "    return Product(name='x')\n"
    ),
}  # fmt: skip


def impacted(report: ImpactReport) -> set[str]:
    return {i.block.qualname for i in report.impacted}


def test_a_renamed_parameter_keeps_only_the_keyword_caller(tmp_path: Path) -> None:
    rename = {
        "shop/pricing.py": (
            "(amount, rate):\n    return amount * (1 + rate)",
            "(amount, tax):\n    return amount * (1 + tax)",
        )
    }
    assert impacted(impact(tmp_path / "a", BASE, rename, screen=False)) == {
        "by_position",
        "by_keyword",
    }
    report = impact(tmp_path / "b", BASE, rename, screen=True)
    assert impacted(report) == {"by_keyword"}
    assert report.impacted[0].reason == (
        "CalledBy price: signature changed [param-renamed]; the call at line 9 no longer "
        "binds: no parameter takes `rate=` any more"
    )


def test_a_new_optional_parameter_keeps_only_the_callers_that_hold_a_value_for_it(
    tmp_path: Path,
) -> None:
    # every call still binds; a caller that already has a `price` may have to pass it on
    base = dict(BASE)
    base["shop/models.py"] += "\n\ndef make_priced(price):\n    return Product('x')\n"
    optional = {
        "shop/models.py": ("def __init__(self, name):", "def __init__(self, name, price=0):")
    }
    assert impacted(impact(tmp_path / "a", base, optional, screen=False)) >= {
        "make",
        "make_named",
        "make_priced",
    }
    report = impact(tmp_path / "b", base, optional, screen=True)
    assert impacted(report) == {"make_priced"}
    assert report.impacted[0].reason.endswith("may pass `price` on to the new parameter")


def test_constructor_instantiators_are_screened_call_by_call(tmp_path: Path) -> None:
    renamed = {
        "shop/models.py": (
            "(self, name):\n        self.name = name",
            "(self, title):\n        self.name = title",
        )
    }
    assert impacted(impact(tmp_path / "b", BASE, renamed, screen=True)) == {"make_named"}


def test_a_signature_change_whose_body_change_escapes_keeps_every_caller(tmp_path: Path) -> None:
    edit = {
        "shop/pricing.py": (
            "(amount, rate):\n    return amount * (1 + rate)",
            "(amount, rate, fee=0):\n    return amount * (1 + rate) + fee",
        )
    }
    assert impacted(impact(tmp_path, BASE, edit, screen=True)) == {"by_position", "by_keyword"}
