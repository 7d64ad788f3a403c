import json


def encode(obj: dict[str, object]) -> str:
    return json.dumps(obj, sort_keys=True)


def decode(text: str) -> dict[str, object]:
    return json.loads(text)
