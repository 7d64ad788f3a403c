from . import audit

__all__ = ["audit"]
