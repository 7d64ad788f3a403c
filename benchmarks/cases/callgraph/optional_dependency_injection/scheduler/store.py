class JobStore:
    def __init__(self) -> None:
        self.jobs: dict[str, float] = {}

    def put(self, name: str, when: float) -> None:
        self.jobs[name] = when

    def due(self, now: float) -> list[str]:
        return sorted(name for name, when in self.jobs.items() if when <= now)
