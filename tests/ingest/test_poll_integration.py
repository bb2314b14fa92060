"""The poller with the real fetcher, parser pool and SQLite over loopback servers (A4-A7)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.ingest.fetch import Fetcher, FetchLimits
from bot.ingest.poll import Poller, PollPolicy
from bot.ingest.pool import ParserPool
from bot.ingest.safety import AddressPolicy
from bot.storage.store import Store
from tests.fakes import FakeClock, RecordingSink
from tests.ingest.servers import (
    RSS,
    Handler,
    LoopbackServer,
    Request,
    feed,
    redirect,
    respond,
    routes,
)


@dataclass
class Rig:
    store: Store
    poller: Poller
    sink: RecordingSink
    clock: FakeClock


def trickle() -> Handler:
    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n<rss>")
        await writer.drain()
        while True:
            await asyncio.sleep(1)
            writer.write(b" ")
            await writer.drain()

    return handle


def gzip_bomb() -> Handler:
    body = gzip.compress(b"<rss>" + b" " * (40 * 1024 * 1024), 9)

    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(
            writer,
            200,
            body,
            {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"},
        )

    return handle


def html_page() -> Handler:
    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(
            writer, 200, b"<html><body>not a feed</body></html>", {"Content-Type": "text/html"}
        )

    return handle


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    table = {
        "/feed": feed(),
        "/moved": redirect("/feed", 301),
        "/moved-to-page": redirect("/page", 301),
        "/found": redirect("/feed", 302),
        "/page": html_page(),
        "/slow": trickle(),
        "/bomb": gzip_bomb(),
    }
    async with LoopbackServer(routes(table)) as srv:
        yield srv


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'rig.db'}")
    limits = FetchLimits(total_timeout=1.5, max_bytes=1024 * 1024)
    async with Fetcher(AddressPolicy(["127.0.0.1"]), limits) as fetcher, ParserPool(1) as parser:
        clock, sink = FakeClock(), RecordingSink()
        poller = Poller(store, fetcher, parser, sink, PollPolicy(), clock=clock)
        yield Rig(store, poller, sink, clock)
    await store.close()


async def test_a7_a_301_to_a_working_feed_is_persisted(rig: Rig, server: LoopbackServer) -> None:
    feed_info = await rig.store.add_feed(server.url("/moved"), rig.clock())
    report = await rig.poller.run_cycle()
    assert report.outcomes == {"unchanged": 1}
    assert (await rig.store.get_feed(feed_info.id)).url == server.url("/feed")


async def test_a7_a_302_is_never_persisted(rig: Rig, server: LoopbackServer) -> None:
    feed_info = await rig.store.add_feed(server.url("/found"), rig.clock())
    await rig.poller.run_cycle()
    assert (await rig.store.get_feed(feed_info.id)).url == server.url("/found")


async def test_a7_a_301_to_a_non_feed_is_not_persisted(rig: Rig, server: LoopbackServer) -> None:
    feed_info = await rig.store.add_feed(server.url("/moved-to-page"), rig.clock())
    report = await rig.poller.run_cycle()
    assert report.outcomes == {"failed": 1}
    info = await rig.store.get_feed(feed_info.id)
    assert info.url == server.url("/moved-to-page")
    assert info.last_error


async def test_a7_a_301_to_a_private_address_is_refused(tmp_path: Path) -> None:
    async def to_private(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 301, headers={"Location": "http://169.254.169.254/latest/"})

    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    async with (
        LoopbackServer(to_private, host="127.0.0.2") as public,
        Fetcher(AddressPolicy(["127.0.0.2"])) as fetcher,
        ParserPool(1) as parser,
    ):
        poller = Poller(store, fetcher, parser, RecordingSink(), PollPolicy(), clock=FakeClock())
        info = await store.add_feed(public.url("/"), FakeClock()())
        await poller.run_cycle()
        after = await store.get_feed(info.id)
        assert after.url == public.url("/")
        assert "address not allowed" in (after.last_error or "")
    await store.close()


async def test_a4_a5_a_bomb_and_a_trickle_fail_alone_while_others_poll(
    rig: Rig, server: LoopbackServer
) -> None:
    slow = await rig.store.add_feed(server.url("/slow"), rig.clock())
    bomb = await rig.store.add_feed(server.url("/bomb"), rig.clock())
    good = await rig.store.add_feed(server.url("/feed"), rig.clock())
    cycle = asyncio.create_task(rig.poller.run_cycle())
    while await rig.store.item_count(good.id) == 0:
        await asyncio.sleep(0.02)
    assert not cycle.done(), "the good feed finished while the slow one was still trickling"
    report = await cycle
    assert report.outcomes == {"failed": 2, "unchanged": 1}
    assert "too large" in ((await rig.store.get_feed(bomb.id)).last_error or "")
    assert "timeout" in ((await rig.store.get_feed(slow.id)).last_error or "")
    retry = (await rig.store.get_feed(slow.id)).next_poll_at
    assert retry is not None
    assert retry - rig.clock() == timedelta(minutes=5)


async def test_items_of_the_real_parser_are_stored_once(rig: Rig, server: LoopbackServer) -> None:
    info = await rig.store.add_feed(server.url("/feed"), rig.clock())
    await rig.poller.run_cycle()
    await rig.poller.run_cycle()
    assert await rig.store.item_count(info.id) == RSS.count(b"<item>")
    assert rig.sink.published == []
