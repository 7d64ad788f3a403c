from .core import *  # noqa: F403
from .version import VERSION

__all__ = ["VERSION", "start", "stop"]  # noqa: F405
