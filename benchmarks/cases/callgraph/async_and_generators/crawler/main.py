import asyncio

from crawler.fetcher import Fetcher
from crawler.links import absolute, iter_links


async def crawl(seed: str) -> list[str]:
    fetcher = Fetcher()
    page = await fetcher.fetch(seed)
    links = [absolute(seed, link) for link in iter_links(page)]
    return await fetcher.fetch_many(links)


def run(seed: str) -> list[str]:
    return asyncio.run(crawl(seed))
