class Animal:
    def __init__(self, name: str) -> None:
        self.name = name

    def describe(self) -> str:
        return f"{self.name} says {self.sound()}"

    def sound(self) -> str:
        return "..."


class Mammal(Animal):
    def feed(self) -> str:
        return f"{self.name} drinks milk"
