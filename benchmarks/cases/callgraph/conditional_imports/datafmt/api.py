try:
    import orjson as backend
except ImportError:
    from datafmt import _pure as backend

try:
    from datafmt._speedups import fast_checksum as checksum
except ImportError:
    from zlib import crc32 as checksum


def encode(obj: object) -> str:
    return backend.dumps(obj)


def decode(text: str) -> object:
    return backend.loads(text)


def fingerprint(obj: object) -> int:
    return checksum(encode(obj).encode())
