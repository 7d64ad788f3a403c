def header(rows: list[dict[str, str]]) -> str:
    return ",".join(rows[0]) if rows else ""


def export(rows: list[dict[str, str]]) -> str:
    return "\n".join(",".join(r.values()) for r in rows)
