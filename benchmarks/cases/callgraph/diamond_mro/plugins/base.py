class Plugin:
    def setup(self) -> list[str]:
        return ["plugin"]

    def name(self) -> str:
        return type(self).__name__.lower()
