"""The `inventory` command line: `python -m inventory --store stock.json COMMAND ...`."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from inventory.errors import InventoryError
from inventory.models import Product
from inventory.reports import format_money, low_stock_report, stock_report
from inventory.services import InventoryService
from inventory.storage import JsonFileRepository


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inventory", description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("stock.json"))
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="register a product")
    add.add_argument("sku")
    add.add_argument("name")
    add.add_argument("unit_price")
    add.add_argument("--category", default="general")
    for name in ("receive", "ship"):
        move = commands.add_parser(name, help=f"{name} units of a product")
        move.add_argument("sku")
        move.add_argument("quantity", type=int)
    commands.add_parser("report", help="print the stock report")
    commands.add_parser("low", help="list items that are low on stock")
    commands.add_parser("value", help="print the gross value of the stock")
    return parser


def run(args: argparse.Namespace) -> str:
    service = InventoryService(JsonFileRepository(args.store))
    if args.command == "add":
        try:
            price = Decimal(args.unit_price)
        except InvalidOperation:
            raise InventoryError(f"not a price: {args.unit_price!r}") from None
        item = service.register(Product(args.sku, args.name, price, args.category))
        return f"added {item.product.describe()}"
    if args.command == "receive":
        item = service.receive(args.sku, args.quantity)
        return f"{item.product.sku}: {item.quantity} in stock"
    if args.command == "ship":
        item = service.ship(args.sku, args.quantity)
        return f"{item.product.sku}: {item.quantity} in stock"
    if args.command == "report":
        return stock_report(service)
    if args.command == "low":
        return low_stock_report(service)
    return format_money(service.stock_value())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(run(args))
    except InventoryError as exc:
        print(f"inventory: {exc}", file=sys.stderr)
        return 1
    return 0
