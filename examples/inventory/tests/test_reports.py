from pathlib import Path

import pytest

from inventory.cli import main
from inventory.reports import low_stock_report, stock_report
from inventory.services import InventoryService


def test_stock_report_shows_gross_unit_prices_and_total(service: InventoryService) -> None:
    report = stock_report(service).splitlines()
    assert report[0].split()[:2] == ["BK-1", "Dune"]
    assert report[0].split()[-2:] == ["3", "9.50"]
    assert "best before 2024-06-03" in report[2]
    assert report[3].split()[-1] == "12.00"
    assert report[-1].split() == ["Total", "value", "921.00"]


def test_low_stock_report(service: InventoryService) -> None:
    assert low_stock_report(service) == "BK-1         3 left at main"
    service.receive("BK-1", 10)
    assert low_stock_report(service) == "No item is low on stock."


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path / "stock.json")]
    assert main([*store, "add", "HW-1", "Hammer", "10.00"]) == 0
    assert main([*store, "receive", "HW-1", "3"]) == 0
    assert main([*store, "value"]) == 0
    assert main([*store, "ship", "HW-1", "9"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == ["added Hammer (HW-1)", "HW-1: 3 in stock", "36.00"]
    assert "only 3 in stock" in err
