from animals.base import Mammal


class Dog(Mammal):
    def sound(self) -> str:
        return "woof"

    def fetch(self) -> str:
        return self.describe() + " and fetches"


class Puppy(Dog):
    def __init__(self, name: str, age_weeks: int) -> None:
        super().__init__(name)
        self.age_weeks = age_weeks
