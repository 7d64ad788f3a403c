import engine
from engine import start


def play() -> str:
    start(3)
    engine.stop()
    return engine.VERSION
