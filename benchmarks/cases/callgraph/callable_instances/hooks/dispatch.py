from hooks.events import Event as Evt
from hooks.events import Handler, audit


def emit(name: str, handler: Handler) -> str:
    return handler(Evt(name, {}))


def emit_audit(name: str) -> str:
    return audit(Evt(name, {"source": "system"}))
