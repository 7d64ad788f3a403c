from .backends import MemoryBackend
from .codec import decode
from .codec import encode as serialize

__all__ = ["MemoryBackend", "decode", "serialize"]
