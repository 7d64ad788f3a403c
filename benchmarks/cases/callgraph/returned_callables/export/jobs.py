from export.writers import get_csv_writer, get_text_writer, get_writer_class

ROWS = [["id", "name"], ["1", "Ada"]]


def export_all() -> list[str]:
    csv_out = get_csv_writer(";")
    text_out = get_text_writer()
    writer_cls = get_writer_class()
    json_out = writer_cls()
    return [csv_out(ROWS), text_out(ROWS), json_out(ROWS)]
