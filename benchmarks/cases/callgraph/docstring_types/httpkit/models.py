class Response:
    def __init__(self, body):
        self.body = body

    @property
    def text(self):
        return self.body.decode()

    def json(self):
        return {"body": self.text}


class Adapter:
    def send(self, url):
        """Send a request.

        :param str url: where to.
        :rtype: httpkit.Response
        """
        raise NotImplementedError
