class Query:
    def __init__(self, table: str) -> None:
        self.table = table
        self.wheres: list[str] = []
        self.limit_n: int | None = None

    def where(self, cond: str) -> "Query":
        self.wheres.append(cond)
        return self

    def limit(self, n: int) -> "Query":
        self.limit_n = n
        return self

    def sql(self) -> str:
        text = f"SELECT * FROM {self.table}"
        if self.wheres:
            text += " WHERE " + " AND ".join(self.wheres)
        if self.limit_n is not None:
            text += f" LIMIT {self.limit_n}"
        return text


def select(table: str) -> Query:
    return Query(table)
