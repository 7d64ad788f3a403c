"""The bundled example repository stays green and keeps the shape the demos rely on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeplan.graph import Block, CodeGraph, GraphOptions, build_graph

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INVENTORY = EXAMPLES / "inventory"


@pytest.fixture(scope="module")
def graph() -> CodeGraph:
    return build_graph(INVENTORY, GraphOptions(use_cache=False)).graph


def qualnames(blocks: list[Block]) -> set[str]:
    return {b.qualname for b in blocks}


def test_the_examples_own_tests_pass() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=INVENTORY,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_price_with_tax_is_reached_through_call_chains_across_modules(graph: CodeGraph) -> None:
    price = "inventory/pricing.py::price_with_tax"
    assert {"line_total", "stock_report"} <= qualnames(graph.callers(price))
    line_total = "inventory/pricing.py::line_total"
    assert {"InventoryService.stock_value", "OrderService.quote"} <= qualnames(
        graph.callers(line_total)
    )
    stock_value = "inventory/services.py::InventoryService.stock_value"
    assert {"run", "stock_report"} <= qualnames(graph.callers(stock_value))
    assert any(b.path.startswith("tests/") for b in graph.callers(price))


def test_overrides_and_shared_fields(graph: CodeGraph) -> None:
    assert qualnames(graph.overriders("inventory/models.py::Product.describe")) == {
        "PerishableProduct.describe",
        "DigitalProduct.describe",
    }
    assert qualnames(graph.overriders("inventory/storage.py::ProductRepository.save")) == {
        "InMemoryRepository.save",
        "JsonFileRepository.save",
    }
    assert len(graph.users_of("inventory/models.py::StockItem.quantity")) >= 5
    assert len(graph.users_of("inventory/models.py::Product.unit_price")) >= 2


def test_demo_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "run_demo.py")],
        capture_output=True,
        text=True,
        check=False,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")},
            "COLUMNS": "200",
        },
    )
    assert done.returncode == 0, done.stderr
    # the plan of the seed edit, with the impacted tests, then the propagation, validated
    assert "[pending] inventory/reports.py::stock_report" in done.stdout
    assert "Impacted tests: tests/test_pricing.py::" in done.stdout
    assert "done: fixed point reached and validation passed" in done.stdout
    assert "+        gross = price_with_tax(product.tax_category(), product.unit_price)" in (
        done.stdout
    )
    assert "OPENAI_BASE_URL" in done.stdout  # how to point it at a real model
