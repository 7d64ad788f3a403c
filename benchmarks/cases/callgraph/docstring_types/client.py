from httpkit import Session


def fetch_text(url):
    reply = Session().send(url)
    return reply.text


def fetch_json(session, url):
    """Fetch a document.

    :type session: httpkit.sessions.Session
    """
    return session.send(url).json()


def unknown(session, url):
    """Fetch with a session documented in prose only: no type to read."""
    return session.send(url)


class Poller:
    """Fetches on a schedule.

    Args:
        session (httpkit.sessions.Session): what it fetches with.
        interval (float): seconds between fetches.
    """

    def __init__(self, session, interval):
        self.session = session
        self.interval = interval

    def poll(self, url):
        return self.session.send(url).json()


class Monitor:
    """Watches a site.

    Attributes:
        session (httpkit.sessions.Session): made by a factory this module cannot see.
    """

    def __init__(self, factory):
        self.session = factory()

    def check(self, url):
        return self.session.send(url).text


class Tracker:
    """Keeps the last reply.

    :ivar last: the latest reply.
    :vartype last: httpkit.models.Response
    """

    def __init__(self):
        self.last = None

    def summary(self):
        return self.last.json()
