class Connection:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.closed = False

    def execute(self, sql: str) -> list[tuple[object, ...]]:
        return [(sql,)]

    def close(self) -> None:
        self.closed = True


class Database:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def connect(self) -> Connection:
        return Connection(self.dsn)


class Session:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: list[str] = []

    def add(self, sql: str) -> None:
        self.pending.append(sql)

    def commit(self) -> int:
        conn = self.db.connect()
        for sql in self.pending:
            conn.execute(sql)
        conn.close()
        count = len(self.pending)
        self.pending.clear()
        return count
