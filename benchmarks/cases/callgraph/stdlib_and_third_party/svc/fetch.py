import json
import os.path

import requests

from svc import logging as svc_logging
from svc.cache import Cache

log = svc_logging.getLogger("fetch")
_cache = Cache()


def fetch_json(url: str) -> dict[str, object]:
    cached = _cache.get(url)
    if cached is not None:
        return json.loads(cached)
    log.info("GET %s", url)
    resp = requests.get(url, timeout=5)
    resp.raise_for_status()
    _cache.set(url, resp.text)
    return resp.json()


def cache_path(name: str) -> str:
    parts = {"dir": os.path.expanduser("~/.cache")}
    base = parts.get("dir", "/tmp")
    return os.path.join(base, name)


def keys_line(keys: list[str]) -> str:
    return ", ".join(sorted(keys))
