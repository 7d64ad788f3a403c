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
