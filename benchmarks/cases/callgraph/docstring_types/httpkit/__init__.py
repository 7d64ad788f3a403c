from httpkit.models import Response
from httpkit.sessions import Session

__all__ = ["Response", "Session"]
