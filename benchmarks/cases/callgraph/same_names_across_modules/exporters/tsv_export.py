def header(rows: list[dict[str, str]]) -> str:
    return "\t".join(rows[0]) if rows else ""


def export(rows: list[dict[str, str]]) -> str:
    return "\n".join("\t".join(r.values()) for r in rows)
