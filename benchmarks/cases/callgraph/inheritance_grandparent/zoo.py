from animals.pets import Dog, Puppy


def tour() -> list[str]:
    rex = Dog("Rex")
    bit = Puppy("Bit", 9)
    return [rex.describe(), rex.feed(), rex.fetch(), bit.sound(), bit.feed()]
