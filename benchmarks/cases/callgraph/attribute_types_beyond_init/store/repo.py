from store.backend import Database, Session


class BaseRepo:
    session: Session | None = None

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        return self._db

    def begin(self) -> Session:
        self.session = Session(self.db)
        return self.session


class UserRepo(BaseRepo):
    def open(self) -> None:
        self.conn = self.db.connect()

    def count(self) -> int:
        self.open()
        rows = self.conn.execute("SELECT count(*) FROM users")
        self.conn.close()
        return len(rows)

    def rename(self, uid: int, name: str) -> int:
        session = self.begin()
        session.add(f"UPDATE users SET name = '{name}' WHERE id = {uid}")
        if self.session is not None:
            self.session.add("-- audited")
        return session.commit()
