from querykit.builder import select
from querykit.session import open_session


def active_users(limit: int = 10) -> int:
    return open_session().execute(select("users").where("active = 1").limit(limit))


def latest_sql() -> str:
    return select("events").limit(5).sql()
