class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.rows: dict[int, dict[str, str]] = {}

    def query(self, key: int) -> dict[str, str] | None:
        return self.rows.get(key)

    def insert(self, key: int, row: dict[str, str]) -> None:
        self.rows[key] = row


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, uid: int, email: str) -> None:
        self.db.insert(uid, {"email": email})

    def load(self, uid: int) -> dict[str, str] | None:
        return self.db.query(uid)
