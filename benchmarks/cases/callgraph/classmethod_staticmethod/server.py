from config.settings import Settings


def start() -> str:
    settings = Settings.from_env()
    debug = settings.flag("debug")
    strict = Settings.parse_bool("yes")
    return f"workers={settings.workers()} debug={debug} strict={strict}"
