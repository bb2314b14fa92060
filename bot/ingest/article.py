"""Article pages: fetched through the safe fetcher, main text extracted with trafilatura.

Feeds often carry only a teaser; the summit extractor reads the page when the teaser looks
promising. trafilatura parses HTML with lxml's HTML parser, which never resolves entities or
fetches DTDs (RELIABILITY B3); pages are capped before extraction so it stays fast.
"""

from __future__ import annotations

import asyncio
import logging

import trafilatura

from bot.core.errors import FetchError
from bot.ingest.fetch import Fetcher
from bot.ingest.safety import safe_url

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 60_000


def extract_main_text(html: bytes, url: str) -> str | None:
    """The article body of an HTML page as plain text, or None when there is none."""
    text = trafilatura.extract(
        html[:MAX_PAGE_BYTES],
        url=url,
        include_comments=False,
        include_tables=False,
        include_links=False,
        include_images=False,
        deduplicate=True,
    )
    if not text or not text.strip():
        return None
    return text.strip()[:MAX_TEXT_CHARS]


class ArticleReader:
    """Fetches article pages and returns their main text; any failure means "use the teaser"."""

    def __init__(self, fetcher: Fetcher, *, timeout: float = 15.0, concurrency: int = 4) -> None:
        self._fetcher = fetcher
        self._timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)

    async def read(self, url: str) -> str | None:
        """The main text of the page at ``url``, or None (refused, failed, not HTML, empty)."""
        async with self._slots:
            try:
                async with asyncio.timeout(self._timeout):
                    page = await self._fetcher.fetch_page(url)
                    kind = page.headers.get("content-type", "text/html").lower()
                    if page.status != 200 or ("html" not in kind and "xml" not in kind):
                        return None
                    return await asyncio.to_thread(extract_main_text, page.body, page.final_url)
            except (FetchError, TimeoutError) as exc:
                log.info("article %s not read, using the teaser: %s", safe_url(url), exc)
                return None
