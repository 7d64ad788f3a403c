def record(event: str) -> str:
    return f"audit:{event}"
