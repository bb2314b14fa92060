"""Feeds on 127.0.0.1 -> poll -> article page -> extractor -> stored analysis -> terminal."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from bot.app import build_app
from bot.settings import Settings
from tests.ingest.servers import Handler, LoopbackServer, Request, respond, routes

ARTICLE = b"""<html><body><article><h1>Leaders to meet in Busan</h1>
<p>South Korean President Lee Jae-myung and Japanese Prime Minister Shigeru Ishiba will hold a
summit in Busan on Friday, the presidential office said on Tuesday.</p>
<p>The two leaders are expected to discuss trade and security cooperation at the talks.</p>
<p>"We will work together for peace and prosperity in the region," Lee told reporters.</p>
</article></body></html>"""


def rss(*items: tuple[str, str, str]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>{teaser}</description>"
        f"<pubDate>Tue, 24 Nov 2026 09:00:00 GMT</pubDate></item>"
        for title, link, teaser in items
    )
    channel = f"<channel><title>Loopback Wire</title>{entries}</channel>"
    return f"<rss version='2.0'>{channel}</rss>".encode()


class Site:
    """A feed whose items the test changes between polls, and one article page."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []

    def handler(self) -> Handler:
        async def feed(request: Request, writer: asyncio.StreamWriter) -> None:
            await respond(writer, 200, rss(*self.items), {"Content-Type": "application/rss+xml"})

        async def article(request: Request, writer: asyncio.StreamWriter) -> None:
            await respond(writer, 200, ARTICLE, {"Content-Type": "text/html"})

        return routes({"/feed.xml": feed, "/busan": article})


async def test_summit_story_is_announced_with_facts_and_lookalikes_are_not(
    tmp_path: Path,
) -> None:
    site = Site()
    async with LoopbackServer(site.handler()) as server:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
            allow_hosts=["127.0.0.1"],
            feeds_file=tmp_path / "none.toml",
            parse={"workers": 1},
        )
        out = io.StringIO()
        site.items = [("Markets close higher", server.url("/markets"), "Stocks rose on Monday.")]
        async with build_app(settings, console=out) as app:
            feed = await app.store.add_feed(server.url("/feed.xml"), app.clock())
            first = await app.run_once()
            assert first.outcomes["unchanged"] == 1
            assert "SUMMIT STORY" not in out.getvalue()

            site.items = [
                ("Leaders of South Korea and Japan to meet", server.url("/busan"), "A summit."),
                (
                    "Climbers reach the summit of Everest",
                    server.url("/everest"),
                    "A team of climbers reached the summit of Mount Everest after a week.",
                ),
                ("Bakery wins award", server.url("/bakery"), "A local bakery won a prize."),
                *site.items,
            ]
            second = await app.run_once()
            assert second.new_items == 3

            printed = out.getvalue()
            assert printed.count("NEW SUMMIT STORY") == 1, printed
            assert "Lee Jae-myung (President, South Korea)" in printed
            assert "Shigeru Ishiba (Prime Minister, Japan)" in printed
            assert "Busan, South Korea" in printed
            assert "27 Nov 2026" in printed, "Friday after a Tuesday story, future tense"
            assert "Upcoming" in printed
            assert "why:" in printed
            assert "Everest" not in printed
            assert "Bakery" not in printed

            assert await app.store.item_count(feed.id) == 4
            assert any(r.path == "/busan" for r in server.requests), "the article page was read"
            assert not any(r.path == "/bakery" for r in server.requests), "gated out: no fetch"
