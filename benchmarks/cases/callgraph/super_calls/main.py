from net.client import RetryClient


def fetch_profile(token: str) -> str:
    client = RetryClient("https://api.example.com/", token)
    return client.send("/me")
