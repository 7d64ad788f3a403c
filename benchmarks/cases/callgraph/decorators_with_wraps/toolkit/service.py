from toolkit.decorators import logged, timed


@timed
def load_user(uid: int) -> dict[str, object]:
    return {"id": uid, "name": f"user{uid}"}


@logged
@timed
def load_users(ids: list[int]) -> list[dict[str, object]]:
    return [load_user(i) for i in ids]


class UserService:
    @logged
    def get(self, uid: int) -> dict[str, object]:
        return load_user(uid)

    def batch(self, ids: list[int]) -> list[dict[str, object]]:
        @timed
        def run() -> list[dict[str, object]]:
            return load_users(ids)

        return run()
