"""Command-line interface: a thin typer layer over the library (`codeplan --help`)."""

from codeplan.cli.app import app, main

__all__ = ["app", "main"]
