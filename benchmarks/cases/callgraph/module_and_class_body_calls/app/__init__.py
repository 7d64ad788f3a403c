from app.plugins import discover

PLUGINS = discover()
