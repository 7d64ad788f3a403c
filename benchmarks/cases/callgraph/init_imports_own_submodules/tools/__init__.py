from . import archive, checksum

__all__ = ["archive", "checksum"]
