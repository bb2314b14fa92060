"""Article pages through the safe fetcher; main text by trafilatura; teaser on any failure (B3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ingest.article import ArticleReader, extract_main_text, extract_page
from bot.ingest.fetch import Fetcher
from bot.ingest.safety import AddressPolicy
from tests.ingest.servers import Handler, LoopbackServer, Request, respond, routes

BODY = " ".join(
    [
        "The two leaders met for three hours at the presidential palace on Thursday.",
        "They agreed to resume talks on trade and to open a hotline between their capitals.",
        "Officials on both sides described the meeting as frank and constructive.",
    ]
)
PAGE = f"""<!DOCTYPE html><html><head><title>Leaders meet</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Leaders meet in the capital</h1><p>{BODY}</p><p>{BODY}</p></article>
<footer>Copyright newsroom</footer></body></html>""".encode()
HOSTILE = b"""<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY e SYSTEM "file:///etc/hostname">]>
<html><body><article><p>Leaders met today. &e; The talks went on for hours and the two
sides agreed on a joint statement about trade and security in the region.</p>
<p>More paragraphs follow here so that the extractor sees an article body of some length,
with sentences about the meeting, the agenda and what comes next for both governments.</p>
</article></body></html>"""


def html(body: bytes, kind: str = "text/html; charset=utf-8") -> Handler:
    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 200, body, {"Content-Type": kind})

    return handle


@pytest.fixture
async def site() -> AsyncIterator[LoopbackServer]:
    table = {
        "/article": html(PAGE),
        "/hostile": html(HOSTILE),
        "/image": html(b"\x89PNG....", "image/png"),
    }
    async with LoopbackServer(routes(table)) as server:
        yield server


async def test_main_text_is_read_without_navigation(site: LoopbackServer) -> None:
    async with Fetcher(AddressPolicy(["127.0.0.1"])) as fetcher:
        text = await ArticleReader(fetcher).read(site.url("/article"))
    assert text is not None
    assert "presidential palace" in text
    assert "Home" not in text
    assert "Copyright" not in text


async def test_entities_in_pages_are_never_resolved(site: LoopbackServer) -> None:
    secret = Path("/etc/hostname")
    hostname = secret.read_text().strip() if secret.exists() else "no-such-hostname"
    async with Fetcher(AddressPolicy(["127.0.0.1"])) as fetcher:
        text = await ArticleReader(fetcher).read(site.url("/hostile"))
    assert text is None or hostname not in text


async def test_failures_fall_back_to_the_teaser(site: LoopbackServer) -> None:
    async with Fetcher(AddressPolicy(["127.0.0.1"])) as fetcher:
        reader = ArticleReader(fetcher)
        assert await reader.read(site.url("/missing")) is None
        assert await reader.read(site.url("/image")) is None
    async with Fetcher(AddressPolicy()) as fetcher:
        assert await ArticleReader(fetcher).read(site.url("/article")) is None
    assert site.connections == 2, "the refused address was never connected to"


def test_extract_main_text_of_an_empty_page_is_none() -> None:
    assert extract_main_text(b"<html><body></body></html>", "http://x/") is None


def test_the_page_headline_is_not_repeated_in_its_text() -> None:
    title = "Film reaches the summit of the box office"
    html = (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        "<p>The film climbed to the top of the chart this weekend, taking $40 million in "
        "ticket sales across the country, its studio said on Sunday.</p></article></body></html>"
    ).encode()
    page = extract_page(html, "http://127.0.0.1/film")
    assert page is not None
    assert page.title == title
    assert title not in page.text
    assert page.text.startswith("The film climbed")
