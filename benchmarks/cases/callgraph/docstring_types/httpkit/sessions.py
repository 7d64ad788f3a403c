from httpkit.models import Adapter, Response  # noqa: F401 (docstrings name them)


class Session:
    def __init__(self):
        self.adapters = {}

    def get_adapter(self, url):
        """The adapter mounted for `url`.

        :rtype: httpkit.models.Adapter
        """
        for prefix, adapter in self.adapters.items():
            if url.startswith(prefix):
                return adapter
        raise KeyError(url)

    def send(self, url):
        """Send through the mounted adapter.

        Returns:
            Response: what the adapter answered.
        """
        return self.get_adapter(url).send(url)

    def describe(self, response):
        """Summarise a response.

        Args:
            response (Response): a reply.
        """
        return response.text[:10]

    def decode(self, response):
        """Parse a response.

        Parameters
        ----------
        response : Response
            A reply.

        Returns
        -------
        dict
            Its JSON.
        """
        return response.json()

    def maybe(self, response):
        """Either.

        :type response: :class:`~httpkit.models.Response` or None
        :rtype: list of Response
        """
        return [response.json()]
