from ..posts import Post


def item(post: Post) -> str:
    return f"<item><link>{post.url()}</link><p>{post.summary()}</p></item>"


def feed(titles: list[str]) -> str:
    return "".join(item(Post(t, "lorem ipsum dolor sit amet")) for t in titles)
