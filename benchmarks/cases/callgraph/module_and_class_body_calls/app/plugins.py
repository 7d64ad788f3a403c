def _builtin_plugins() -> list[str]:
    return ["cache", "auth"]


def discover() -> list[str]:
    found = _builtin_plugins()
    found.sort()
    return found
