import asyncio


class Fetcher:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.seen: set[str] = set()

    async def fetch(self, url: str) -> str:
        await asyncio.sleep(self.delay)
        self.seen.add(url)
        return f"<a>{url}</a>"

    async def fetch_many(self, urls: list[str]) -> list[str]:
        return list(await asyncio.gather(*(self.fetch(u) for u in urls)))
