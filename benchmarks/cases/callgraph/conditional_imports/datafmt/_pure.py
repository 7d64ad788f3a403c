import json


def dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def loads(text: str) -> object:
    return json.loads(text)
