def registry_name() -> str:
    return "default"
