from accounts.notify import Mailer
from accounts.storage import Database, UserRepository


class AppContext:
    db: Database

    def __init__(self, url: str) -> None:
        self.db = Database(url)


class SignupService:
    def __init__(self, ctx: AppContext, mailer: Mailer) -> None:
        self.ctx = ctx
        self.repo = UserRepository(ctx.db)
        self.mailer = mailer

    def signup(self, uid: int, email: str) -> bool:
        if self.ctx.db.query(uid) is not None:
            return False
        self.repo.save(uid, email)
        self.mailer.send(email, "welcome!")
        return True

    def lookup(self, uid: int) -> dict[str, str] | None:
        return self.repo.load(uid)


def wire() -> SignupService:
    return SignupService(AppContext("sqlite://"), Mailer("noreply@example.com"))
