_state = {"running": False, "ticks": 0}


def _tick() -> None:
    _state["ticks"] += 1


def run(ticks: int = 1) -> int:
    _state["running"] = True
    for _ in range(ticks):
        _tick()
    return ticks


def stop() -> None:
    _state["running"] = False
