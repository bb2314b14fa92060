"""Item keys (issue 14.3): undated items without guid or link stay apart, and a feed that moves
(an adopted 301, a 302 whose target changes) re-announces none of its relative-GUID items."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ingest.fetch import Fetcher, FetchLimits
from bot.ingest.parse import parse_feed
from bot.ingest.poll import Poller, PollPolicy
from bot.ingest.pool import ParserPool
from bot.ingest.safety import AddressPolicy
from bot.storage.store import Store
from tests.fakes import FakeClock, RecordingSink
from tests.ingest.servers import LoopbackServer, Request, feed, respond, routes

HEADERS = {"content-type": "application/rss+xml"}


def rss(*items: str) -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return f'<rss version="2.0"><channel><title>T</title>{body}</channel></rss>'.encode()


def keys(document: bytes, url: str = "http://news.test/feed.xml") -> list[str]:
    return [item.key for item in parse_feed(document, HEADERS, url).items]


def test_undated_items_with_only_a_description_keep_apart() -> None:
    document = rss(
        *(f"<description>Report number {n} from the summit</description>" for n in range(8))
    )
    first = keys(document)
    assert len(first) == len(set(first)) == 8
    assert keys(document) == first


def test_the_same_title_with_different_descriptions_is_two_items() -> None:
    document = rss(
        "<title>Summit update</title><description>Leaders arrive in Hanoi</description>",
        "<title>Summit update</title><description>Talks end early</description>",
    )
    assert len(set(keys(document))) == 2


def test_keys_stored_by_earlier_versions_still_match() -> None:
    """guid, link, title+date and title-only keys are exactly what earlier versions stored."""
    document = rss(
        "<guid>urn:x:1</guid><title>a</title>",
        "<link>https://news.test/a/2</link><title>b</title>",
        "<title>c</title><pubDate>Wed, 02 Dec 2026 04:00:00 GMT</pubDate>",
        "<title>d</title>",
    )
    dated = hashlib.sha256(b"c\n2026-12-02T04:00:00+00:00").hexdigest()
    titled = hashlib.sha256(b"d\n").hexdigest()
    assert keys(document) == [
        "guid:urn:x:1",
        "link:https://news.test/a/2",
        f"hash:{dated}",
        f"hash:{titled}",
    ]


def test_relative_guids_are_keyed_against_the_url_given() -> None:
    document = rss("<guid>items/1</guid><title>a</title>", "<guid>/items/2</guid><title>b</title>")
    assert keys(document, "http://news.test/old/feed.xml") == [
        "guid:http://news.test/old/items/1",
        "guid:http://news.test/items/2",
    ]


RELATIVE = rss(
    "<guid>items/1</guid><title>one</title>",
    "<guid>items/2</guid><title>two</title>",
    "<guid>/abs/3</guid><title>three</title>",
)
RELATIVE_PLUS_ONE = rss(
    "<guid>items/1</guid><title>one</title>",
    "<guid>items/2</guid><title>two</title>",
    "<guid>/abs/3</guid><title>three</title>",
    "<guid>items/4</guid><title>four</title>",
)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[Store, Poller, RecordingSink]]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    limits = FetchLimits(total_timeout=5, max_bytes=1024 * 1024)
    async with Fetcher(AddressPolicy(["127.0.0.1"]), limits) as fetcher, ParserPool(1) as parser:
        sink = RecordingSink()
        yield store, Poller(store, fetcher, parser, sink, PollPolicy(), clock=FakeClock()), sink
    await store.close()


async def test_an_adopted_301_re_announces_nothing(
    rig: tuple[Store, Poller, RecordingSink],
) -> None:
    store, poller, sink = rig
    moved = asyncio.Event()
    body = {"doc": RELATIVE}

    async def old(request: Request, writer: asyncio.StreamWriter) -> None:
        if moved.is_set():
            await respond(writer, 301, headers={"Location": "/new/rss.xml"})
        else:
            await respond(writer, 200, body["doc"], {"Content-Type": "application/rss+xml"})

    async def new(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 200, body["doc"], {"Content-Type": "application/rss+xml"})

    table = {"/old/feed.xml": old, "/new/rss.xml": new}
    async with LoopbackServer(routes(table)) as server:
        info = await store.add_feed(server.url("/old/feed.xml"), FakeClock()())
        await poller.run_cycle()
        moved.set()
        await poller.run_cycle()
        assert (await store.get_feed(info.id)).url == server.url("/new/rss.xml")
        await poller.run_cycle()
        assert sink.published == []
        body["doc"] = RELATIVE_PLUS_ONE
        await poller.run_cycle()
    assert [item.title for item in sink.published] == ["four"]
    assert await store.item_count(info.id) == 4


async def test_a_changing_302_target_re_announces_nothing(
    rig: tuple[Store, Poller, RecordingSink],
) -> None:
    store, poller, sink = rig
    targets = itertools.cycle(["/mirror-a/x/feed.xml", "/mirror-b/y/z/feed.xml"])

    async def rotating(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 302, headers={"Location": next(targets)})

    table = {
        "/feed": rotating,
        "/mirror-a/x/feed.xml": feed(RELATIVE),
        "/mirror-b/y/z/feed.xml": feed(RELATIVE),
    }
    async with LoopbackServer(routes(table)) as server:
        info = await store.add_feed(server.url("/feed"), FakeClock()())
        for _ in range(4):
            report = await poller.run_cycle()
            assert report.outcomes["failed"] == 0
    assert sink.published == []
    assert await store.item_count(info.id) == 3
