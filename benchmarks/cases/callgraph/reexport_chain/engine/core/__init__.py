from .loop import run as start
from .loop import stop

__all__ = ["start", "stop"]
