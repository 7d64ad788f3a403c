from .. import utils
from ..utils import slugify as make_slug


class Post:
    def __init__(self, title: str, body: str) -> None:
        self.title = title
        self.body = body
        self.slug = make_slug(title)

    def summary(self, words: int = 5) -> str:
        return " ".join(self.body.split()[:words])

    def url(self) -> str:
        return "/posts/" + utils.slugify(self.title)
