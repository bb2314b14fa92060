"""Article pages: fetched through the safe fetcher, main text extracted with trafilatura.

Feeds often carry only a teaser; the summit extractor reads the page when the teaser looks
promising. trafilatura parses HTML with lxml's HTML parser, which never resolves entities or
fetches DTDs (RELIABILITY B3); pages are capped before extraction so it stays fast.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date

import trafilatura

from bot.core.errors import FetchError, NewsbotError
from bot.core.text import without_headline
from bot.ingest.fetch import Fetcher
from bot.ingest.safety import safe_url

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 60_000


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """What an article page says: its headline, main text and date when the page gives one."""

    title: str
    text: str
    published: date | None


def extract_page(html: bytes, url: str) -> ArticlePage | None:
    """Headline, body and date of an HTML article, or None when there is no article text."""
    document = trafilatura.bare_extraction(
        html[:MAX_PAGE_BYTES],
        url=url,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
    )
    text = getattr(document, "text", None)
    if not text or not text.strip():
        return None
    title = str(getattr(document, "title", None) or "").strip()
    # trafilatura keeps the <h1> as the text's first line; the headline must count once only.
    body = without_headline(title, text.strip())
    return ArticlePage(title, body[:MAX_TEXT_CHARS], _iso_date(getattr(document, "date", None)))


def _iso_date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def extract_main_text(html: bytes, url: str) -> str | None:
    """The article body of an HTML page as plain text without its headline, or None."""
    page = extract_page(html, url)
    return page.text or None if page is not None else None


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
                    page = await self._html(url)
                    if page is None:
                        return None
                    return await asyncio.to_thread(extract_main_text, *page)
            except (FetchError, TimeoutError) as exc:
                log.info("article %s not read, using the teaser: %s", safe_url(url), exc)
                return None

    async def page(self, url: str) -> ArticlePage:
        """The article at ``url``; raises FetchError ("address not allowed"…) or NewsbotError."""
        page = await self._html(url)
        if page is None:
            raise NewsbotError(f"{safe_url(url)} is not an HTML page")
        article = await asyncio.to_thread(extract_page, *page)
        if article is None:
            raise NewsbotError(f"no article text found at {safe_url(url)}")
        return article

    async def _html(self, url: str) -> tuple[bytes, str] | None:
        page = await self._fetcher.fetch_page(url)
        kind = page.headers.get("content-type", "text/html").lower()
        if page.status != 200 or ("html" not in kind and "xml" not in kind):
            return None
        return page.body, page.final_url
