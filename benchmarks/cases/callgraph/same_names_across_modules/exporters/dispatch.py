from exporters import csv_export, tsv_export
from exporters.tsv_export import header


class Exporter:
    def export(self, rows: list[dict[str, str]]) -> str:
        return csv_export.export(rows)


class TsvExporter(Exporter):
    def export(self, rows: list[dict[str, str]]) -> str:
        return header(rows) + "\n" + tsv_export.export(rows)


def export(rows: list[dict[str, str]], fmt: str = "csv") -> str:
    if fmt == "tsv":
        return TsvExporter().export(rows)
    return csv_export.header(rows) + "\n" + Exporter().export(rows)
