from . import checksum


def pack(files: list[str]) -> str:
    return "|".join(files) + "#" + checksum.digest("".join(files))
