from querykit.builder import Query


class Session:
    def __init__(self) -> None:
        self.log: list[str] = []

    def execute(self, query: Query) -> int:
        self.log.append(query.sql())
        return len(self.log)


def open_session() -> Session:
    return Session()
