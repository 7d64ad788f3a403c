import tools
from tools import checksum


def backup(files: list[str]) -> str:
    bundle = tools.archive.pack(files)
    if not checksum.verify("".join(files), bundle.rsplit("#", 1)[1]):
        raise ValueError("corrupt bundle")
    return bundle
