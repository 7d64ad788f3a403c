from .post import Post

__all__ = ["Post"]
