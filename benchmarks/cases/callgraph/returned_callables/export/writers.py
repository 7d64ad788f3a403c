import csv
import io
import json


class CsvWriter:
    def __init__(self, delimiter: str = ",") -> None:
        self.delimiter = delimiter

    def __call__(self, rows: list[list[str]]) -> str:
        buf = io.StringIO()
        csv.writer(buf, delimiter=self.delimiter).writerows(rows)
        return buf.getvalue()


class JsonWriter:
    def __call__(self, rows: list[list[str]]) -> str:
        return json.dumps(rows)


def get_csv_writer(delimiter: str = ",") -> CsvWriter:
    return CsvWriter(delimiter)


def get_text_writer(sep: str = " "):
    def write(rows: list[list[str]]) -> str:
        return "\n".join(sep.join(r) for r in rows)

    return write


def get_writer_class():
    return JsonWriter
