"""Splicing editor answers into files (codeplan.edit.apply) and class sketches (.sketch)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from codeplan.edit.apply import (
    Applied,
    ApplyOutcome,
    Rejected,
    Unchanged,
    apply_answer,
    block_text,
    edit_region,
)
from codeplan.edit.indent import reindent
from codeplan.edit.sketch import Sketch, make_outline, make_sketch
from codeplan.graph import GraphOptions, build_graph
from codeplan.graph.codegraph import CodeGraph
from codeplan.graph.model import Block, BlockKind, Edge, Relation
from codeplan.graph.registry import default_analyzers

INVENTORY = Path(__file__).resolve().parents[1] / "examples" / "inventory"


def extract(path: str, source: bytes) -> tuple[Block, ...]:
    analyzer = next(a for a in default_analyzers() if path.endswith(a.extensions))
    return analyzer.extract(path, source).blocks


def find(path: str, source: bytes, qualname: str) -> Block:
    return next(b for b in extract(path, source) if b.qualname == qualname)


def graph_of(path: str, source: bytes) -> CodeGraph:
    graph = CodeGraph()
    blocks = extract(path, source)
    for block in blocks:
        graph.add_block(block)
    for block in blocks:
        if block.parent is not None:
            graph.add_edge(Edge(block.parent, block.id, Relation.PARENT_OF))
    return graph


def applied(outcome: ApplyOutcome) -> str:
    assert isinstance(outcome, Applied), outcome
    return outcome.new_file.decode("utf-8")


def edit(source: str, qualname: str, answer: str, path: str = "m.py") -> ApplyOutcome:
    data = source.encode()
    return apply_answer(data, find(path, data, qualname), answer)


def rejection(outcome: ApplyOutcome) -> str:
    assert isinstance(outcome, Rejected), outcome
    return outcome.reason


MODULE = dedent(
    '''\
    """Prices."""

    RATE = 20


    def price_with_tax(price: float) -> float:
        return price * (1 + RATE / 100)


    class Cart:
        total = 0

        def add(self, price: float) -> None:
            self.total += price

        @property
        def empty(self) -> bool:
            return self.total == 0
    '''
)


def test_top_level_function_is_replaced() -> None:
    answer = "def price_with_tax(price: float) -> float:\n    return round(price * 1.2, 2)\n"
    after = applied(edit(MODULE, "price_with_tax", answer))
    assert after == MODULE.replace(
        "return price * (1 + RATE / 100)", "return round(price * 1.2, 2)"
    )


@pytest.mark.parametrize(
    "answer",
    [
        "def add(self, price: float) -> None:\n    self.total += abs(price)",  # flush left
        "            def add(self, price: float) -> None:\n"
        "                self.total += abs(price)",  # over-indented
        "def add(self, price: float) -> None:\n        self.total += abs(price)",  # .strip()ped
    ],
)
def test_method_answer_is_reindented(answer: str) -> None:
    after = applied(edit(MODULE, "Cart.add", answer))
    assert after == MODULE.replace("self.total += price", "self.total += abs(price)")


def test_decorated_method_keeps_its_decorator_in_place() -> None:
    answer = "@property\ndef empty(self) -> bool:\n    return not self.total"
    after = applied(edit(MODULE, "Cart.empty", answer))
    assert after == MODULE.replace("return self.total == 0", "return not self.total")
    stripped = "@property\n    def empty(self) -> bool:\n        return not self.total"
    assert applied(edit(MODULE, "Cart.empty", stripped)) == after


def test_blank_lines_around_the_answer_are_dropped() -> None:
    answer = "\n\n    def add(self, price: float) -> None:\n\n        self.total += 2 * price\n\n\n"
    after = applied(edit(MODULE, "Cart.add", answer))
    assert after == MODULE.replace(
        "None:\n        self.total += price", "None:\n\n        self.total += 2 * price"
    )


def test_the_blocks_own_text_is_unchanged() -> None:
    data = MODULE.encode()
    block = find("m.py", data, "Cart.add")
    text = block_text(data, block)
    assert text.startswith("    def add(")
    assert isinstance(apply_answer(data, block, text), Unchanged)
    assert isinstance(apply_answer(data, block, text.replace("\n", "   \n") + "\n\n"), Unchanged)
    assert isinstance(apply_answer(data, block, dedent(text)), Unchanged)


def test_an_answer_that_does_not_parse_is_rejected_with_its_line() -> None:
    answer = "def add(self, price: float) -> None:\n    x = 1\n    self.total += (price\n"
    reason = rejection(edit(MODULE, "Cart.add", answer))
    assert reason.startswith("the answer does not parse: line 3:") or "line 3" in reason, reason


def test_extra_definitions_are_rejected() -> None:
    answer = (
        "def helper() -> int:\n    return 1\n\n\ndef price_with_tax(price):\n    return price\n"
    )
    reason = rejection(edit(MODULE, "price_with_tax", answer))
    assert reason == (
        "the answer defines `helper` besides `price_with_tax`; answer only the requested block"
    )


def test_renaming_is_an_edit_but_turning_a_def_into_a_class_is_not() -> None:
    outcome = edit(MODULE, "price_with_tax", "def gross(price):\n    return price")
    assert isinstance(outcome, Applied)
    assert outcome.renames == (("price_with_tax", "gross"),)
    reason = rejection(edit(MODULE, "price_with_tax", "class price_with_tax:\n    pass"))
    assert "turns the function `price_with_tax` into a class" in reason


def test_empty_answers_are_rejected() -> None:
    assert "deleting a block is not supported" in rejection(edit(MODULE, "Cart.add", " \n\n "))


def test_a_field_answer_may_not_define_functions() -> None:
    reason = rejection(edit(MODULE, "Cart.total", "def total(self):\n    return 0"))
    assert "may only hold statements" in reason
    assert applied(edit(MODULE, "Cart.total", "total: float = 0.0")) == MODULE.replace(
        "total = 0\n", "total: float = 0.0\n"
    )


def test_crlf_files_stay_crlf() -> None:
    data = MODULE.replace("\n", "\r\n").encode()
    block = find("m.py", data, "Cart.add")
    outcome = apply_answer(data, block, "def add(self, price):\n    self.total += price\n")
    assert isinstance(outcome, Applied)
    expected = MODULE.replace("price: float) -> None:", "price):").replace("\n", "\r\n")
    assert outcome.new_file == expected.encode()
    assert isinstance(apply_answer(data, block, block_text(data, block)), Unchanged)


def test_non_ascii_text_before_the_block_is_counted_in_bytes() -> None:
    source = MODULE.replace('"""Prices."""', '"""Prix en € — déjà taxés ✓."""')
    after = applied(edit(source, "Cart.add", "def add(self, price):\n    self.total += price"))
    assert after == source.replace("price: float) -> None:", "price):")


def test_a_javascript_function_is_replaced() -> None:
    source = "// ü\nfunction total(items) {\n  return items.length;\n}\n\nconst x = 1;\n"
    answer = "function total(items) {\n  return items.reduce((a, b) => a + b, 0);\n}"
    after = applied(edit(source, "total", answer, path="a.js"))
    assert after == source.replace("items.length", "items.reduce((a, b) => a + b, 0)")
    assert "does not parse" in rejection(edit(source, "total", "function total( {", path="a.js"))


def test_a_java_method_is_replaced() -> None:
    source = dedent(
        """\
        package shop;

        class Cart {
            private int total;

            @Override
            public String toString() {
                return "Cart";
            }
        }
        """
    )
    answer = '@Override\npublic String toString() {\n    return "Cart(" + total + ")";\n}'
    block = find("shop/Cart.java", source.encode(), "Cart.toString")
    after = applied(apply_answer(source.encode(), block, answer))
    assert after == source.replace('return "Cart";', 'return "Cart(" + total + ")";')
    reason = rejection(apply_answer(source.encode(), block, "class Other {}"))
    assert "into a class" in reason


def test_code_before_a_block_on_its_line_is_not_repeated() -> None:
    source = "export function f(a) {\n  return a;\n}\nexport const g = (x) => x + 1;\n"
    answer = "export const g = (x) => x + 2;"  # the editor was shown `const g = ...`
    after = applied(edit(source, "g", answer, path="a.ts"))
    assert after == source.replace("x + 1", "x + 2")


def test_a_module_block_keeps_the_final_newline() -> None:
    assert applied(edit(MODULE, "", "RATE = 21\n\n")) == "RATE = 21\n"


def test_reindent_preserves_tabs_and_inner_blank_lines() -> None:
    assert reindent("\tdef f():\n\n\t\treturn 1\n", "\t") == "\tdef f():\n\n\t\treturn 1"
    assert reindent("def f():\n    return 1", "    ") == "    def f():\n        return 1"


# -- sketches -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inventory() -> CodeGraph:
    return build_graph(INVENTORY, GraphOptions(use_cache=False)).graph


def test_sketch_folds_the_other_members_of_the_class(inventory: CodeGraph) -> None:
    data = (INVENTORY / "inventory" / "services.py").read_bytes()
    sketch = make_sketch(data, inventory, inventory.find("InventoryService.receive")[0])
    assert sketch is not None
    assert sketch.text == dedent(
        '''\
        class InventoryService:
            def __init__(self, repository: ProductRepository, low_stock_threshold: int = 5) -> None:
                ...

            def register(self, product: Product, quantity: int = 0) -> StockItem:
                ...

            def receive(self, sku: str, quantity: int) -> StockItem:
                item = self.repository.get(sku)
                item.quantity += quantity
                self.repository.save(item)
                return item

            def available(self, sku: str, today: date | None = None) -> int:
                """Units that can be sold today (none once a perishable product has expired)."""
                ...

            def ship(self, sku: str, quantity: int, today: date | None = None) -> StockItem:
                ...

            def stock_value(self) -> Decimal:
                """What the stock on hand would fetch at gross prices."""
                ...

            def low_stock(self) -> list[StockItem]:
                ...'''
    )
    assert [m.folded for m in sketch.members] == [True, True, False, True, True, True, True]
    assert sketch.target_qualname == "InventoryService.receive"
    assert make_sketch(data, inventory, inventory.find("InventoryService")[0]) is None
    field = inventory.find("InventoryService.repository")[0]  # assigned inside __init__
    assert make_sketch(data, inventory, field) is None


SHOP = dedent(
    '''\
    class Shop:
        """A shop."""

        tax = 20

        def gross(self, net):
            """The gross price.

            Rounded to cents.
            """
            return round(net * (1 + self.tax / 100), 2)

        def quote(self, net):
            return self.gross(net)

        def close(self):
            self.closed = True
    '''
)


def shop_sketch(qualname: str) -> tuple[bytes, Block, Sketch]:
    data = SHOP.encode()
    graph = graph_of("shop.py", data)
    block = graph.find(qualname)[0]
    sketch = make_sketch(data, graph, block)
    assert sketch is not None
    return data, block, sketch


def test_merge_keeps_the_folded_body_under_a_new_signature() -> None:
    data, block, sketch = shop_sketch("Shop.quote")
    assert '"""The gross price."""\n        ...' in sketch.text
    answer = (
        sketch.text.replace("def gross(self, net):", "def gross(self, net, tax=None):")
        .replace("return self.gross(net)", "return self.gross(net, tax=self.tax)")
        .replace(
            "    def close", "    def open(self):\n        self.closed = False\n\n    def close"
        )
    )
    outcome = apply_answer(data, block, answer, sketch=sketch)
    assert isinstance(outcome, Applied)
    assert outcome.new_file.decode() == SHOP.replace(
        "def gross(self, net):", "def gross(self, net, tax=None):"
    ).replace("return self.gross(net)", "return self.gross(net, tax=self.tax)").replace(
        "tax=self.tax)\n", "tax=self.tax)\n\n    def open(self):\n        self.closed = False\n"
    )
    assert outcome.edited_qualnames == ("Shop.gross", "Shop.quote", "Shop.open")


def test_merge_adds_trailing_members_at_the_class_end_and_applies_the_header() -> None:
    data, block, sketch = shop_sketch("Shop.quote")
    answer = (
        sketch.text.replace("class Shop:", "class Shop(Base):")
        + "\n\n    def extra(self):\n        pass\n"
    )
    after = applied(apply_answer(data, block, dedent(answer), sketch=sketch))
    assert after == SHOP.replace("class Shop:", "class Shop(Base):") + (
        "\n    def extra(self):\n        pass\n"
    )


def test_merge_rejects_a_dropped_member_and_accepts_the_plain_block() -> None:
    data, block, sketch = shop_sketch("Shop.quote")
    answer = sketch.text.replace("    def close(self):\n        ...", "")
    reason = rejection(apply_answer(data, block, answer, sketch=sketch))
    assert reason == "the answer dropped `close`; keep all members or answer only the block"
    plain = "def quote(self, net):\n    return self.gross(net) + 1"
    after = applied(apply_answer(data, block, plain, sketch=sketch))
    assert after == SHOP.replace("return self.gross(net)", "return self.gross(net) + 1")
    assert isinstance(apply_answer(data, block, sketch.text, sketch=sketch), Unchanged)


def test_merge_matches_repeated_names_in_order_and_keeps_crlf() -> None:
    source = dedent(
        """\
        class A:
            @property
            def v(self):
                return self._v

            @v.setter
            def v(self, value):
                self._v = value

            def target(self):
                return 1
        """
    ).replace("\n", "\r\n")
    data = source.encode()
    graph = graph_of("a.py", data)
    block = graph.find("A.target")[0]
    sketch = make_sketch(data, graph, block)
    assert sketch is not None
    answer = (
        sketch.text.replace("\r\n", "\n")
        .replace("def v(self, value):", "def v(self, value: int):")
        .replace("def target(self):", "def goal(self):")
    )
    outcome = apply_answer(data, block, answer, sketch=sketch)
    assert isinstance(outcome, Applied)
    assert outcome.new_file == data.replace(b"value):", b"value: int):").replace(b"target", b"goal")
    assert outcome.edited_qualnames == ("A.v#2", "A.target")
    assert outcome.renames == (("A.target", "A.goal"),)
    reason = rejection(
        apply_answer(data, block, sketch.text.replace("def target", "class target"), sketch=sketch)
    )
    assert "turns `target` from a def into a class" in reason
    setter = graph.find("A.v#2")[0]
    plain = apply_answer(data, setter, "@v.setter\ndef v(self, value):\n    self._v = int(value)")
    assert isinstance(plain, Applied)
    assert plain.renames == ()
    assert plain.new_file == data.replace(b"= value", b"= int(value)")


# -- round trips ----------------------------------------------------------------------------

DEFINITIONS = (BlockKind.FUNCTION, BlockKind.METHOD, BlockKind.CLASS)


def test_every_definition_round_trips(inventory: CodeGraph) -> None:
    checked = 0
    for path in inventory.paths():
        data = (INVENTORY / path).read_bytes()
        for block in inventory.blocks_in(path):
            if block.kind not in DEFINITIONS:
                continue
            text = block_text(data, block)
            assert isinstance(apply_answer(data, block, text), Unchanged), block.id
            lines = text.split("\n")
            body_indent = next(
                line[: len(line) - len(line.lstrip())] for line in reversed(lines) if line.strip()
            )
            changed = text + "\n" + body_indent + "# reviewed"
            outcome = apply_answer(data, block, changed, sketch=make_sketch(data, inventory, block))
            assert isinstance(outcome, Applied), (block.id, outcome)
            start, end = edit_region(data, block)
            new = outcome.new_file
            assert new[:start] == data[:start], block.id
            assert new[len(new) - (len(data) - end) :] == data[end:], block.id
            assert new[start:].startswith(text.encode() + b"\n"), block.id
            checked += 1
    assert checked > 40


# -- outlines -------------------------------------------------------------------------------

SHOP_OUTLINE = dedent(
    '''\
    class Shop:
        """A shop."""

        tax = 20

        def gross(self, net):
            """The gross price."""
            ...

        def quote(self, net):
            ...

        def close(self):
            ...'''
)


def shop_outline() -> tuple[bytes, Block, Sketch]:
    data = SHOP.encode()
    graph = graph_of("shop.py", data)
    block = graph.find("Shop")[0]
    outline = make_outline(data, graph, block)
    assert outline is not None
    assert make_outline(data, graph, graph.find("Shop.quote")[0]) is None
    return data, block, outline


def test_an_outline_folds_every_member_of_the_class() -> None:
    _, _, outline = shop_outline()
    assert outline.text == SHOP_OUTLINE
    assert outline.is_outline and outline.target_qualname == "Shop"
    assert [m.folded for m in outline.members] == [False, True, True, True]


def test_an_edited_outline_is_merged_member_by_member() -> None:
    data, block, outline = shop_outline()
    answer = (
        outline.text.replace("class Shop:", "class Shop(Base):")
        .replace("def gross(self, net):", "def gross(self, net, tax=None):")
        .replace("    def close(self):\n        ...", "    def close(self):\n        pass")
        + "\n\n    def open(self):\n        self.closed = False"
    )
    outcome = apply_answer(data, block, answer, sketch=outline)
    assert isinstance(outcome, Applied), outcome
    assert outcome.new_file.decode() == dedent(
        '''\
        class Shop(Base):
            """A shop."""

            tax = 20

            def gross(self, net, tax=None):
                """The gross price.

                Rounded to cents.
                """
                return round(net * (1 + self.tax / 100), 2)

            def quote(self, net):
                return self.gross(net)

            def close(self):
                pass

            def open(self):
                self.closed = False
        '''
    )
    assert outcome.edited_qualnames == ("Shop.gross", "Shop.close", "Shop.open", "Shop")


def test_an_outline_answer_keeps_every_member_and_the_class() -> None:
    data, block, outline = shop_outline()
    dropped = outline.text.replace("\n\n    def quote(self, net):\n        ...", "")
    assert rejection(apply_answer(data, block, dropped, sketch=outline)) == (
        "the answer dropped `quote`; keep all members"
    )
    # never spliced as the class's own text: that would fold the file's bodies away
    reason = rejection(apply_answer(data, block, "def quote(self, net):\n    ...", sketch=outline))
    assert "whole outline of class `Shop`" in reason
    assert isinstance(apply_answer(data, block, outline.text, sketch=outline), Unchanged)
    assert isinstance(apply_answer(data, block, SHOP, sketch=outline), Unchanged)
