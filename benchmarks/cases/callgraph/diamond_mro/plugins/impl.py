from plugins.mixins import CachingMixin, LoggingMixin


class SearchPlugin(LoggingMixin, CachingMixin):
    pass


def boot() -> list[str]:
    p = SearchPlugin()
    steps = p.setup()
    steps.append(p.log("ready"))
    steps.append(p.name())
    return steps
